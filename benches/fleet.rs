//! A fleet of 1, 2 and 4 worker processes on one PostgreSQL schema (feature `postgres`): a
//! fan-out in one workflow, whose steps beyond its worker's task slots are offered to every
//! worker, and a chain; tasks/s and the median time from a step's start to its checkpoint,
//! beside what the database does alone in the same run.
//!
//! `cargo bench --features postgres --bench fleet [FANOUT CHAIN] [--rounds N] [--work-us U]`
//! (defaults 20,000, 1,000, 3 rounds, no work per task; `FLEET_BENCH_SLOTS` sets the
//! workers' task slots). The workers are processes of this
//! binary; the measuring process is the first worker and owns the workflows. Each round runs
//! in a schema of its own, dropped afterwards.

#[path = "common/postgres.rs"]
mod common;

use std::{
    io::Read,
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use common::{admin, baseline, median, url};
use workflow::prelude::*;

/// Set in a worker process: the schema to join.
const WORKER: &str = "FLEET_BENCH_WORKER";
/// Microseconds of busy work in each fan-out step.
const WORK_US: &str = "FLEET_BENCH_WORK_US";
/// The task slots of every worker, if not the default.
const SLOTS: &str = "FLEET_BENCH_SLOTS";

/// Microseconds of busy work in each fan-out step, in this process.
static WORK: AtomicU64 = AtomicU64::new(0);

#[task]
fn leaf(i: u64) -> u64 {
    let until = Instant::now() + Duration::from_micros(WORK.load(Ordering::Relaxed));
    while Instant::now() < until {
        std::hint::spin_loop();
    }
    i
}

#[task]
fn sum(values: Vec<u64>) -> u64 {
    values.iter().sum()
}

#[task]
fn add_one(value: u64) -> u64 {
    value + 1
}

async fn engine(schema: &str) -> Engine {
    let mut builder = Engine::builder().postgres(url()).postgres_schema(schema);
    if let Some(slots) = std::env::var(SLOTS).ok().and_then(|n| n.parse().ok()) {
        builder = builder.fleet_task_slots(slots);
    }
    builder.build().await.expect("an engine on PostgreSQL")
}

/// A worker process: joins the fleet until its standard input closes.
fn worker(schema: &str) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let engine = engine(schema).await;
        let _ = tokio::task::spawn_blocking(|| {
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
        })
        .await;
        engine.close().await.expect("close");
    });
}

fn start_worker(schema: &str, work_us: u64) -> Child {
    Command::new(std::env::current_exe().expect("this binary"))
        .env(WORKER, schema)
        .env(WORK_US, work_us.to_string())
        .stdin(Stdio::piped())
        .spawn()
        .expect("a worker process")
}

/// The median time from a step's first start to its end, in microseconds.
fn p50_us(metadata: &WorkflowMetadata) -> f64 {
    let spans: Vec<f64> = metadata
        .tasks
        .iter()
        .filter_map(|task| {
            let span = task.end_time?.duration_since(task.start_time?).ok()?;
            Some(span.as_secs_f64() * 1e6)
        })
        .collect();
    median(spans)
}

struct Round {
    fanout_secs: f64,
    fanout_p50_us: f64,
    chain_secs: f64,
    chain_p50_us: f64,
}

async fn round(workers: usize, fanout: u64, chain: u64, work_us: u64) -> Round {
    let schema = format!("bench_fleet_{}_{workers}", std::process::id());
    let mut children: Vec<Child> = (1..workers)
        .map(|_| start_worker(&schema, work_us))
        .collect();
    let engine = engine(&schema).await;
    let client = admin().await;
    // Every worker is in the fleet before the clock starts.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let joined: i64 = client
            .query_one(&format!("SELECT count(*) FROM \"{schema}\".workers"), &[])
            .await
            .map_or(0, |row| row.get(0));
        if joined as usize >= workers {
            break;
        }
        assert!(Instant::now() < deadline, "the workers did not join");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The measuring worker counts the others at its next renewal (every third of the
    // default 5 s lease).
    tokio::time::sleep(Duration::from_secs(2)).await;

    let dag = sum::bind((0..fanout).map(leaf::bind).collect::<Vec<_>>());
    let started = Instant::now();
    let out = engine.run("fanout", dag).await.expect("the fan-out");
    let fanout_secs = started.elapsed().as_secs_f64();
    assert_eq!(out, fanout * (fanout - 1) / 2);
    let fanout_p50_us = p50_us(&engine.metadata("fanout").await.expect("metadata"));

    let mut dag = add_one::bind(0);
    for _ in 1..chain {
        dag = add_one::bind(dag);
    }
    let started = Instant::now();
    assert_eq!(engine.run("chain", dag).await.expect("the chain"), chain);
    let chain_secs = started.elapsed().as_secs_f64();
    let chain_p50_us = p50_us(&engine.metadata("chain").await.expect("metadata"));

    engine.close().await.expect("close");
    for child in &mut children {
        drop(child.stdin.take());
    }
    for mut child in children {
        child.wait().expect("a worker ends");
    }
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .await
        .expect("the schema is dropped");
    Round {
        fanout_secs,
        fanout_p50_us,
        chain_secs,
        chain_p50_us,
    }
}

fn main() {
    if let Ok(schema) = std::env::var(WORKER) {
        let work = std::env::var(WORK_US).map_or(0, |us| us.parse().unwrap_or(0));
        WORK.store(work, Ordering::Relaxed);
        return worker(&schema);
    }
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let option = |name: &str, default: u64| {
        args.iter()
            .position(|a| a == name)
            .and_then(|at| args.get(at + 1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(default)
    };
    let rounds = option("--rounds", 3) as usize;
    let work_us = option("--work-us", 0);
    let sizes: Vec<u64> = args
        .iter()
        .take_while(|a| !a.starts_with("--"))
        .filter_map(|a| a.parse().ok())
        .collect();
    let fanout = sizes.first().copied().unwrap_or(20_000);
    let chain = sizes.get(1).copied().unwrap_or(1_000);
    WORK.store(work_us, Ordering::Relaxed);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    println!(
        "PostgreSQL at {}; fan-out {fanout} (work {work_us} us per step), chain {chain}; \
         medians of {rounds} rounds",
        url()
    );
    let base: Vec<(f64, f64)> = (0..rounds)
        .map(|_| runtime.block_on(baseline(chain, Durability::Sync)))
        .collect();
    let single = median(base.iter().map(|b| b.0).collect());
    let batched = median(base.iter().map(|b| b.1).collect());
    println!(
        "database alone: {:.0} single-row commits/s from one connection, {:.0} rows/s in one transaction",
        chain as f64 / single,
        chain as f64 / batched
    );
    for workers in [1, 2, 4] {
        let results: Vec<Round> = (0..rounds)
            .map(|_| runtime.block_on(round(workers, fanout, chain, work_us)))
            .collect();
        let fanout_secs = median(results.iter().map(|r| r.fanout_secs).collect());
        let fanout_p50 = median(results.iter().map(|r| r.fanout_p50_us).collect());
        let chain_secs = median(results.iter().map(|r| r.chain_secs).collect());
        let chain_p50 = median(results.iter().map(|r| r.chain_p50_us).collect());
        let fanout_rate = (fanout + 1) as f64 / fanout_secs;
        let chain_rate = chain as f64 / chain_secs;
        println!(
            "{workers} worker(s): fan-out {fanout_rate:>8.0} tasks/s, p50 {:>7.1} ms | chain {chain_rate:>6.0} tasks/s, p50 {chain_p50:>6.0} us ({:.0}% of single-row commits)",
            fanout_p50 / 1000.0,
            100.0 * chain_rate / (chain as f64 / single)
        );
        println!(
            "{{\"scenario\":\"fleet\",\"workers\":{workers},\"fanout\":{fanout},\"work_us\":{work_us},\"fanout_tasks_per_s\":{fanout_rate:.0},\"fanout_p50_us\":{fanout_p50:.0},\"chain\":{chain},\"chain_tasks_per_s\":{chain_rate:.0},\"chain_p50_us\":{chain_p50:.0},\"single_row_commits_per_s\":{:.0}}}",
            chain as f64 / single
        );
    }
}
