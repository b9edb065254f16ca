use workflow::prelude::*;

#[task(priority = 1)]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn main() {
    let _ = add::bind(1, 2);
}
