//! Actors at their edges: failed continuations, calls that would wait for themselves, the
//! outputs of call steps, and a store that fails a writer's commit.

mod support;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use workflow::prelude::*;

#[derive(Serialize, Deserialize)]
struct Acct {
    balance: u64,
}

#[virtual_actor]
impl Acct {
    fn new(balance: u64) -> Self {
        Acct { balance }
    }
    fn deposit(&mut self, amount: u64) -> u64 {
        self.balance += amount;
        self.balance
    }
    fn transfer(&mut self, to: String, amount: u64) -> Result<Flow<u64>, String> {
        if self.balance < amount {
            return Err(format!("only {} left", self.balance));
        }
        self.balance -= amount;
        Ok(workflow::continuation(
            Acct::actor(&to).deposit(amount).bind(),
        ))
    }
    fn label(&self) -> String {
        format!("acct with {}", self.balance)
    }
    fn balance(&self) -> u64 {
        self.balance
    }
}

/// A call whose continuation fails leaves the state as it was before the call.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_continuation_leaves_the_state_as_it_was() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let alice = Acct::get_or_create(&engine, "alice", 100).await?;
    // No account "nobody": the deposit step fails, so the call fails.
    let result = alice.transfer("nobody", 30).run().await;
    assert!(
        matches!(result, Err(Error::TaskFailed { .. })),
        "{result:?}"
    );
    assert_eq!(engine.status("alice@0").await?, WorkflowStatus::Failed);
    assert_eq!(
        alice.balance().run().await?,
        100,
        "a failed call changed the state"
    );
    // The next writer runs on the state before the failed call.
    assert_eq!(alice.deposit(1).run().await?, 101);
    Ok(())
}

/// A writer whose continuation calls a writer of its own actor.
#[derive(Serialize, Deserialize)]
struct Selfish {
    n: u64,
}

#[virtual_actor]
impl Selfish {
    fn new() -> Self {
        Selfish { n: 0 }
    }
    fn bump(&mut self) -> u64 {
        self.n += 1;
        self.n
    }
    fn bump_twice(&mut self, me: String) -> Flow<u64> {
        self.n += 1;
        workflow::continuation(Selfish::actor(&me).bump().bind())
    }
}

/// It would wait for itself: the call step fails at once, saying why.
#[tokio::test(flavor = "multi_thread")]
async fn a_writer_calling_a_writer_of_its_own_actor_fails() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let s = Selfish::get_or_create(&engine, "s").await?;
    let call = s.bump_twice("s").spawn().await?;
    let done = tokio::time::timeout(Duration::from_secs(10), call.output())
        .await
        .expect("the call waited for itself");
    match done {
        Err(Error::TaskFailed { error, .. }) => {
            assert!(
                error.message().contains("cannot call its writer"),
                "{error}"
            )
        }
        other => panic!("expected the call to fail, got {other:?}"),
    }
    // The failed call changed nothing, and the actor goes on.
    assert_eq!(s.bump().run().await?, 1);
    Ok(())
}

/// Two `.bind()` steps with different output types in one workflow.
#[task]
fn pair(n: u64, s: String) -> (u64, String) {
    (n, s)
}

#[tokio::test(flavor = "multi_thread")]
async fn task_output_of_a_bound_call_step() -> workflow::Result<()> {
    let engine = support::engine().await?;
    Acct::get_or_create(&engine, "c", 5).await?;
    let c = Acct::actor("c");
    let dag = pair::bind(
        c.balance().bind().task_id("n"),
        c.label().bind().task_id("s"),
    );
    assert_eq!(engine.run("w", dag).await?, (5, "acct with 5".to_string()));
    assert_eq!(engine.task_output::<u64>("w", "n").await?, 5);
    assert_eq!(engine.task_output::<String>("w", "s").await?, "acct with 5");
    Ok(())
}

/// A store whose next commit that writes an actor's state fails once.
struct Flaky {
    inner: workflow::storage::MemoryStore,
    armed: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// The keyspace whose next write fails, once armed.
    fails: &'static str,
}

#[async_trait]
impl workflow::storage::Storage for Flaky {
    async fn get(
        &self,
        keyspace: workflow::storage::Keyspace,
        key: &[u8],
    ) -> workflow::storage::Result<Option<Vec<u8>>> {
        self.inner.get(keyspace, key).await
    }
    async fn scan_prefix(
        &self,
        keyspace: workflow::storage::Keyspace,
        prefix: &[u8],
    ) -> workflow::storage::Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.inner.scan_prefix(keyspace, prefix).await
    }
    async fn commit(
        &self,
        batch: workflow::storage::Batch,
        durability: Durability,
    ) -> workflow::storage::Result<()> {
        let writes_state = batch.operations().iter().any(|op| match op {
            workflow::storage::Operation::Put { keyspace, .. } => keyspace.name() == self.fails,
            _ => false,
        });
        if writes_state && self.armed.swap(false, std::sync::atomic::Ordering::SeqCst) {
            return Err(workflow::storage::StorageError::Backend {
                message: "injected".into(),
            });
        }
        self.inner.commit(batch, durability).await
    }
    async fn close(&self) -> workflow::storage::Result<()> {
        self.inner.close().await
    }
}

/// One failed commit of a writer's checkpoint ends its run here; the next writer resumes it
/// instead of waiting for it forever.
#[tokio::test(flavor = "multi_thread")]
async fn a_writer_whose_commit_failed_does_not_block_its_actor() -> workflow::Result<()> {
    let armed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let engine = Engine::builder()
        .storage(Flaky {
            inner: workflow::storage::MemoryStore::new(),
            armed: armed.clone(),
            fails: "actor_state",
        })
        .build()
        .await?;
    let acct = Acct::get_or_create(&engine, "x", 0).await?;
    armed.store(true, std::sync::atomic::Ordering::SeqCst);
    let first = acct.deposit(1).run().await;
    // The store error itself, or (if the run ended before `output` looked) that the call
    // stopped unfinished.
    assert!(
        matches!(
            first,
            Err(Error::Storage { .. } | Error::NotFinished { .. })
        ),
        "{first:?}"
    );
    let second = tokio::time::timeout(Duration::from_secs(10), acct.deposit(2).run())
        .await
        .expect("x@1 waited for x@0 forever")?;
    assert_eq!(second, 3, "x@0 was resumed and applied before x@1");
    Ok(())
}

#[derive(Serialize, Deserialize)]
struct Gate {
    n: u64,
}

#[task]
fn plus(a: u64, b: u64) -> u64 {
    a + b
}

#[virtual_actor]
impl Gate {
    fn new() -> Self {
        Gate { n: 0 }
    }
    fn add(&mut self, amount: u64) -> u64 {
        self.n += amount;
        self.n
    }
}

/// A call step resumed in a new process keeps its output's type.
#[tokio::test(flavor = "multi_thread")]
async fn task_output_of_a_resumed_bound_call_step() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    {
        let engine = Engine::open(dir.path()).await?;
        let gate = Gate::get_or_create(&engine, "g").await?;
        let approval = workflow::wait_for_event(ExternalEvent::<u64>::new("approval"));
        gate.add(approval).spawn().await?;
        let dag = plus::bind(Gate::actor("g").add(1).bind().task_id("call"), 1);
        engine.spawn("parent", dag).await?;
        while engine.status("g@1").await.is_err() {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        engine.close().await?;
    }
    let engine = Engine::open(dir.path()).await?;
    engine.resume_all().await?;
    engine.send_event("g@0", "approval", &5_u64).await?;
    assert_eq!(engine.output::<u64>("parent").await?, 7);
    assert_eq!(engine.task_output::<u64>("parent", "call").await?, 6);
    engine.close().await
}

/// A call whose queueing commit fails is an error for the caller, its number is not reused,
/// and the actor goes on.
#[tokio::test(flavor = "multi_thread")]
async fn a_call_that_could_not_be_stored_is_an_error() -> workflow::Result<()> {
    let armed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let engine = Engine::builder()
        .storage(Flaky {
            inner: workflow::storage::MemoryStore::new(),
            armed: armed.clone(),
            fails: "actor_calls",
        })
        .build()
        .await?;
    let acct = Acct::get_or_create(&engine, "unstored", 0).await?;
    for attempt in 0..20 {
        armed.store(true, std::sync::atomic::Ordering::SeqCst);
        let spawned = acct.deposit(1).spawn().await;
        assert!(spawned.is_err(), "attempt {attempt}: {spawned:?}");
        assert!(matches!(
            engine.status(&format!("unstored@{attempt}")).await,
            Err(Error::NotFound { .. })
        ));
    }
    let stored = acct.deposit(5).spawn().await?;
    assert_eq!(stored.id(), "unstored@20");
    assert_eq!(stored.output().await?, 5);
    Ok(())
}
