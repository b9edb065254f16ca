use serde::{Deserialize, Serialize};
use workflow::prelude::*;

#[derive(Serialize, Deserialize)]
struct Counter {
    count: u64,
}

#[virtual_actor]
impl Counter {
    fn new() -> u64 {
        0
    }

    fn value(&self) -> u64 {
        self.count
    }
}

fn main() {}
