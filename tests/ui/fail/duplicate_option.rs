use workflow::prelude::*;

#[task(version = 2, max_retries = 1, version = 3)]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn main() {
    let _ = add::bind(1, 2);
}
