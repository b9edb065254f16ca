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

    fn finish(self) -> u64 {
        self.count
    }
}

fn main() {}
