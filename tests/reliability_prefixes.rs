//! Crash consistency at every write: a workflow with continuations, objects, a sleep, an
//! external event and an actor call runs once with every commit recorded. Then, for every
//! prefix of that log, a fresh store holding only that prefix (what a crash right after
//! that commit leaves) is opened and the workflow resumed: it must reach the same output and
//! actor state, and no task whose checkpoint is in the prefix may run again.

mod support;

use std::{
    collections::BTreeSet,
    sync::{Mutex, OnceLock},
    time::Duration,
};

use serde::{Deserialize, Serialize};
use support::stores::Recorder;
use workflow::{
    prelude::*,
    storage::{Batch, Durability, MemoryStore, Storage},
    TaskStatus,
};

/// (workflow id, task id) of every task execution in this process.
fn executions() -> &'static Mutex<Vec<(String, String)>> {
    static LOG: OnceLock<Mutex<Vec<(String, String)>>> = OnceLock::new();
    LOG.get_or_init(Default::default)
}

fn executed() {
    let context = workflow::context();
    executions().lock().unwrap().push((
        context.workflow_id().to_string(),
        context.task_id().to_string(),
    ));
}

#[derive(Serialize, Deserialize)]
struct Vault {
    balance: i64,
}

#[virtual_actor]
impl Vault {
    fn new(balance: i64) -> Self {
        Vault { balance }
    }

    fn withdraw(&mut self, amount: i64) -> i64 {
        executed();
        self.balance -= amount;
        self.balance
    }

    fn balance(&self) -> i64 {
        self.balance
    }
}

#[task]
fn seed(n: u64) -> Vec<u64> {
    executed();
    (1..=n).collect()
}

#[task]
fn stash(values: Vec<u64>) -> ObjectRef<Vec<u64>> {
    executed();
    workflow::put(values)
}

#[task]
async fn total(values: ObjectRef<Vec<u64>>) -> workflow::Result<u64> {
    executed();
    Ok(values.get().await?.iter().sum())
}

#[task]
fn countdown(n: u64, acc: u64) -> Flow<u64> {
    executed();
    if n == 0 {
        return Flow::Done(acc);
    }
    workflow::continuation(countdown::bind(n - 1, acc + n))
}

#[task]
fn combine(total: u64, counted: u64, approval: u64, slept: (), left: i64) -> u64 {
    executed();
    let () = slept;
    total * 1_000_000 + counted * 1_000 + approval * 100 + left as u64
}

const ID: &str = "mixed";
const EXPECTED: u64 = 55 * 1_000_000 + 15 * 1_000 + 3 * 100 + 93;

fn dag() -> Dag<u64> {
    combine::bind(
        total::bind(stash::bind(seed::bind(10))),
        countdown::bind(5, 0),
        workflow::wait_for_event(ExternalEvent::<u64>::new("approval")),
        workflow::sleep(Duration::from_millis(5)),
        Vault::actor("vault").withdraw(7).bind(),
    )
}

/// Runs the workflow on `engine` from whatever state its store holds, as a program would
/// after a crash: resumes what was in flight, starts the workflow (which resumes or returns
/// a stored one), and sends its event.
async fn drive(engine: &Engine) -> workflow::Result<(u64, i64)> {
    let vault = Vault::get_or_create(engine, "vault", 100).await?;
    engine.resume_all().await?;
    let handle = engine.spawn(ID, dag()).await?;
    engine.send_event(ID, "approval", &3_u64).await?;
    let output = handle.output().await?;
    Ok((output, vault.balance().run().await?))
}

/// The (workflow id, task id) of every step with a checkpoint in the store.
async fn checkpointed(engine: &Engine, ids: &BTreeSet<String>) -> BTreeSet<(String, String)> {
    let mut done = BTreeSet::new();
    for id in ids {
        let Ok(meta) = engine.metadata(id).await else {
            continue;
        };
        for task in meta.tasks {
            if matches!(task.status, TaskStatus::Successful | TaskStatus::Continued) {
                done.insert((id.clone(), task.task_id));
            }
        }
    }
    done
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_prefix_of_the_commit_log_resumes_to_the_same_result() -> workflow::Result<()> {
    // The recorded run.
    let recorder = Recorder::new(MemoryStore::new());
    let engine = Engine::builder().storage(recorder.clone()).build().await?;
    assert_eq!(drive(&engine).await?, (EXPECTED, 93));
    engine.close().await?;
    let log = recorder.commits().await;
    let first_run: Vec<(String, String)> = std::mem::take(&mut *executions().lock().unwrap());
    let workflow_ids: BTreeSet<String> = first_run.iter().map(|(w, _)| w.clone()).collect();
    assert!(workflow_ids.len() >= 2, "the workflow and its actor call");
    assert!(log.len() >= 10, "only {} commits", log.len());

    let mut reruns = 0;
    for cut in 0..=log.len() {
        let store = MemoryStore::new();
        for (batch, durability) in &log[..cut] {
            let batch: Batch = batch.clone();
            store
                .commit(batch, *durability)
                .await
                .unwrap_or_else(|error| {
                    panic!("replaying commit {cut} failed: {error}");
                });
        }
        let engine = Engine::builder().storage(store).build().await?;
        let done = checkpointed(&engine, &workflow_ids).await;
        executions().lock().unwrap().clear();
        let result = tokio::time::timeout(Duration::from_secs(30), drive(&engine))
            .await
            .unwrap_or_else(|_| panic!("the prefix of {cut} commits did not finish"));
        assert_eq!(result?, (EXPECTED, 93), "after the first {cut} commits");
        let ran: Vec<(String, String)> = std::mem::take(&mut *executions().lock().unwrap());
        for execution in &ran {
            assert!(
                !done.contains(execution),
                "{execution:?} ran again though its checkpoint is in the first {cut} commits"
            );
        }
        reruns += ran.len();
        engine.close().await?;
    }
    eprintln!("{} commits, {reruns} executions replayed", log.len());
    // The last prefix is the whole log: nothing runs again.
    assert!(reruns > 0, "early prefixes run tasks");
    Ok(())
}

#[tokio::test]
async fn the_recorder_keeps_the_order_of_application() -> workflow::Result<()> {
    let recorder = Recorder::new(MemoryStore::new());
    let store: &dyn Storage = &recorder;
    let keyspace = workflow::storage::Keyspace::new("order");
    for n in 0..3_u8 {
        let mut batch = Batch::new();
        batch.put(keyspace, [n], [n]);
        store.commit(batch, Durability::Buffered).await?;
    }
    let log = recorder.commits().await;
    assert_eq!(log.len(), 3);
    for (n, (batch, _)) in log.iter().enumerate() {
        assert_eq!(batch.len(), 1, "commit {n}");
    }
    Ok(())
}
