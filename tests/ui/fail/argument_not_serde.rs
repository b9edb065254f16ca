use workflow::prelude::*;

struct NotSerde {
    value: i64,
}

#[task]
fn read(input: NotSerde) -> i64 {
    input.value
}

fn main() {}
