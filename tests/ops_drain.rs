//! `Engine::drain`: running tasks finish and are checkpointed, nothing new starts, and what
//! is left resumes later.

mod support;

use std::time::{Duration, Instant};

use support::{gated, hit, hits, log, logged, open_gate};
use workflow::prelude::*;

#[task]
fn after(key: String, value: i64) -> i64 {
    hit(&key);
    value + 1
}

#[task]
async fn stuck(key: String) -> i64 {
    log(format!("{key}:start"));
    tokio::time::sleep(Duration::from_secs(3600)).await;
    0
}

#[task]
fn slept(_woke: ()) -> i64 {
    0
}

/// Waits until the shared log holds `count` entries starting with `prefix`.
async fn wait_logged(prefix: &str, count: usize) {
    tokio::time::timeout(Duration::from_secs(10), async {
        while logged(prefix).len() < count {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await
    .expect("the tasks started in time");
}

#[tokio::test]
async fn drain_lets_running_tasks_finish_and_starts_nothing_new() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).await?;
    let dag = after::bind(
        "drain_after".to_string(),
        gated::bind("drain_gate".to_string(), 41),
    );
    engine.spawn("drained", dag).await?;
    wait_logged("drain_gate:start", 1).await;

    let draining = {
        let engine = engine.clone();
        tokio::spawn(async move { engine.drain(Duration::from_secs(10)).await })
    };
    // The drain waits for the running task.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!draining.is_finished());
    // New runs are refused from the start of the drain.
    assert!(matches!(
        engine
            .run("late", after::bind("drain_late".to_string(), 1))
            .await,
        Err(Error::Closed)
    ));
    open_gate("drain_gate");
    draining.await.unwrap()?;
    // Its dependent was ready, and did not start.
    assert_eq!(hits("drain_after"), 0);

    let engine = Engine::open(dir.path()).await?;
    assert_eq!(engine.status("drained").await?, WorkflowStatus::Resumable);
    assert_eq!(engine.task_output::<i64>("drained", "gated").await?, 41);
    assert_eq!(engine.resume::<i64>("drained").await?, 42);
    assert_eq!(hits("drain_after"), 1);
    // The gated task ran once: its checkpoint from the drain was kept.
    assert_eq!(logged("drain_gate:start").len(), 1);
    Ok(())
}

#[tokio::test]
async fn drain_stops_what_outlasts_its_grace_without_using_an_attempt() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).await?;
    engine
        .spawn("outlasting", stuck::bind("drain_stuck".to_string()))
        .await?;
    wait_logged("drain_stuck:start", 1).await;
    let started = Instant::now();
    engine.drain(Duration::from_millis(100)).await?;
    assert!(started.elapsed() < Duration::from_secs(5));

    let engine = Engine::open(dir.path()).await?;
    assert_eq!(
        engine.status("outlasting").await?,
        WorkflowStatus::Resumable
    );
    let meta = engine.metadata("outlasting").await?;
    // The stopped attempt was given back.
    assert_eq!(meta.tasks[0].attempts, 0);
    Ok(())
}

#[tokio::test]
async fn drain_does_not_wait_for_sleeps() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).await?;
    let dag = after::bind(
        "drain_after_sleep".to_string(),
        slept::bind(workflow::sleep(Duration::from_secs(3600))),
    );
    engine.spawn("sleeper", dag).await?;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    engine.drain(Duration::from_secs(30)).await?;
    assert!(started.elapsed() < Duration::from_secs(5));

    let engine = Engine::open(dir.path()).await?;
    assert_eq!(engine.status("sleeper").await?, WorkflowStatus::Resumable);
    assert_eq!(hits("drain_after_sleep"), 0);
    Ok(())
}

#[tokio::test]
async fn drain_finishes_a_workflow_that_ends_in_time_and_keeps_queued_ones() -> workflow::Result<()>
{
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::builder()
        .path(dir.path())
        .max_running_workflows(1)
        .build()
        .await?;
    engine
        .spawn("first", gated::bind("drain_queue_gate".to_string(), 7))
        .await?;
    engine
        .spawn("second", after::bind("drain_queued".to_string(), 1))
        .await?;
    assert_eq!(engine.status("second").await?, WorkflowStatus::Pending);
    wait_logged("drain_queue_gate:start", 1).await;
    let draining = {
        let engine = engine.clone();
        tokio::spawn(async move { engine.drain(Duration::from_secs(10)).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    open_gate("drain_queue_gate");
    draining.await.unwrap()?;
    assert_eq!(hits("drain_queued"), 0);

    let engine = Engine::open(dir.path()).await?;
    assert_eq!(engine.output::<i64>("first").await?, 7);
    assert_eq!(engine.status("second").await?, WorkflowStatus::Pending);
    assert_eq!(engine.resume::<i64>("second").await?, 2);
    Ok(())
}

#[tokio::test]
async fn drain_of_an_idle_engine_closes_it() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).await?;
    engine
        .run("done", after::bind("drain_idle".to_string(), 1))
        .await?;
    engine.drain(Duration::from_secs(1)).await?;
    assert!(matches!(engine.status("done").await, Err(Error::Closed)));
    // The store is free again.
    let engine = Engine::open(dir.path()).await?;
    assert_eq!(engine.output::<i64>("done").await?, 2);
    Ok(())
}

#[task]
fn first_link(key: String) -> i64 {
    log(format!("{key}:first"));
    1
}

#[task]
fn second_link(key: String, previous: i64) -> i64 {
    log(format!(
        "{key}:second attempt {}",
        workflow::context().attempt()
    ));
    previous + 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_while_a_start_is_being_written_gives_its_attempt_back() -> workflow::Result<()> {
    use std::sync::Arc;
    use support::stores::Slow;
    use workflow::storage::MemoryStore;

    let inner = Arc::new(MemoryStore::new());
    let slow = Slow::new(Arc::clone(&inner), Duration::from_millis(300));
    let engine = Engine::builder().storage(slow).build().await?;
    let key = "start-in-flight";
    let dag = || second_link::bind(key.to_string(), first_link::bind(key.to_string()));
    engine.spawn(key, dag()).await?;
    // The first link ran; its checkpoint and the start of the second are being written.
    wait_logged(&format!("{key}:first"), 1).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    engine.close().await?;

    let engine = Engine::builder()
        .storage(Slow::new(inner, Duration::ZERO))
        .build()
        .await?;
    let meta = engine.metadata(key).await?;
    let second = meta
        .tasks
        .iter()
        .find(|task| task.task_id == "second_link")
        .expect("the second link");
    assert_eq!(
        second.attempts, 0,
        "the attempt that never ran is not counted"
    );
    assert_eq!(engine.resume::<i64>(key).await?, 2);
    assert_eq!(
        logged(&format!("{key}:second")),
        [format!("{key}:second attempt 1")]
    );
    assert_eq!(logged(&format!("{key}:first")).len(), 1);
    engine.close().await
}
