//! What an actor call costs: writer calls on one actor, one after another and all queued at
//! once, against a one-task workflow run the same way on the same engine (the baseline).
//!
//! `cargo bench --bench actors -- [CALLS] [ROUNDS]` (default 2,000 calls, 3 rounds).

use std::time::Instant;

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

#[task]
fn incr(value: u64) -> u64 {
    value + 1
}

/// Seconds for each of: `calls` one-task workflows in turn, `calls` writer calls in turn,
/// `calls` writer calls queued at once, `calls` read-only calls queued at once.
async fn round(durability: Durability, calls: u64) -> workflow::Result<[f64; 4]> {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let engine = Engine::builder()
        .path(dir.path().join("store"))
        .durability(durability)
        .build()
        .await?;
    let started = Instant::now();
    for i in 0..calls {
        engine.run(&format!("w{i}"), incr::bind(i)).await?;
    }
    let workflows = started.elapsed().as_secs_f64();

    let counter = Counter::get_or_create(&engine, "in-turn").await?;
    let started = Instant::now();
    for _ in 0..calls {
        counter.incr().run().await?;
    }
    let in_turn = started.elapsed().as_secs_f64();

    let counter = Counter::get_or_create(&engine, "at-once").await?;
    let started = Instant::now();
    let mut handles = Vec::with_capacity(calls as usize);
    for _ in 0..calls {
        handles.push(counter.incr().spawn().await?);
    }
    for handle in handles {
        handle.output().await?;
    }
    let at_once = started.elapsed().as_secs_f64();
    assert_eq!(counter.value().run().await?, calls);

    let started = Instant::now();
    let mut handles = Vec::with_capacity(calls as usize);
    for _ in 0..calls {
        handles.push(counter.value().spawn().await?);
    }
    for handle in handles {
        handle.output().await?;
    }
    let readers = started.elapsed().as_secs_f64();
    engine.close().await?;
    Ok([workflows, in_turn, at_once, readers])
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() -> workflow::Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let calls: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(2_000);
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    println!("{calls} calls per measure, median of {rounds} rounds (calls/s)");
    println!(
        "{:<10} {:>18} {:>16} {:>16} {:>16}",
        "", "workflows in turn", "writers in turn", "writers at once", "readers at once"
    );
    for (name, durability) in [
        ("Sync", Durability::Sync),
        ("Buffered", Durability::Buffered),
    ] {
        let results: Vec<[f64; 4]> = (0..rounds)
            .map(|_| runtime.block_on(round(durability, calls)))
            .collect::<workflow::Result<_>>()?;
        let rate = |i: usize| calls as f64 / median(results.iter().map(|r| r[i]).collect());
        println!(
            "{name:<10} {:>18.0} {:>16.0} {:>16.0} {:>16.0}",
            rate(0),
            rate(1),
            rate(2),
            rate(3)
        );
        println!(
            "{{\"scenario\":\"actor\",\"durability\":\"{name}\",\"calls\":{calls},\"workflows_per_s\":{:.0},\"writers_in_turn_per_s\":{:.0},\"writers_at_once_per_s\":{:.0},\"readers_at_once_per_s\":{:.0}}}",
            rate(0),
            rate(1),
            rate(2),
            rate(3)
        );
    }
    Ok(())
}
