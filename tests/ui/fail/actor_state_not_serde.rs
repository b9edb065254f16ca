use workflow::prelude::*;

struct Counter {
    count: u64,
}

#[virtual_actor]
impl Counter {
    fn new() -> Self {
        Counter { count: 0 }
    }

    fn value(&self) -> u64 {
        self.count
    }
}

fn main() {}
