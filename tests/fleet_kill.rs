//! A fleet of worker processes on one PostgreSQL schema, killed again and again: three
//! children of this test binary share a batch of workflows (fan-outs, chains of
//! continuations) with more than 20,000 tasks; the harness SIGKILLs a random worker at
//! random moments and starts a new one in its place. Then: every output equals the
//! plain-Rust computation, every workflow is finished and no claim is left, every task's
//! checkpoint is there, and a task ran more than once only where a worker that ran it was
//! killed.
//!
//! `FLEET_KILLS=50 FLEET_SEED=7 cargo test --release --all-features --test fleet_kill --
//! --nocapture` runs a longer campaign; the default is 10 kills.
#![cfg(feature = "postgres")]

mod support;

use std::{
    collections::{HashMap, HashSet},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use support::{crash::record_run, postgres::Schema};
use workflow::prelude::*;

const ROLE: &str = "FLEET_ROLE";
const WORKFLOWS: u64 = 40;
const FAN_OUT: u64 = 500;
const CHAIN: u64 = 12;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is set for the worker"))
}

/// Logs one execution of the running task: process, workflow id, task id.
fn executed() {
    let context = workflow::context();
    record_run(
        &env("FLEET_RUNS"),
        &format!(
            "{} {} {}",
            std::process::id(),
            context.workflow_id(),
            context.task_id()
        ),
    );
}

#[task]
async fn square(i: u64) -> u64 {
    executed();
    tokio::time::sleep(Duration::from_millis(1)).await;
    i * i
}

#[task]
fn total(values: Vec<u64>) -> u64 {
    executed();
    values.iter().sum()
}

/// Adds `n, n-1, ..., 1` to `sum`, one continuation per step.
#[task]
async fn countdown(n: u64, sum: u64) -> Flow<u64> {
    executed();
    tokio::time::sleep(Duration::from_millis(5)).await;
    if n == 0 {
        return Flow::Done(sum);
    }
    workflow::continuation(countdown::bind(n - 1, sum + n))
}

fn job(w: u64) -> Dag<u64> {
    let squares = (0..FAN_OUT)
        .map(|i| square::bind(w + i))
        .collect::<Vec<_>>();
    countdown::bind(CHAIN, total::bind(squares))
}

fn expected(w: u64) -> u64 {
    (0..FAN_OUT).map(|i| (w + i) * (w + i)).sum::<u64>() + CHAIN * (CHAIN + 1) / 2
}

/// A worker: submits every workflow (a workflow another worker holds is only waited for),
/// then waits for all of them, taking its share of the work meanwhile.
async fn worker() -> workflow::Result<()> {
    let engine = Engine::builder()
        .postgres(support::postgres::url())
        .postgres_schema(env("FLEET_SCHEMA"))
        .postgres_lease(Duration::from_secs(1))
        .max_running_workflows(3)
        .build()
        .await?;
    for w in 0..WORKFLOWS {
        engine.spawn(&format!("job-{w}"), job(w)).await?;
    }
    for w in 0..WORKFLOWS {
        let out: u64 = engine.output(&format!("job-{w}")).await?;
        assert_eq!(out, expected(w));
    }
    engine.close().await
}

fn start_worker(schema: &str, runs: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "a_fleet_killed_again_and_again_finishes_its_work",
            "--exact",
            "--nocapture",
        ])
        .env(ROLE, "worker")
        .env("FLEET_SCHEMA", schema)
        .env("FLEET_RUNS", runs)
        .stdout(Stdio::null())
        .spawn()
        .unwrap()
}

/// A small seeded generator, so a failing campaign can be run again.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_killed_again_and_again_finishes_its_work() -> workflow::Result<()> {
    if std::env::var_os(ROLE).is_some() {
        return worker().await;
    }
    let kills: u64 = std::env::var("FLEET_KILLS").map_or(10, |n| n.parse().unwrap());
    let seed: u64 = std::env::var("FLEET_SEED").map_or(42, |n| n.parse().unwrap());
    let mut rng = Rng(seed.max(1));
    let schema = Schema::new("fleet");
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs.log").display().to_string();
    let started = Instant::now();

    let mut workers: Vec<Child> = (0..3).map(|_| start_worker(&schema.0, &runs)).collect();
    let mut killed: HashSet<u32> = HashSet::new();
    for _ in 0..kills {
        tokio::time::sleep(Duration::from_millis(200 + rng.below(1000))).await;
        let victim = rng.below(workers.len() as u64) as usize;
        let mut child = workers.swap_remove(victim);
        killed.insert(child.id());
        child.kill().unwrap();
        child.wait().unwrap();
        workers.push(start_worker(&schema.0, &runs));
    }
    for mut child in workers {
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                assert!(status.success(), "a worker failed: {status}");
                break;
            }
            assert!(Instant::now() < deadline, "a worker did not finish");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let elapsed = started.elapsed();

    let engine = schema.builder().build().await?;
    let mut tasks = 0;
    for w in 0..WORKFLOWS {
        let id = format!("job-{w}");
        assert_eq!(engine.status(&id).await?, WorkflowStatus::Successful);
        assert_eq!(engine.output::<u64>(&id).await?, expected(w));
        assert_eq!(
            engine.task_output::<u64>(&id, "total").await?,
            expected(w) - 78
        );
        tasks += engine.metadata(&id).await?.tasks.len();
    }
    assert_eq!(claims_left(&schema.0).await, 0, "a claim was left behind");
    engine.close().await?;

    // A task ran again only where a worker that ran it was killed.
    let log = std::fs::read_to_string(&runs).unwrap();
    let mut runs_of: HashMap<(String, String), Vec<u32>> = HashMap::new();
    for line in log.lines() {
        let mut words = line.split(' ');
        let pid: u32 = words.next().unwrap().parse().unwrap();
        let key = (
            words.next().unwrap().to_string(),
            words.next().unwrap().to_string(),
        );
        runs_of.entry(key).or_default().push(pid);
    }
    let workers: HashSet<u32> = runs_of.values().flatten().copied().collect();
    assert!(workers.len() > 3, "the work was not shared: {workers:?}");
    let mut again = 0;
    for ((workflow, task), pids) in &runs_of {
        let (last, earlier) = pids.split_last().unwrap();
        for pid in earlier {
            assert!(
                killed.contains(pid),
                "task {task} of {workflow} ran in {pid}, which was not killed, then in {last}"
            );
        }
        again += earlier.len();
    }
    eprintln!(
        "fleet: {WORKFLOWS} workflows, {tasks} tasks, {kills} kills (seed {seed}), \
         {again} runs again, {:.1} s",
        elapsed.as_secs_f64()
    );
    assert!(tasks as u64 >= 20_000, "{tasks} tasks");
    Ok(())
}

async fn claims_left(schema: &str) -> i64 {
    let (client, connection) =
        tokio_postgres::connect(&support::postgres::url(), tokio_postgres::NoTls)
            .await
            .unwrap();
    tokio::spawn(connection);
    client
        .query_one(&format!("SELECT count(*) FROM \"{schema}\".claims"), &[])
        .await
        .unwrap()
        .get(0)
}
