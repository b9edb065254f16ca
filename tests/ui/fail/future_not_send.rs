use std::rc::Rc;

use workflow::prelude::*;

async fn pause() {}

#[task]
async fn count(n: u64) -> u64 {
    let shared = Rc::new(n);
    pause().await;
    *shared
}

fn main() {
    let _ = count::bind(1);
}
