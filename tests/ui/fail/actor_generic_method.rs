use serde::{Deserialize, Serialize};
use workflow::prelude::*;

#[derive(Serialize, Deserialize)]
struct Counter {
    count: u64,
}

#[virtual_actor]
impl Counter {
    fn new() -> Self {
        Counter { count: 0 }
    }

    fn add<T: Into<u64>>(&mut self, amount: T) -> u64 {
        self.count += amount.into();
        self.count
    }
}

fn main() {}
