//! Durable sleep (API.md §5): it takes its time, and a restart sleeps only for what is left.

mod support;

use std::time::{Duration, Instant};

use workflow::prelude::*;

#[task]
fn after(_slept: (), text: String) -> String {
    text
}

#[tokio::test]
async fn sleep_takes_at_least_its_time() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let started = Instant::now();
    let dag = after::bind(workflow::sleep(Duration::from_millis(200)), "woke");
    assert_eq!(engine.run("nap", dag).await?, "woke");
    assert!(started.elapsed() >= Duration::from_millis(200));
    let meta = engine.metadata("nap").await?;
    assert_eq!(meta.tasks[0].task_id, "sleep");
    Ok(())
}

#[tokio::test]
async fn sleep_resumed_after_a_restart_sleeps_only_what_is_left() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).await?;
    let started = Instant::now();
    let dag = || after::bind(workflow::sleep(Duration::from_millis(1_500)), "late");
    engine.spawn("long-nap", dag()).await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    engine.close().await?;

    // Down for longer than the sleep: it is due at once on resume.
    tokio::time::sleep(Duration::from_millis(1_500).saturating_sub(started.elapsed())).await;
    let engine = Engine::open(dir.path()).await?;
    let resumed = Instant::now();
    assert_eq!(engine.resume::<String>("long-nap").await?, "late");
    assert!(
        resumed.elapsed() < Duration::from_millis(700),
        "{:?}",
        resumed.elapsed()
    );
    engine.close().await?;

    // A sleep interrupted early still waits for the rest.
    let engine = Engine::open(dir.path()).await?;
    let started = Instant::now();
    let dag = after::bind(workflow::sleep(Duration::from_millis(800)), "rest");
    engine.spawn("short-nap", dag).await?;
    tokio::time::sleep(Duration::from_millis(100)).await;
    engine.close().await?;
    let engine = Engine::open(dir.path()).await?;
    assert_eq!(engine.resume::<String>("short-nap").await?, "rest");
    assert!(started.elapsed() >= Duration::from_millis(800));
    engine.close().await
}
