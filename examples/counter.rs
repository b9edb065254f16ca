//! The virtual actor acceptance example: a durable counter, read back from a new engine.
//!
//! `cargo run --example counter`

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

    fn incr(&mut self) -> u64 {
        self.count += 1;
        self.count
    }

    fn value(&self) -> u64 {
        self.count
    }
}

#[tokio::main]
async fn main() -> workflow::Result<()> {
    // A store of its own, fresh on every run.
    let path = std::env::temp_dir().join("workflow-example-counter");
    let _ = std::fs::remove_dir_all(&path);
    let engine = Engine::open(&path).await?;

    let c1 = Counter::get_or_create(&engine, "counter_1").await?; // args of `new` follow the id
    assert_eq!(c1.incr().run().await?, 1);
    assert_eq!(c1.incr().run().await?, 2);
    let again = Counter::get_actor(&engine, "counter_1").await?; // Error::NotFound if none
    assert_eq!(again.value().run().await?, 2);
    println!("counter_1 counted to {}", again.value().run().await?);
    engine.close().await?;

    // A new engine on the same store sees the last committed state.
    let engine = Engine::open(&path).await?;
    let reopened = Counter::get_actor(&engine, "counter_1").await?;
    assert_eq!(reopened.value().run().await?, 2);
    assert_eq!(reopened.incr().run().await?, 3);
    println!("after reopening the store, counter_1 counts on: 3");
    engine.close().await?;
    Ok(())
}
