use workflow::prelude::*;

#[task]
fn total(values: impl IntoIterator<Item = i64>) -> i64 {
    values.into_iter().sum()
}

fn main() {
    let _ = total::bind(vec![1, 2, 3]);
}
