use workflow::prelude::*;

#[task]
fn one() -> i64 {
    1
}

#[task]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn main() {
    let _ = add::bind("x", one::bind());
}
