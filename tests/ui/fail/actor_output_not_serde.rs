use serde::{Deserialize, Serialize};
use workflow::prelude::*;

#[derive(Serialize, Deserialize)]
struct Counter {
    count: u64,
}

struct Report(u64);

#[virtual_actor]
impl Counter {
    fn new() -> Self {
        Counter { count: 0 }
    }

    fn report(&self) -> Report {
        Report(self.count)
    }
}

fn main() {}
