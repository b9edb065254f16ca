//! Waiting is cheap: workflows that only wait hold no running slot, and thousands of them are
//! released by as many events, each delivered once.

mod support;

use std::time::Duration;

use support::{hit, hits, logged, open_gate};
use workflow::prelude::*;

#[task]
fn receive(counter: String, value: u64) -> u64 {
    hit(&counter);
    value
}

#[task]
fn busy(gate_name: String, _slept: ()) -> i64 {
    support::log(format!("{gate_name}:start"));
    block_at_gate(&gate_name);
    1
}

/// Waits at gate `name` from a sync task (on the blocking pool).
fn block_at_gate(name: &str) {
    let gate = support::gate(name);
    while gate.try_acquire().is_err() {
        std::thread::sleep(Duration::from_millis(2));
    }
}

async fn wait_until(what: &str, done: impl Fn() -> bool) {
    let start = std::time::Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out: {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_workflows_take_no_running_slot() -> workflow::Result<()> {
    let engine = Engine::builder()
        .in_memory()
        .max_running_workflows(2)
        .build()
        .await?;
    let mut waiting = Vec::new();
    for i in 0..5_u64 {
        let event = workflow::wait_for_event(ExternalEvent::<u64>::new("go"));
        waiting.push(
            engine
                .spawn(&format!("wait-{i}"), receive::bind("few", event))
                .await?,
        );
    }
    // Five waiting workflows, two slots: none is left pending, and work still gets a slot.
    let counted = support::counted::bind("slots-free", 7);
    assert_eq!(engine.run("work", counted).await?, 7);
    for i in 0..5 {
        assert_eq!(
            engine.status(&format!("wait-{i}")).await?,
            WorkflowStatus::Running
        );
    }
    for i in 0..5_u64 {
        engine.send_event(&format!("wait-{i}"), "go", &i).await?;
    }
    for (i, handle) in waiting.into_iter().enumerate() {
        assert_eq!(handle.output().await?, i as u64);
    }
    engine.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_woken_workflow_waits_for_a_free_slot() -> workflow::Result<()> {
    let engine = Engine::builder()
        .in_memory()
        .max_running_workflows(1)
        .build()
        .await?;
    let nap = || workflow::sleep(Duration::from_millis(50));
    let first = engine.spawn("first", busy::bind("slot-a", nap())).await?;
    let second = engine.spawn("second", busy::bind("slot-b", nap())).await?;
    // Both sleep at once; once awake, only one may work at a time.
    wait_until("a sleeper wakes", || {
        !logged("slot-a:start").is_empty() || !logged("slot-b:start").is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    let started = logged("slot-a:start").len() + logged("slot-b:start").len();
    assert_eq!(started, 1, "two workflows worked in one slot");
    let (gate, other) = if logged("slot-a:start").is_empty() {
        ("slot-b", "slot-a")
    } else {
        ("slot-a", "slot-b")
    };
    open_gate(gate);
    wait_until("the other one works", || {
        !logged(&format!("{other}:start")).is_empty()
    })
    .await;
    open_gate(other);
    assert_eq!(first.output().await? + second.output().await?, 2);
    engine.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_waiting_workflows_are_each_released_once() -> workflow::Result<()> {
    const COUNT: u64 = 10_000;
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::builder()
        .path(dir.path().join("store"))
        .max_running_workflows(100)
        .build()
        .await?;
    let mut handles = Vec::new();
    for i in 0..COUNT {
        let event = workflow::wait_for_event(ExternalEvent::<u64>::new("release"));
        handles.push(
            engine
                .spawn(&format!("w{i}"), receive::bind("many", event))
                .await?,
        );
    }
    // A hundred slots, and yet every one of them gets to its wait: none stays pending.
    let start = std::time::Instant::now();
    while !engine.list(Some(WorkflowStatus::Pending)).await?.is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "workflows stay pending"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(hits("many"), 0);
    // Senders in parallel, so that their writes share commits.
    let mut senders = tokio::task::JoinSet::<workflow::Result<()>>::new();
    for part in 0..16 {
        let engine = engine.clone();
        senders.spawn(async move {
            for i in (part..COUNT).step_by(16) {
                engine.send_event(&format!("w{i}"), "release", &i).await?;
            }
            Ok(())
        });
    }
    while let Some(sent) = senders.join_next().await {
        sent.unwrap()?;
    }
    for (i, handle) in handles.into_iter().enumerate() {
        assert_eq!(handle.output().await?, i as u64);
    }
    assert_eq!(hits("many"), COUNT as u32);
    let successful = engine.list(Some(WorkflowStatus::Successful)).await?;
    assert_eq!(successful.len(), COUNT as usize);
    engine.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_workflow_that_cannot_load_gives_its_slot_back() -> workflow::Result<()> {
    use workflow::storage::{Batch, FjallStore, KeyBuilder, Keyspace, Storage};
    const STEPS: Keyspace = Keyspace::new("steps");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let open = || {
        Engine::builder()
            .path(&path)
            .max_running_workflows(1)
            .build()
    };
    let engine = open().await?;
    engine
        .spawn("busy", support::gated::bind("unloadable-busy", 1))
        .await?;
    engine
        .spawn("broken", support::counted::bind("unloadable-broken", 2))
        .await?;
    assert_eq!(engine.status("broken").await?, WorkflowStatus::Pending);
    engine.close().await?;

    // The pending workflow loses its steps: it cannot be loaded when its turn comes.
    let store = FjallStore::open(&path).unwrap();
    let mut batch = Batch::new();
    let prefix = KeyBuilder::new().str("broken").build();
    for (key, _) in store.scan_prefix(STEPS, &prefix).await.unwrap() {
        batch.delete(STEPS, key);
    }
    store.commit(batch, Durability::Sync).await.unwrap();
    store.close().await.unwrap();

    let engine = open().await?;
    let later = engine.run("later", support::counted::bind("unloadable-later", 3));
    let out = tokio::time::timeout(Duration::from_secs(10), later)
        .await
        .expect("the slot of the workflow that failed to load was never given back")?;
    assert_eq!(out, 3);
    engine.close().await
}
