//! Durability against real crashes: a child process runs a workflow and is killed with
//! SIGKILL; a new process resumes it. Execution counts kept in a file prove that no
//! checkpointed task ran twice.
//!
//! The child is this test binary itself, started with the name of the test to run and
//! `WORKFLOW_CRASH_ROLE` set; each test checks that variable first.

mod support;

use std::{
    process::Command,
    time::{Duration, Instant},
};

use support::crash::{child_runs, hang_in_child, is_child, record_run, run_counts, Scenario};
use workflow::prelude::*;

#[task]
fn step(runs: String, i: u64, previous: u64) -> u64 {
    record_run(&runs, &format!("step-{i}"));
    if i == 5 {
        hang_in_child();
    }
    previous + i
}

#[task]
fn produce(runs: String, i: u64) -> u64 {
    record_run(&runs, &format!("produce-{i}"));
    i * 10
}

#[task]
async fn consume(runs: String, i: u64, input: u64) -> u64 {
    record_run(&runs, &format!("consume-{i}"));
    if is_child() {
        std::future::pending::<()>().await;
    }
    input + 1
}

#[task]
fn total(values: Vec<u64>) -> u64 {
    values.into_iter().sum()
}

#[task]
fn level(runs: String, i: u64) -> Flow<u64> {
    record_run(&runs, &format!("level-{i}"));
    if i == 50 {
        hang_in_child();
    }
    if i == 100 {
        return Flow::Done(i);
    }
    workflow::continuation(level::bind(runs, i + 1))
}

fn levels(runs: &str) -> Dag<u64> {
    level::bind(runs, 0)
}

#[task]
fn make_object(runs: String) -> ObjectRef<String> {
    record_run(&runs, "make_object");
    workflow::put("made before the crash".repeat(100_000))
}

#[task]
async fn read_object(runs: String, text: ObjectRef<String>) -> workflow::Result<usize> {
    record_run(&runs, "read_object");
    let len = text.get().await?.len();
    if is_child() {
        std::future::pending::<()>().await;
    }
    Ok(len)
}

fn object_flow(runs: &str) -> Dag<usize> {
    read_object::bind(runs, make_object::bind(runs))
}

#[task]
fn before_sleep(runs: String) -> u64 {
    record_run(&runs, "before_sleep");
    1
}

#[task]
fn after_sleep(runs: String, _slept: (), value: u64) -> u64 {
    record_run(&runs, "after_sleep");
    value + 1
}

fn sleeper(runs: &str) -> Dag<u64> {
    let before = before_sleep::bind(runs);
    after_sleep::bind(runs, workflow::sleep(Duration::from_millis(1_500)), before)
}

#[task(max_retries = 2)]
fn doomed(runs: String) -> u64 {
    record_run(&runs, "doomed");
    let _ = Command::new("kill")
        .args(["-9", &std::process::id().to_string()])
        .status();
    hang_in_child();
    0
}

fn chain(runs: &str) -> Dag<u64> {
    let mut dag = step::bind(runs, 1, 0u64);
    for i in 2..=10 {
        dag = step::bind(runs, i, dag);
    }
    dag
}

fn wide(runs: &str) -> Dag<u64> {
    let consumers: Vec<Dag<u64>> = (0..4)
        .map(|i| consume::bind(runs, i, produce::bind(runs, i)))
        .collect();
    total::bind(consumers)
}

async fn chain_scenario(test: &str, durability: &str) -> workflow::Result<()> {
    if is_child() {
        child_runs("chain", chain).await;
    }
    let scenario = Scenario::new();
    let mut child = scenario.spawn_child(test, durability);
    // step-5 starts only once step-4's output is checkpointed.
    scenario.wait_for(|counts| counts.contains_key("step-5"));
    let locked = Engine::open(&scenario.store).await;
    assert!(matches!(locked, Err(Error::Locked { .. })), "{locked:?}");
    child.kill().unwrap();
    child.wait().unwrap();

    let engine = Engine::open(&scenario.store).await?;
    assert_eq!(engine.status("chain").await?, WorkflowStatus::Resumable);
    assert_eq!(engine.resume::<u64>("chain").await?, 55);
    let counts = run_counts(&scenario.runs);
    for i in 1..=10 {
        let expected = if i == 5 { 2 } else { 1 };
        assert_eq!(
            counts[&format!("step-{i}")],
            expected,
            "step-{i}: {counts:?}"
        );
    }
    assert_eq!(engine.task_output::<u64>("chain", "step_3").await?, 10);
    // A second resume, in the same process or a new one, runs nothing.
    assert_eq!(engine.run("chain", chain(&scenario.runs())).await?, 55);
    assert_eq!(run_counts(&scenario.runs).values().sum::<u32>(), 11);
    engine.close().await
}

#[tokio::test(flavor = "multi_thread")]
async fn crash_sigkill_mid_chain_sync() -> workflow::Result<()> {
    chain_scenario("crash_sigkill_mid_chain_sync", "sync").await
}

#[tokio::test(flavor = "multi_thread")]
async fn crash_sigkill_mid_chain_buffered() -> workflow::Result<()> {
    chain_scenario("crash_sigkill_mid_chain_buffered", "buffered").await
}

#[tokio::test(flavor = "multi_thread")]
async fn crash_sigkill_mid_fan_out() -> workflow::Result<()> {
    if is_child() {
        child_runs("wide", wide).await;
    }
    let scenario = Scenario::new();
    let mut child = scenario.spawn_child("crash_sigkill_mid_fan_out", "sync");
    // Every consumer starts only once its producer's output is checkpointed.
    scenario.wait_for(|counts| (0..4).all(|i| counts.contains_key(&format!("consume-{i}"))));
    child.kill().unwrap();
    child.wait().unwrap();

    let engine = Engine::open(&scenario.store).await?;
    assert_eq!(engine.status("wide").await?, WorkflowStatus::Resumable);
    assert_eq!(engine.resume::<u64>("wide").await?, 64);
    let counts = run_counts(&scenario.runs);
    for i in 0..4 {
        assert_eq!(counts[&format!("produce-{i}")], 1, "{counts:?}");
        assert_eq!(counts[&format!("consume-{i}")], 2, "{counts:?}");
    }
    engine.close().await
}

#[tokio::test(flavor = "multi_thread")]
async fn crash_sigkill_mid_continuation_chain() -> workflow::Result<()> {
    if is_child() {
        child_runs("levels", levels).await;
    }
    let scenario = Scenario::new();
    let mut child = scenario.spawn_child("crash_sigkill_mid_continuation_chain", "sync");
    // Level 50 runs only once level 49's continuation is checkpointed.
    scenario.wait_for(|counts| counts.contains_key("level-50"));
    child.kill().unwrap();
    child.wait().unwrap();

    let engine = Engine::open(&scenario.store).await?;
    assert_eq!(engine.status("levels").await?, WorkflowStatus::Resumable);
    assert_eq!(engine.resume::<u64>("levels").await?, 100);
    let counts = run_counts(&scenario.runs);
    for i in 0..=100 {
        let expected = if i == 50 { 2 } else { 1 };
        assert_eq!(
            counts[&format!("level-{i}")],
            expected,
            "level-{i}: {counts:?}"
        );
    }
    assert_eq!(engine.task_output::<u64>("levels", "level_30").await?, 100);
    engine.close().await
}

#[tokio::test(flavor = "multi_thread")]
async fn crash_sigkill_after_an_object_is_checkpointed() -> workflow::Result<()> {
    if is_child() {
        child_runs("object-flow", object_flow).await;
    }
    let scenario = Scenario::new();
    let mut child = scenario.spawn_child("crash_sigkill_after_an_object_is_checkpointed", "sync");
    // `read_object` starts only once `make_object`'s output, and its object, are stored.
    scenario.wait_for(|counts| counts.contains_key("read_object"));
    child.kill().unwrap();
    child.wait().unwrap();

    let engine = Engine::open(&scenario.store).await?;
    assert_eq!(engine.resume::<usize>("object-flow").await?, 2_100_000);
    let counts = run_counts(&scenario.runs);
    assert_eq!(counts["make_object"], 1, "{counts:?}");
    assert_eq!(counts["read_object"], 2, "{counts:?}");
    engine.close().await
}

#[tokio::test(flavor = "multi_thread")]
async fn crash_sigkill_mid_sleep_resumes_past_its_deadline() -> workflow::Result<()> {
    if is_child() {
        child_runs("sleeper", sleeper).await;
    }
    let scenario = Scenario::new();
    let mut child =
        scenario.spawn_child("crash_sigkill_mid_sleep_resumes_past_its_deadline", "sync");
    scenario.wait_for(|counts| counts.contains_key("before_sleep"));
    let asleep = Instant::now();
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    // Stay down until the sleep's deadline has passed.
    std::thread::sleep(Duration::from_millis(1_600).saturating_sub(asleep.elapsed()));

    let engine = Engine::open(&scenario.store).await?;
    let resumed = Instant::now();
    assert_eq!(engine.resume::<u64>("sleeper").await?, 2);
    assert!(
        resumed.elapsed() < Duration::from_millis(700),
        "{:?}",
        resumed.elapsed()
    );
    let counts = run_counts(&scenario.runs);
    assert_eq!(counts["before_sleep"], 1, "{counts:?}");
    assert_eq!(counts["after_sleep"], 1, "{counts:?}");
    engine.close().await
}

#[tokio::test(flavor = "multi_thread")]
async fn crash_task_that_kills_its_process_fails_after_its_retries() -> workflow::Result<()> {
    if is_child() {
        child_runs("doomed", |runs| doomed::bind(runs)).await;
    }
    let scenario = Scenario::new();
    // 1 + max_retries = 3 attempts, each killing the process that runs it.
    for attempt in 1..=3 {
        let mut child = scenario.spawn_child(
            "crash_task_that_kills_its_process_fails_after_its_retries",
            "sync",
        );
        let status = child.wait().unwrap();
        assert!(!status.success());
        assert_eq!(run_counts(&scenario.runs)["doomed"], attempt);
    }
    let engine = Engine::open(&scenario.store).await?;
    assert_eq!(engine.status("doomed").await?, WorkflowStatus::Resumable);
    match engine.resume::<u64>("doomed").await {
        Err(Error::TaskFailed { task_id, error, .. }) => {
            assert_eq!(task_id, "doomed");
            assert_eq!(error.attempts(), 3);
        }
        other => panic!("expected TaskFailed, got {other:?}"),
    }
    assert_eq!(run_counts(&scenario.runs)["doomed"], 3);
    assert_eq!(engine.status("doomed").await?, WorkflowStatus::Failed);
    engine.close().await
}
