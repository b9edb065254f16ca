//! A fleet of worker processes on one PostgreSQL schema, killed again and again: three
//! children of this test binary run one workflow of more than 20,000 tasks (fan-outs whose
//! steps are offered to the whole fleet, chains of continuations) and a batch of smaller
//! workflows, and payments between account actors served by whichever worker took each
//! account; the harness SIGKILLs a random worker at random moments and starts a new one in
//! its place. Then: every output equals the plain-Rust computation, every workflow is
//! finished and no claim, offer or notice is left, every task's checkpoint is there, the
//! big workflow's steps ran in many processes, a task ran more than once only where a
//! worker that ran it was killed, and the accounts hold what they held in all.
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

use serde::{Deserialize, Serialize};
use support::{
    crash::record_task_run,
    postgres::{count_rows, Schema},
};
use workflow::prelude::*;

const ROLE: &str = "FLEET_ROLE";
/// Groups of the big workflow: each a fan-out, its total, then a chain of continuations.
const GROUPS: u64 = 40;
/// Smaller workflows, one group each, shared out as whole workflows.
const WORKFLOWS: u64 = 6;
const FAN_OUT: u64 = 500;
const CHAIN: u64 = 12;
const BIG: &str = "big";
/// Accounts, each opened with [`OPENING`], and payments between them.
const ACCOUNTS: u64 = 8;
const OPENING: u64 = 1_000;
const PAYMENTS: u64 = 150;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is set for the worker"))
}

/// Logs one execution of the running task: process, workflow id, task id.
fn executed() {
    record_task_run("FLEET_RUNS", &std::process::id().to_string());
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

#[task]
fn grand_total(values: Vec<u64>) -> u64 {
    executed();
    values.iter().sum()
}

#[derive(Serialize, Deserialize)]
struct Account {
    balance: u64,
}

#[virtual_actor]
impl Account {
    fn new(balance: u64) -> Self {
        Account { balance }
    }
    /// Takes `amount` if the account holds it; returns what it took.
    fn withdraw(&mut self, amount: u64) -> u64 {
        if self.balance < amount {
            return 0;
        }
        self.balance -= amount;
        amount
    }
    fn deposit(&mut self, amount: u64) -> u64 {
        self.balance += amount;
        self.balance
    }
    fn balance(&self) -> u64 {
        self.balance
    }
}

fn account(a: u64) -> String {
    format!("account-{a}")
}

/// Payment `p`: a withdrawal from one account (of an amount some cannot afford: then it
/// takes nothing), then a deposit of what it took into another.
fn payment(p: u64) -> Dag<u64> {
    let from = p % ACCOUNTS;
    let to = (p * 7 + 3) % ACCOUNTS;
    let to = if to == from { (to + 1) % ACCOUNTS } else { to };
    let taken = Account::actor(&account(from))
        .withdraw(50 + (p * 37) % 900)
        .bind()
        .task_id("withdraw");
    Account::actor(&account(to)).deposit(taken).bind()
}

fn group(g: u64) -> Dag<u64> {
    let squares = (0..FAN_OUT)
        .map(|i| square::bind(g + i))
        .collect::<Vec<_>>();
    countdown::bind(CHAIN, total::bind(squares))
}

fn big() -> Dag<u64> {
    grand_total::bind((0..GROUPS).map(group).collect::<Vec<_>>())
}

fn expected(g: u64) -> u64 {
    (0..FAN_OUT).map(|i| (g + i) * (g + i)).sum::<u64>() + CHAIN * (CHAIN + 1) / 2
}

fn expected_big() -> u64 {
    (0..GROUPS).map(expected).sum()
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
    submit(&engine, BIG, big).await?;
    for w in 0..WORKFLOWS {
        submit(&engine, &format!("job-{w}"), || group(w)).await?;
    }
    for p in 0..PAYMENTS {
        submit(&engine, &format!("pay-{p}"), || payment(p)).await?;
    }
    for w in 0..WORKFLOWS {
        let out: u64 = engine.output(&format!("job-{w}")).await?;
        assert_eq!(out, expected(w));
    }
    assert_eq!(engine.output::<u64>(BIG).await?, expected_big());
    for p in 0..PAYMENTS {
        engine.output::<u64>(&format!("pay-{p}")).await?;
    }
    engine.close().await
}

/// Submits workflow `id`, again if a worker that claimed it died before storing it.
async fn submit(engine: &Engine, id: &str, dag: impl Fn() -> Dag<u64>) -> workflow::Result<()> {
    loop {
        match engine.spawn(id, dag()).await {
            Err(Error::Interrupted { .. }) => continue,
            other => return other.map(drop),
        }
    }
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

    let bank = schema.builder().build().await?;
    for a in 0..ACCOUNTS {
        Account::get_or_create(&bank, &account(a), OPENING).await?;
    }
    bank.close().await?;

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
    assert_eq!(engine.status(BIG).await?, WorkflowStatus::Successful);
    assert_eq!(engine.output::<u64>(BIG).await?, expected_big());
    let big_tasks = engine.metadata(BIG).await?.tasks.len();
    assert!(
        big_tasks as u64 >= 20_000,
        "{big_tasks} tasks in one workflow"
    );
    tasks += big_tasks;
    // Every payment ended, and no money was made or lost.
    let mut paid = 0;
    for p in 0..PAYMENTS {
        let id = format!("pay-{p}");
        assert_eq!(engine.status(&id).await?, WorkflowStatus::Successful);
        if engine.task_output::<u64>(&id, "withdraw").await? > 0 {
            paid += 1;
        }
    }
    let mut total = 0;
    for a in 0..ACCOUNTS {
        total += Account::get_actor(&engine, &account(a))
            .await?
            .balance()
            .run()
            .await?;
    }
    assert_eq!(total, ACCOUNTS * OPENING, "money was made or lost");
    assert!(paid > PAYMENTS / 2, "only {paid} payments went through");
    // Actors stay claimed by whoever serves them; no workflow's claim is left.
    for table in ["claims WHERE name NOT LIKE 'actor %'", "offers"] {
        assert_eq!(count_rows(&schema.0, table).await, 0, "{table} left behind");
    }
    let notices = count_rows(&schema.0, "records WHERE keyspace = 'notices'").await;
    assert_eq!(notices, 0, "notices left behind");
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
    assert!(workers.len() >= 3, "the work was not shared: {workers:?}");
    let big_workers: HashSet<u32> = runs_of
        .iter()
        .filter(|((workflow, _), _)| workflow == BIG)
        .flat_map(|(_, pids)| pids.iter().copied())
        .collect();
    assert!(
        big_workers.len() >= 3,
        "one workflow's steps did not spread over the fleet: {big_workers:?}"
    );
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
        "fleet: {} workflows, {tasks} tasks ({big_tasks} in one, run by {} processes), \
         {paid} of {PAYMENTS} payments, {kills} kills (seed {seed}), {again} runs again, {:.1} s",
        WORKFLOWS + 1 + PAYMENTS,
        big_workers.len(),
        elapsed.as_secs_f64()
    );
    Ok(())
}
