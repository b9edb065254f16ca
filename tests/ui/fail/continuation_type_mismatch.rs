use workflow::prelude::*;

#[task]
fn greet(name: String) -> String {
    format!("hello {name}")
}

#[task]
fn count(n: u64) -> Flow<u64> {
    workflow::continuation(greet::bind("x"))
}

fn main() {}
