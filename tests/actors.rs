//! Virtual actors (API.md §6): writers in arrival order with their state committed
//! atomically, concurrent read-only calls, failures that leave the state as it was, and
//! methods that launch sub-workflows or wait.

mod support;

use std::{sync::LazyLock, time::Duration};

use serde::{Deserialize, Serialize};
use support::hit;
use tokio::sync::Barrier;
use workflow::prelude::*;

#[derive(Serialize, Deserialize)]
struct Ledger {
    total: u64,
    entries: Vec<u64>,
}

static READERS: LazyLock<Barrier> = LazyLock::new(|| Barrier::new(10));

#[task]
fn doubled(value: u64) -> u64 {
    value * 2
}

#[virtual_actor]
impl Ledger {
    fn new(opening: u64) -> Self {
        Ledger {
            total: opening,
            entries: Vec::new(),
        }
    }

    /// Adds `amount`; returns the new total.
    fn add(&mut self, amount: u64) -> u64 {
        self.total += amount;
        self.entries.push(amount);
        self.total
    }

    async fn add_later(&mut self, amount: u64) -> u64 {
        tokio::time::sleep(Duration::from_millis(1)).await;
        self.add(amount)
    }

    /// Changes the state, then fails: the change must not be kept.
    fn add_then_fail(&mut self, amount: u64) -> Result<u64, String> {
        self.total += amount;
        Err(format!("refused {amount}"))
    }

    fn total(&self) -> u64 {
        self.total
    }

    fn entries(&self) -> Vec<u64> {
        self.entries.clone()
    }

    /// Waits at a barrier that only ten concurrent readers pass together.
    async fn meet(&self) -> u64 {
        hit("ledger-readers");
        READERS.wait().await;
        self.total
    }

    /// Adds `amount`, and returns twice the new total, computed by a sub-workflow.
    fn add_and_double(&mut self, amount: u64) -> Flow<u64> {
        let total = self.add(amount);
        workflow::continuation(doubled::bind(total))
    }

    /// Adds the amount of an approval sent to the call, once it arrives.
    fn add_approved(&mut self) -> Flow<u64> {
        let approved = workflow::wait_for_event(ExternalEvent::<u64>::new("approval"));
        workflow::continuation(approve::bind(approved, self.total))
    }
}

#[task]
fn approve(amount: u64, total: u64) -> u64 {
    total + amount
}

#[tokio::test]
async fn writers_run_in_their_order_of_arrival() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let ledger = Ledger::get_or_create(&engine, "ordered", 0).await?;
    // Fifty writers queued from fifty tasks at once: each gets a place when `spawn` returns.
    let mut spawns = tokio::task::JoinSet::new();
    for amount in 1..=50_u64 {
        let ledger = ledger.clone();
        spawns.spawn(async move {
            let call = if amount % 2 == 0 {
                ledger.add(amount)
            } else {
                ledger.add_later(amount)
            };
            call.spawn().await.map(|handle| (amount, handle))
        });
    }
    let mut calls = Vec::new();
    while let Some(spawned) = spawns.join_next().await {
        calls.push(spawned.unwrap()?);
    }
    // In the order of their places (`{actor}@{n}`), the outputs are the prefix sums.
    let place = |id: &str| id.rsplit_once('@').unwrap().1.parse::<u64>().unwrap();
    calls.sort_by_key(|(_, handle)| place(handle.id()));
    let mut sum = 0;
    let mut order = Vec::new();
    for (amount, handle) in &calls {
        sum += amount;
        order.push(*amount);
        assert_eq!(handle.output().await?, sum, "call {}", handle.id());
    }
    assert_eq!(ledger.entries().run().await?, order);
    assert_eq!(ledger.total().run().await?, 1275);
    engine.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_calls_run_together_and_change_nothing() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let ledger = Ledger::get_or_create(&engine, "readers", 7).await?;
    let mut readers = Vec::new();
    for _ in 0..10 {
        readers.push(ledger.meet().spawn().await?);
    }
    // Each reader waits at a barrier for ten: only readers running together get through.
    for reader in readers {
        let total = tokio::time::timeout(Duration::from_secs(30), reader.output())
            .await
            .expect("the ten readers did not run at once")?;
        assert_eq!(total, 7);
    }
    assert_eq!(support::hits("ledger-readers"), 10);
    assert_eq!(ledger.add(1).run().await?, 8);
    assert_eq!(ledger.total().run().await?, 8);
    engine.close().await
}

#[tokio::test]
async fn a_failing_call_leaves_the_state_and_the_queue_goes_on() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let ledger = Ledger::get_or_create(&engine, "failing", 10).await?;
    let failing = ledger.add_then_fail(5).spawn().await?;
    let after = ledger.add(1).spawn().await?;
    match failing.output().await {
        Err(Error::TaskFailed { error, .. }) => {
            assert!(error.message().contains("refused 5"), "{error}")
        }
        other => panic!("expected the call to fail, got {other:?}"),
    }
    assert_eq!(after.output().await?, 11, "the failed change was not kept");
    assert_eq!(ledger.total().run().await?, 11);
    // A failed call is final: resuming it runs nothing and reports its failure.
    assert!(matches!(
        engine.resume::<u64>(failing.id()).await,
        Err(Error::TaskFailed { .. })
    ));
    assert_eq!(ledger.total().run().await?, 11);
    engine.close().await
}

#[tokio::test]
async fn state_survives_reopening_the_store() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let engine = Engine::open(&path).await?;
    let ledger = Ledger::get_or_create(&engine, "kept", 100).await?;
    ledger.add(5).run().await?;
    ledger.add(6).run().await?;
    engine.close().await?;

    let engine = Engine::open(&path).await?;
    let ledger = Ledger::get_actor(&engine, "kept").await?;
    assert_eq!(ledger.total().run().await?, 111);
    assert_eq!(ledger.entries().run().await?, [5, 6]);
    // The next call is numbered after the stored ones.
    let next = ledger.add(1).spawn().await?;
    assert_eq!(next.id(), "kept@4");
    assert_eq!(next.output().await?, 112);
    engine.close().await
}

#[tokio::test]
async fn a_method_returns_a_continuation() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let ledger = Ledger::get_or_create(&engine, "flow", 1).await?;
    assert_eq!(ledger.add_and_double(2).run().await?, 6);
    assert_eq!(ledger.total().run().await?, 3);
    engine.close().await
}

#[tokio::test]
async fn a_waiting_writer_keeps_its_place() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let ledger = Ledger::get_or_create(&engine, "approvals", 1).await?;
    let waiting = ledger.add_approved().spawn().await?;
    let behind = ledger.add(10).spawn().await?;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(engine.status(behind.id()).await?, WorkflowStatus::Running);
    assert_eq!(
        ledger.total().run().await?,
        1,
        "the writer behind did not run"
    );

    engine.send_event(waiting.id(), "approval", &5_u64).await?;
    assert_eq!(waiting.output().await?, 6);
    assert_eq!(behind.output().await?, 11);
    engine.close().await
}

#[tokio::test]
async fn actor_ids_and_types_are_checked() -> workflow::Result<()> {
    #[derive(Serialize, Deserialize)]
    struct Other;

    #[virtual_actor]
    impl Other {
        fn new() -> Self {
            Other
        }
        fn ping(&self) -> u8 {
            1
        }
    }

    let engine = support::engine().await?;
    Ledger::get_or_create(&engine, "typed", 0).await?;
    assert!(matches!(
        Other::get_actor(&engine, "typed").await,
        Err(Error::ActorTypeMismatch { .. })
    ));
    assert!(matches!(
        Other::get_or_create(&engine, "typed").await,
        Err(Error::ActorTypeMismatch { .. })
    ));
    for bad in ["", "a/b", "a@1", "é"] {
        assert!(
            matches!(
                Ledger::get_or_create(&engine, bad, 0).await,
                Err(Error::InvalidId { .. })
            ),
            "{bad:?}"
        );
    }
    assert_eq!(
        Other::get_or_create(&engine, "other")
            .await?
            .ping()
            .run()
            .await?,
        1
    );
    engine.close().await
}

static PAIR: LazyLock<Barrier> = LazyLock::new(|| Barrier::new(2));

#[derive(Serialize, Deserialize)]
struct Napper {
    naps: u32,
}

#[virtual_actor]
impl Napper {
    fn new() -> Self {
        Napper { naps: 0 }
    }

    /// A writer that meets a writer of another actor: only calls running together pass.
    async fn meet(&mut self) -> u32 {
        PAIR.wait().await;
        self.naps
    }

    /// Counts a nap now, and answers after sleeping `millis`.
    fn nap(&mut self, millis: u64) -> Flow<u32> {
        self.naps += 1;
        workflow::continuation(after_nap::bind(
            workflow::sleep(Duration::from_millis(millis)),
            self.naps,
        ))
    }

    fn naps(&self) -> u32 {
        self.naps
    }
}

#[task]
fn after_nap(_slept: (), naps: u32) -> u32 {
    naps
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_of_different_actors_run_in_parallel() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let first = Napper::get_or_create(&engine, "first").await?;
    let second = Napper::get_or_create(&engine, "second").await?;
    let a = first.meet().spawn().await?;
    let b = second.meet().spawn().await?;
    let both = async { (a.output().await, b.output().await) };
    let (a, b) = tokio::time::timeout(Duration::from_secs(30), both)
        .await
        .expect("writers of two actors did not run at once");
    assert_eq!((a?, b?), (0, 0));
    engine.close().await
}

#[tokio::test]
async fn a_sleeping_call_survives_a_restart() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let engine = Engine::open(&path).await?;
    let napper = Napper::get_or_create(&engine, "sleepy").await?;
    let call = napper.nap(400).spawn().await?;
    let id = call.id().to_string();
    tokio::time::sleep(Duration::from_millis(100)).await;
    engine.close().await?;

    let engine = Engine::open(&path).await?;
    assert_eq!(engine.status(&id).await?, WorkflowStatus::Resumable);
    assert!(engine.resume_all().await?.contains(&id));
    assert_eq!(engine.output::<u32>(&id).await?, 1);
    let napper = Napper::get_actor(&engine, "sleepy").await?;
    assert_eq!(napper.naps().run().await?, 1, "the nap was counted once");
    engine.close().await
}
