use workflow::prelude::*;

#[task(max_retry = 5)]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn main() {
    let _ = add::bind(1, 2);
}
