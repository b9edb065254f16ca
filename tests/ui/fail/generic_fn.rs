use workflow::prelude::*;

#[task]
fn identity<T>(value: T) -> T {
    value
}

fn main() {
    let _ = identity::bind(1);
}
