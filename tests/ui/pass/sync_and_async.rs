use workflow::prelude::*;

#[task]
fn one() -> i64 {
    1
}

/// Adds two numbers.
#[task]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[task]
async fn double(x: i64) -> i64 {
    x * 2
}

#[task]
fn log(_line: String) {}

fn main() {
    // The functions stay callable as written.
    assert_eq!(add(1, 2), 3);

    let _sum: Dag<i64> = add::bind(100, one::bind());
    let _doubled: Dag<i64> = double::bind(add::bind(one::bind(), 2));
    let _unit: Dag<()> = log::bind("hello");
}
