use workflow::prelude::*;

struct Counter {
    count: u64,
}

impl Counter {
    #[task]
    fn incr(&self, by: u64) -> u64 {
        self.count + by
    }
}

fn main() {
    let counter = Counter { count: 1 };
    let _ = counter.incr(2);
}
