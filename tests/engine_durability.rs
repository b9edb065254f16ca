//! Checkpoints through the storage trait: group commit, durability modes, checkpoint order,
//! `checkpoint(false)`, and the in-memory backend.

mod support;

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use support::{hit, hits};
use workflow::{
    prelude::*,
    storage::{Batch, Keyspace, MemoryStore, Operation, Storage},
};

/// A store that records every commit and takes `delay` for each, like an fsync.
#[derive(Clone)]
struct RecordingStore {
    inner: Arc<MemoryStore>,
    commits: Arc<AtomicUsize>,
    events: Arc<Mutex<Vec<String>>>,
    durabilities: Arc<Mutex<Vec<Durability>>>,
    delay: Duration,
}

impl RecordingStore {
    fn new(delay: Duration) -> Self {
        RecordingStore {
            inner: Arc::new(MemoryStore::new()),
            commits: Arc::default(),
            events: Arc::default(),
            durabilities: Arc::default(),
            delay,
        }
    }
}

#[workflow::async_trait]
impl Storage for RecordingStore {
    async fn get(
        &self,
        keyspace: Keyspace,
        key: &[u8],
    ) -> workflow::storage::Result<Option<Vec<u8>>> {
        self.inner.get(keyspace, key).await
    }

    async fn scan_prefix(
        &self,
        keyspace: Keyspace,
        prefix: &[u8],
    ) -> workflow::storage::Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.inner.scan_prefix(keyspace, prefix).await
    }

    async fn commit(&self, batch: Batch, durability: Durability) -> workflow::storage::Result<()> {
        tokio::time::sleep(self.delay).await;
        let results = batch
            .operations()
            .iter()
            .filter(
                |op| matches!(op, Operation::Put { keyspace, .. } if keyspace.name() == "results"),
            )
            .count();
        self.inner.commit(batch, durability).await?;
        self.commits.fetch_add(1, Ordering::SeqCst);
        self.durabilities.lock().unwrap().push(durability);
        self.events
            .lock()
            .unwrap()
            .push(format!("commit results={results}"));
        Ok(())
    }

    async fn close(&self) -> workflow::storage::Result<()> {
        self.inner.close().await
    }
}

#[task]
fn square(x: i64) -> i64 {
    x * x
}

#[task]
fn sum(values: Vec<i64>) -> i64 {
    values.into_iter().sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn durability_group_commit_shares_writes() -> workflow::Result<()> {
    let store = RecordingStore::new(Duration::from_millis(3));
    let engine = Engine::builder().storage(store.clone()).build().await?;
    let parts: Vec<Dag<i64>> = (0..200).map(square::bind).collect();
    let out = engine.run("fan-out", sum::bind(parts)).await?;
    assert_eq!(out, (0..200).map(|x: i64| x * x).sum::<i64>());
    let commits = store.commits.load(Ordering::SeqCst);
    // 201 checkpoints and 201 attempt starts, written in far fewer commits.
    assert!(commits < 60, "{commits} commits for 201 checkpoints");
    Ok(())
}

#[tokio::test]
async fn durability_mode_reaches_the_store() -> workflow::Result<()> {
    for mode in [Durability::Sync, Durability::Buffered] {
        let store = RecordingStore::new(Duration::ZERO);
        let engine = Engine::builder()
            .storage(store.clone())
            .durability(mode)
            .build()
            .await?;
        engine.run("mode", square::bind(3)).await?;
        let seen = store.durabilities.lock().unwrap().clone();
        assert!(!seen.is_empty());
        assert!(seen.iter().all(|d| *d == mode), "{seen:?}");
    }
    Ok(())
}

static ORDER: Mutex<Option<Arc<Mutex<Vec<String>>>>> = Mutex::new(None);

fn note(entry: String) {
    if let Some(events) = ORDER.lock().unwrap().as_ref() {
        events.lock().unwrap().push(entry);
    }
}

#[task]
fn link(name: String, previous: i64) -> i64 {
    note(format!("run {name}"));
    previous + 1
}

#[tokio::test]
async fn durability_checkpoint_precedes_dependents() -> workflow::Result<()> {
    let store = RecordingStore::new(Duration::from_millis(2));
    *ORDER.lock().unwrap() = Some(store.events.clone());
    let engine = Engine::builder().storage(store.clone()).build().await?;
    let dag = link::bind("c", link::bind("b", link::bind("a", 0)));
    assert_eq!(engine.run("order", dag).await?, 3);
    let events = store.events.lock().unwrap().clone();
    let position = |entry: &str| events.iter().position(|e| e == entry).unwrap();
    for (earlier, later) in [("run a", "run b"), ("run b", "run c")] {
        let between = &events[position(earlier)..position(later)];
        assert!(
            between.iter().any(|e| e == "commit results=1"),
            "no checkpoint between {earlier} and {later}: {events:?}"
        );
    }
    Ok(())
}

#[task]
fn uncheckpointed(key: String) -> i64 {
    hit(&key);
    5
}

#[tokio::test]
async fn durability_checkpoint_false_runs_again_after_restart() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).await?;
    let dag = || {
        support::gated::bind(
            "uncheckpointed-gate",
            uncheckpointed::bind("nockpt").checkpoint(false),
        )
    };
    engine.spawn("nockpt", dag()).await?;
    while support::logged("uncheckpointed-gate:start").is_empty() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(matches!(
        engine.task_output::<i64>("nockpt", "uncheckpointed").await,
        Err(Error::NotFound { .. })
    ));
    engine.close().await?;
    assert_eq!(hits("nockpt"), 1);

    let engine = Engine::open(dir.path()).await?;
    support::open_gate("uncheckpointed-gate");
    assert_eq!(engine.resume::<i64>("nockpt").await?, 5);
    assert_eq!(hits("nockpt"), 2);
    engine.close().await
}

#[tokio::test]
async fn durability_in_memory_engine_runs_workflows() -> workflow::Result<()> {
    let engine = Engine::builder().in_memory().build().await?;
    assert_eq!(
        engine
            .run("mem", sum::bind(vec![square::bind(2), square::bind(3)]))
            .await?,
        13
    );
    assert_eq!(engine.task_output::<i64>("mem", "square_1").await?, 9);
    Ok(())
}
