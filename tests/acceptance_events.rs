//! API.md §5: the `events` acceptance example, as a test: a durable sleep and an event
//! listener, gathered by one task.

use std::{
    sync::atomic::{AtomicU32, Ordering},
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};
use workflow::prelude::*;

static POLLS: AtomicU32 = AtomicU32::new(0);
static ACKS: AtomicU32 = AtomicU32::new(0);

#[derive(Serialize, Deserialize)]
struct MyEventListener {
    topic: String,
}

#[event_listener]
impl EventListener for MyEventListener {
    type Event = String;

    async fn poll_for_event(&self) -> workflow::Result<String> {
        POLLS.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(50)).await;
        Ok(format!("first message on {}", self.topic))
    }

    async fn event_checkpointed(&self, _event: &String) -> workflow::Result<()> {
        ACKS.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[task]
fn gather(_slept: (), event: String, text: String) -> (String, String) {
    (event, text)
}

#[tokio::test]
async fn acceptance_events() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path().join("workflow-data")).await?;
    let started = Instant::now();
    let sleep_task = workflow::sleep(Duration::from_millis(200));
    let event_task = workflow::wait_for_event(MyEventListener {
        topic: "orders".into(),
    });
    let out = engine
        .run(
            "events",
            gather::bind(sleep_task, event_task, "hello world"),
        )
        .await?;
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(
        out,
        (
            "first message on orders".to_string(),
            "hello world".to_string()
        )
    );
    assert_eq!(POLLS.load(Ordering::SeqCst), 1);
    assert_eq!(ACKS.load(Ordering::SeqCst), 1);
    assert_eq!(engine.status("events").await?, WorkflowStatus::Successful);
    // Run again with the same DAG: the stored output, nothing polled again.
    let again = engine
        .run(
            "events",
            gather::bind(
                workflow::sleep(Duration::from_millis(200)),
                workflow::wait_for_event(MyEventListener {
                    topic: "orders".into(),
                }),
                "hello world",
            ),
        )
        .await?;
    assert_eq!(again, out);
    assert_eq!(POLLS.load(Ordering::SeqCst), 1);
    engine.close().await
}
