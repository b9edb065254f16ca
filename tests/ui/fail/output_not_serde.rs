use workflow::prelude::*;

struct NotSerde {
    value: i64,
}

#[task]
fn make(value: i64) -> NotSerde {
    NotSerde { value }
}

fn main() {
    let _ = make(1).value;
}
