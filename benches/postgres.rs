//! The engine on the PostgreSQL store (feature `postgres`): a chain and a fan-out, beside
//! what the database does alone in the same run (single-row commits from one connection,
//! and one transaction of many rows).
//!
//! `cargo bench --features postgres --bench postgres [CHAIN FANOUT] [--rounds N]`, against
//! `WORKFLOW_BENCH_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/test`). Each round
//! runs in a schema of its own, dropped afterwards; medians of the rounds (3 by default).

#[path = "common/postgres.rs"]
mod common;

use std::time::Instant;

use common::{admin, baseline, median, url};
use workflow::prelude::*;

#[task]
fn add_one(value: u64) -> u64 {
    value + 1
}

#[task]
fn leaf(i: u64) -> u64 {
    i
}

#[task]
fn sum(values: Vec<u64>) -> u64 {
    values.iter().sum()
}

/// Runs `run` on a fresh schema, then drops it.
async fn in_schema<F, Fut>(tag: &str, run: F) -> f64
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = f64>,
{
    let schema = format!("bench_{tag}_{}", std::process::id());
    let secs = run(schema.clone()).await;
    admin()
        .await
        .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .await
        .expect("the schema is dropped");
    secs
}

async fn engine(schema: &str, durability: Durability) -> Engine {
    Engine::builder()
        .postgres(url())
        .postgres_schema(schema)
        .durability(durability)
        .build()
        .await
        .expect("an engine on PostgreSQL")
}

async fn chain(length: u64, durability: Durability) -> f64 {
    in_schema("chain", |schema| async move {
        let engine = engine(&schema, durability).await;
        let mut dag = add_one::bind(0);
        for _ in 1..length {
            dag = add_one::bind(dag);
        }
        let started = Instant::now();
        assert_eq!(engine.run("chain", dag).await.expect("the chain"), length);
        let secs = started.elapsed().as_secs_f64();
        engine.close().await.expect("close");
        secs
    })
    .await
}

async fn fanout(width: u64, durability: Durability) -> f64 {
    in_schema("fanout", |schema| async move {
        let engine = engine(&schema, durability).await;
        let dag = sum::bind((0..width).map(leaf::bind).collect::<Vec<_>>());
        let started = Instant::now();
        let out = engine.run("fanout", dag).await.expect("the fan-out");
        assert_eq!(out, width * (width - 1) / 2);
        let secs = started.elapsed().as_secs_f64();
        engine.close().await.expect("close");
        secs
    })
    .await
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let rounds = args
        .iter()
        .position(|a| a == "--rounds")
        .and_then(|at| args.get(at + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    let sizes: Vec<u64> = args
        .iter()
        .take_while(|a| *a != "--rounds")
        .filter_map(|a| a.parse().ok())
        .collect();
    let chain_length = sizes.first().copied().unwrap_or(2_000);
    let fanout_width = sizes.get(1).copied().unwrap_or(20_000);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    println!("PostgreSQL at {}; medians of {rounds} rounds", url());
    for durability in [Durability::Sync, Durability::Buffered] {
        let name = format!("{durability:?}");
        let base: Vec<(f64, f64)> = (0..rounds)
            .map(|_| runtime.block_on(baseline(chain_length, durability)))
            .collect();
        let single = median(base.iter().map(|b| b.0).collect());
        let batched = median(base.iter().map(|b| b.1).collect());
        let chain_secs = median(
            (0..rounds)
                .map(|_| runtime.block_on(chain(chain_length, durability)))
                .collect(),
        );
        let fanout_secs = median(
            (0..rounds)
                .map(|_| runtime.block_on(fanout(fanout_width, durability)))
                .collect(),
        );
        let per_s = |n: u64, secs: f64| n as f64 / secs;
        println!(
            "{name:<9} chain {chain_length:>6}: {:>8.0} tasks/s, {:>7.0} us per task | database alone: {:>8.0} single-row commits/s ({:.0}% of it)",
            per_s(chain_length, chain_secs),
            chain_secs / chain_length as f64 * 1e6,
            per_s(chain_length, single),
            100.0 * single / chain_secs
        );
        println!(
            "{name:<9} fanout {fanout_width:>5}: {:>8.0} tasks/s | database alone: {:>8.0} rows/s in one transaction",
            per_s(fanout_width + 1, fanout_secs),
            per_s(chain_length, batched)
        );
        println!(
            "{{\"scenario\":\"postgres\",\"durability\":\"{name}\",\"chain\":{chain_length},\"chain_tasks_per_s\":{:.0},\"single_row_commits_per_s\":{:.0},\"fanout\":{fanout_width},\"fanout_tasks_per_s\":{:.0},\"batched_rows_per_s\":{:.0}}}",
            per_s(chain_length, chain_secs),
            per_s(chain_length, single),
            per_s(fanout_width + 1, fanout_secs),
            per_s(chain_length, batched)
        );
    }
}
