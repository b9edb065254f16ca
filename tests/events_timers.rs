//! The timer index: every started sleep is indexed by deadline until its checkpoint, and
//! `resume_all` resumes workflows with due timers first, found through that index.

mod support;

use std::{
    path::Path,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use support::{logged, open_gate};
use workflow::{
    prelude::*,
    storage::{FjallStore, KeyReader, Keyspace, Storage},
};

const TIMERS: Keyspace = Keyspace::new("timers");

#[task]
fn after(_slept: (), text: String) -> String {
    text
}

/// The (deadline in ms since the epoch, workflow id) of every indexed timer.
async fn indexed_timers(path: &Path) -> Vec<(u64, String)> {
    let store = FjallStore::open(path).unwrap();
    let timers = store
        .scan_prefix(TIMERS, &[])
        .await
        .unwrap()
        .into_iter()
        .map(|(key, _)| {
            let mut reader = KeyReader::new(&key);
            let deadline_us = reader.u64().unwrap();
            (deadline_us / 1_000, reader.str().unwrap().to_string())
        })
        .collect();
    store.close().await.unwrap();
    timers
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

async fn until_sleeping(engine: &Engine, id: &str) {
    loop {
        let tasks = engine.metadata(id).await.unwrap().tasks;
        if tasks
            .iter()
            .any(|t| t.task_id == "sleep" && t.status == TaskStatus::Running)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_started_sleep_is_indexed_until_its_checkpoint() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let engine = Engine::open(&path).await?;
    let before = now_ms();
    let nap = after::bind(workflow::sleep(Duration::from_secs(60)), "late");
    engine.spawn("long", nap).await?;
    until_sleeping(&engine, "long").await;
    let quick = after::bind(workflow::sleep(Duration::from_millis(10)), "soon");
    assert_eq!(engine.run("quick", quick).await?, "soon");
    engine.close().await?;

    let timers = indexed_timers(&path).await;
    assert_eq!(timers.len(), 1, "only the unfinished sleep: {timers:?}");
    let (deadline, id) = &timers[0];
    assert_eq!(id, "long");
    assert!(
        (before + 60_000..=now_ms() + 60_000).contains(deadline),
        "{deadline}"
    );

    // Canceling the sleeping workflow in the process that runs it removes its timer.
    let engine = Engine::open(&path).await?;
    engine.resume_all().await?;
    until_sleeping(&engine, "long").await;
    engine.cancel("long").await?;
    engine.close().await?;
    assert!(indexed_timers(&path).await.is_empty());
    Ok(())
}

#[tokio::test]
async fn resume_all_starts_workflows_with_due_timers_first() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let engine = Engine::open(&path).await?;
    // Resumable, not sleeping: a task that has not finished when the engine closes.
    let busy = support::gated::bind("due-first-busy", 1);
    engine.spawn("a-busy", busy).await?;
    while logged("due-first-busy:start").is_empty() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Sleeping: one not due for a minute, and two due soon, the later-started one first.
    let sleeper = |ms| after::bind(workflow::sleep(Duration::from_millis(ms)), "up");
    engine.spawn("b-not-due", sleeper(60_000)).await?;
    engine.spawn("c-due-second", sleeper(400)).await?;
    until_sleeping(&engine, "c-due-second").await;
    engine.spawn("d-due-first", sleeper(100)).await?;
    until_sleeping(&engine, "d-due-first").await;
    engine.close().await?;
    tokio::time::sleep(Duration::from_millis(450)).await;

    let engine = Engine::open(&path).await?;
    let resumed = engine.resume_all().await?;
    assert_eq!(resumed[..2], ["d-due-first", "c-due-second"]);
    let mut rest = resumed[2..].to_vec();
    rest.sort();
    assert_eq!(rest, ["a-busy", "b-not-due"]);
    assert_eq!(engine.output::<String>("d-due-first").await?, "up");
    assert_eq!(engine.output::<String>("c-due-second").await?, "up");
    open_gate("due-first-busy");
    assert_eq!(engine.output::<i64>("a-busy").await?, 1);
    engine.close().await?;

    let timers = indexed_timers(&path).await;
    let ids: Vec<&str> = timers.iter().map(|(_, id)| id.as_str()).collect();
    assert_eq!(ids, ["b-not-due"], "finished sleeps leave the index");
    Ok(())
}

#[tokio::test]
async fn stale_timers_of_deleted_workflows_are_dropped() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let engine = Engine::open(&path).await?;
    let nap = after::bind(workflow::sleep(Duration::from_millis(50)), "gone");
    engine.spawn("deleted", nap).await?;
    until_sleeping(&engine, "deleted").await;
    engine.close().await?;

    let engine = Engine::open(&path).await?;
    engine.delete("deleted").await?;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(engine.resume_all().await?.is_empty());
    engine.close().await?;
    assert!(indexed_timers(&path).await.is_empty());
    Ok(())
}
