use serde::{Deserialize, Serialize};
use workflow::prelude::*;

#[derive(Serialize, Deserialize, Default)]
struct Counter {
    count: u64,
}

trait Reset {
    fn reset(&mut self);
}

#[virtual_actor]
impl Reset for Counter {
    fn reset(&mut self) {
        self.count = 0;
    }
}

fn main() {}
