use workflow::prelude::*;

#[task]
fn a() -> i64 {
    1
}

#[task]
fn b() -> i64 {
    2
}

#[task]
fn total(values: Vec<i64>) -> i64 {
    values.into_iter().sum()
}

#[task]
fn words(list: Vec<String>) -> usize {
    list.len()
}

fn main() {
    let _from_nodes: Dag<i64> = total::bind(vec![a::bind(), b::bind()]);
    let _from_values: Dag<i64> = total::bind(vec![1, 2, 3]);
    let _strings: Dag<usize> = words::bind(vec!["a".to_string()]);
    let shared = a::bind();
    let _reused: Dag<i64> = total::bind(vec![shared.clone(), shared]);
}
