use serde::{Deserialize, Serialize};
use workflow::prelude::*;

#[derive(Serialize, Deserialize)]
struct Counter {
    count: u64,
}

#[virtual_actor]
impl Counter {
    fn incr(&mut self) -> u64 {
        self.count += 1;
        self.count
    }
}

fn main() {}
