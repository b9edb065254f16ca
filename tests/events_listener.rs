//! Event listeners: `#[event_listener]` types waited for with `workflow::wait_for_event`.

mod support;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use support::{gate, hit, hits, log, logged, open_gate};
use workflow::prelude::*;

/// Waits at the gate named `mailbox`, then returns `{mailbox}-event`; its first `fail_first`
/// polls fail.
#[derive(Serialize, Deserialize)]
struct Mailbox {
    mailbox: String,
    fail_first: u32,
}

impl Mailbox {
    fn new(mailbox: &str) -> Mailbox {
        Mailbox {
            mailbox: mailbox.to_string(),
            fail_first: 0,
        }
    }
}

#[event_listener]
impl EventListener for Mailbox {
    type Event = String;

    async fn poll_for_event(&self) -> workflow::Result<String> {
        let polls = hit(&format!("poll:{}", self.mailbox));
        log(format!("{}:poll", self.mailbox));
        if polls <= self.fail_first {
            return Err(Error::Interrupted {
                id: self.mailbox.clone(),
                reason: "the mailbox is unreachable".into(),
            });
        }
        let _permit = gate(&self.mailbox).acquire_owned().await.unwrap();
        Ok(format!("{}-event", self.mailbox))
    }

    async fn event_checkpointed(&self, event: &String) -> workflow::Result<()> {
        hit(&format!("ack:{}", self.mailbox));
        log(format!("{}:ack:{event}", self.mailbox));
        Ok(())
    }
}

/// A listener under a durable name of its own, relying on the default `event_checkpointed`.
#[derive(Serialize, Deserialize)]
struct Ticker(u64);

#[event_listener(name = "tests.ticker")]
impl EventListener for Ticker {
    type Event = u64;

    async fn poll_for_event(&self) -> workflow::Result<u64> {
        Ok(self.0 + 1)
    }
}

#[task]
fn record(tag: String, event: String) -> String {
    log(format!("{tag}:use:{event}"));
    event
}

#[task]
fn pair(first: String, second: String) -> String {
    format!("{first}+{second}")
}

#[task]
fn combine(slow: i64, listened: String, sent: i64) -> String {
    format!("{slow}/{listened}/{sent}")
}

#[task]
fn wait_then(depth: u64) -> Flow<String> {
    if depth == 0 {
        return workflow::continuation(record::bind(
            "deep",
            workflow::wait_for_event(Mailbox::new("deep")),
        ));
    }
    workflow::continuation(wait_then::bind(depth - 1))
}

async fn wait_until_logged(entry: &str) {
    while logged(entry).is_empty() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn event_is_checkpointed_then_acknowledged_before_its_dependents() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let waited = workflow::wait_for_event(Mailbox::new("order"));
    let handle = engine.spawn("w", record::bind("order", waited)).await?;
    wait_until_logged("order:poll").await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(engine.status("w").await?, WorkflowStatus::Running);
    assert!(logged("order:use").is_empty(), "ran before its event");

    open_gate("order");
    assert_eq!(handle.output().await?, "order-event");
    assert_eq!(
        logged("order:"),
        [
            "order:poll",
            "order:ack:order-event",
            "order:use:order-event"
        ]
    );
    assert_eq!((hits("poll:order"), hits("ack:order")), (1, 1));
    // The polled event is a checkpointed step of its own; `event` is the acknowledged one.
    assert_eq!(
        engine.task_output::<String>("w", "poll_for_event").await?,
        "order-event"
    );
    assert_eq!(
        engine.task_output::<String>("w", "event").await?,
        "order-event"
    );
    let tasks = engine.metadata("w").await?.tasks;
    let poll = tasks
        .iter()
        .find(|t| t.task_id == "poll_for_event")
        .unwrap();
    assert!(
        poll.name.ends_with("Mailbox::poll_for_event"),
        "{}",
        poll.name
    );
    engine.close().await
}

#[tokio::test]
async fn a_task_waits_for_both_of_two_listeners() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let first = workflow::wait_for_event(Mailbox::new("first"));
    let second = workflow::wait_for_event(Mailbox::new("second"));
    let handle = engine.spawn("two", pair::bind(first, second)).await?;
    wait_until_logged("first:poll").await;
    wait_until_logged("second:poll").await;

    open_gate("second");
    wait_until_logged("second:ack").await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(engine.status("two").await?, WorkflowStatus::Running);

    open_gate("first");
    assert_eq!(handle.output().await?, "first-event+second-event");
    assert_eq!((hits("poll:first"), hits("poll:second")), (1, 1));
    engine.close().await
}

#[tokio::test]
async fn events_arrive_before_and_during_argument_resolution() -> workflow::Result<()> {
    let engine = support::engine().await?;
    // The listener's event is there before the wait starts.
    open_gate("early");
    let slow = support::gated::bind("resolution-slow", 7);
    let listened = workflow::wait_for_event(Mailbox::new("early"));
    let sent = workflow::wait_for_event(ExternalEvent::<i64>::new("late"));
    let handle = engine
        .spawn("mixed", combine::bind(slow, listened, sent))
        .await?;
    wait_until_logged("early:ack").await;
    wait_until_logged("resolution-slow:start").await;
    // The external event comes while the other arguments are still being resolved.
    engine.send_event("mixed", "late", &9_i64).await?;
    tokio::time::sleep(Duration::from_millis(30)).await;
    assert_eq!(engine.status("mixed").await?, WorkflowStatus::Running);
    open_gate("resolution-slow");
    assert_eq!(handle.output().await?, "7/early-event/9");
    engine.close().await
}

#[tokio::test]
async fn a_failing_poll_is_retried() -> workflow::Result<()> {
    let engine = support::engine().await?;
    open_gate("flaky");
    let listener = Mailbox {
        mailbox: "flaky".into(),
        fail_first: 2,
    };
    let out = engine
        .run("flaky", workflow::wait_for_event(listener))
        .await?;
    assert_eq!(out, "flaky-event");
    assert_eq!((hits("poll:flaky"), hits("ack:flaky")), (3, 1));
    let tasks = engine.metadata("flaky").await?.tasks;
    let poll = tasks
        .iter()
        .find(|t| t.task_id == "poll_for_event")
        .unwrap();
    assert_eq!(poll.attempts, 3);
    engine.close().await
}

#[tokio::test]
async fn a_listener_waits_inside_a_continuation() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let handle = engine.spawn("deep", wait_then::bind(3)).await?;
    wait_until_logged("deep:poll").await;
    open_gate("deep");
    assert_eq!(handle.output().await?, "deep-event");
    assert_eq!(logged("deep:use"), ["deep:use:deep-event"]);
    engine.close().await
}

#[tokio::test]
async fn a_named_listener_with_the_default_acknowledgement() -> workflow::Result<()> {
    let engine = support::engine().await?;
    assert_eq!(
        engine
            .run("tick", workflow::wait_for_event(Ticker(41)))
            .await?,
        42
    );
    let tasks = engine.metadata("tick").await?.tasks;
    let names: Vec<&str> = tasks.iter().map(|t| t.name.as_str()).collect();
    assert!(names.contains(&"tests.ticker::poll_for_event"), "{names:?}");
    assert!(
        names.contains(&"tests.ticker::event_checkpointed"),
        "{names:?}"
    );
    engine.close().await
}

#[tokio::test]
async fn a_waiting_listener_polls_again_after_a_clean_restart() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let engine = Engine::open(&path).await?;
    let waited = workflow::wait_for_event(Mailbox::new("restart"));
    let _handle = engine.spawn("r", record::bind("restart", waited)).await?;
    wait_until_logged("restart:poll").await;
    engine.close().await?;

    let engine = Engine::open(&path).await?;
    assert_eq!(engine.status("r").await?, WorkflowStatus::Resumable);
    assert_eq!(engine.resume_all().await?, ["r"]);
    wait_until_logged("restart:poll").await;
    open_gate("restart");
    assert_eq!(engine.output::<String>("r").await?, "restart-event");
    // The first poll was stopped before it had an event: only a second one delivered it.
    assert_eq!((hits("poll:restart"), hits("ack:restart")), (2, 1));
    engine.close().await
}
