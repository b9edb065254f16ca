use workflow::prelude::*;

#[task]
fn greet(name: &str) -> String {
    format!("hello {name}")
}

fn main() {
    let _ = greet::bind("world");
}
