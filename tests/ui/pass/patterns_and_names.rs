use workflow::prelude::*;

#[task]
fn swap((a, b): (i64, String), mut n: u8, _: bool) -> (String, i64) {
    n += 1;
    let _ = n;
    (b, a)
}

#[task]
fn r#type(r#in: u8) -> u8 {
    r#in
}

fn main() {
    let _pair: Dag<(String, i64)> = swap::bind((1, "x".to_string()), 2, true);
    let _raw: Dag<u8> = r#type::bind(r#type::bind(1));
}
