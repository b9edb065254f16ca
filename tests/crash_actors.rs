//! Actors against real crashes: a child process is killed with SIGKILL in the middle of a
//! call, and a new process finishes it, applying its change once.

mod support;

use serde::{Deserialize, Serialize};
use support::crash::{hang_in_child, is_child, record_run, run_counts, Scenario, RUNS, STORE};
use workflow::prelude::*;

#[derive(Serialize, Deserialize)]
struct Account {
    balance: u64,
}

#[virtual_actor]
impl Account {
    fn new(balance: u64) -> Self {
        Account { balance }
    }

    /// Adds `amount`; hangs in the child, where the parent kills the process.
    fn deposit(&mut self, runs: String, amount: u64) -> u64 {
        record_run(&runs, "deposit");
        hang_in_child();
        self.balance += amount;
        self.balance
    }

    /// Withdraws `amount` here, and deposits it into `to` in a step of the call.
    fn transfer(&mut self, runs: String, to: String, amount: u64) -> Result<Flow<u64>, String> {
        record_run(&runs, "transfer");
        if self.balance < amount {
            return Err(format!("only {} left", self.balance));
        }
        self.balance -= amount;
        Ok(workflow::continuation(
            Account::actor(&to).deposit(runs, amount).bind(),
        ))
    }

    /// Adds `amount` without hanging.
    fn add(&mut self, runs: String, amount: u64) -> u64 {
        record_run(&runs, &format!("add-{amount}"));
        self.balance += amount;
        self.balance
    }

    fn balance(&self) -> u64 {
        self.balance
    }
}

/// The child's side: an engine on the store named by the environment.
async fn child_engine() -> (Engine, String) {
    let engine = Engine::open(std::env::var(STORE).unwrap()).await.unwrap();
    (engine, std::env::var(RUNS).unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn crash_in_the_middle_of_a_transfer_between_two_actors() -> workflow::Result<()> {
    if is_child() {
        let (engine, runs) = child_engine().await;
        let alice = Account::get_or_create(&engine, "alice", 100).await.unwrap();
        Account::get_or_create(&engine, "bob", 50).await.unwrap();
        let _ = alice.transfer(runs, "bob", 30).run().await;
        unreachable!("the child is killed during the deposit");
    }
    let scenario = Scenario::new();
    let mut child = scenario.spawn_child(
        "crash_in_the_middle_of_a_transfer_between_two_actors",
        "sync",
    );
    // The deposit into bob starts only once the withdrawal from alice is committed.
    scenario.wait_for(|counts| counts.contains_key("deposit"));
    child.kill().unwrap();
    child.wait().unwrap();

    let engine = Engine::open(&scenario.store).await?;
    let alice = Account::get_actor(&engine, "alice").await?;
    let bob = Account::get_actor(&engine, "bob").await?;
    let resumed = engine.resume_all().await?;
    assert!(resumed.contains(&"alice@0".to_string()), "{resumed:?}");
    assert_eq!(
        engine.output::<u64>("alice@0").await?,
        80,
        "bob's balance after it"
    );
    let (a, b) = (alice.balance().run().await?, bob.balance().run().await?);
    assert_eq!((a, b), (70, 80));
    assert_eq!(a + b, 150, "no money made or lost");
    let counts = run_counts(&scenario.runs);
    assert_eq!(counts["transfer"], 1, "the withdrawal ran once: {counts:?}");
    assert_eq!(
        counts["deposit"], 2,
        "the killed deposit ran again: {counts:?}"
    );
    engine.close().await
}

#[tokio::test(flavor = "multi_thread")]
async fn crash_while_a_call_waits_for_its_approval() -> workflow::Result<()> {
    if is_child() {
        let (engine, runs) = child_engine().await;
        let saver = Account::get_or_create(&engine, "saver", 1).await.unwrap();
        // A writer whose amount is an approval sent to the call.
        let approval = workflow::wait_for_event(ExternalEvent::<u64>::new("approval"));
        let call = saver.add(runs.clone(), approval).spawn().await.unwrap();
        assert_eq!(call.id(), "saver@0");
        record_run(&runs, "waiting");
        std::future::pending::<()>().await;
    }
    let scenario = Scenario::new();
    let mut child = scenario.spawn_child("crash_while_a_call_waits_for_its_approval", "sync");
    scenario.wait_for(|counts| counts.contains_key("waiting"));
    child.kill().unwrap();
    child.wait().unwrap();

    let engine = Engine::open(&scenario.store).await?;
    assert_eq!(engine.status("saver@0").await?, WorkflowStatus::Resumable);
    let saver = Account::get_actor(&engine, "saver").await?;
    // The next call to the actor resumes the waiting one, and queues behind it.
    let behind = saver.add(scenario.runs(), 100).spawn().await?;
    assert_eq!(behind.id(), "saver@1");
    engine.send_event("saver@0", "approval", &5_u64).await?;
    assert_eq!(engine.output::<u64>("saver@0").await?, 6);
    assert_eq!(behind.output().await?, 106);
    assert_eq!(saver.balance().run().await?, 106);
    let counts = run_counts(&scenario.runs);
    assert_eq!(
        counts["add-5"], 1,
        "the approved change applied once: {counts:?}"
    );
    assert_eq!(counts["add-100"], 1, "{counts:?}");
    engine.close().await
}

#[derive(Serialize, Deserialize)]
struct Box2 {
    n: u64,
}

#[virtual_actor]
impl Box2 {
    fn new() -> Self {
        Box2 { n: 0 }
    }
    fn slow(&mut self, runs: String) -> u64 {
        record_run(&runs, "slow");
        hang_in_child();
        self.n += 1;
        self.n
    }
    fn add(&mut self, runs: String, amount: u64) -> u64 {
        record_run(&runs, "add");
        self.n += amount;
        self.n
    }
}

/// A writer that only waited for its turn in each killed process keeps its attempts: once
/// the writer before it has used up its own (it kills its process each time), it runs.
#[tokio::test(flavor = "multi_thread")]
async fn a_writer_waiting_its_turn_keeps_its_attempts() -> workflow::Result<()> {
    if is_child() {
        let engine = Engine::open(std::env::var(STORE).unwrap()).await.unwrap();
        let runs = std::env::var(RUNS).unwrap();
        if engine.status("b@0").await.is_err() {
            let b = Box2::get_or_create(&engine, "b").await.unwrap();
            b.slow(runs.clone()).spawn().await.unwrap();
            b.add(runs.clone(), 100).spawn().await.unwrap();
        } else {
            engine.resume_all().await.unwrap();
        }
        std::future::pending::<()>().await;
    }
    let scenario = Scenario::new();
    for round in 1..=4 {
        let mut child =
            scenario.spawn_child("a_writer_waiting_its_turn_keeps_its_attempts", "sync");
        scenario.wait_for(|counts| counts.get("slow").copied() == Some(round));
        std::thread::sleep(std::time::Duration::from_millis(300));
        child.kill().unwrap();
        child.wait().unwrap();
    }
    let engine = Engine::open(&scenario.store).await?;
    engine.resume_all().await?;
    let first = engine.output::<u64>("b@0").await;
    let second = engine.output::<u64>("b@1").await;
    let counts = run_counts(&scenario.runs);
    assert!(matches!(first, Err(Error::TaskFailed { .. })), "{first:?}");
    assert_eq!(second?, 100, "b@1 ran after b@0 failed: {counts:?}");
    assert_eq!(counts["add"], 1, "{counts:?}");
    engine.close().await
}
