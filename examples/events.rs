//! The events acceptance example: a durable sleep and an event listener, gathered by a task.
//!
//! `cargo run --example events`
//!
//! The listener reads a small in-process message board that `main` posts to, so the example
//! triggers its own event; a real listener would wait on a queue, a webhook or a database.

use std::{
    collections::HashMap,
    sync::{LazyLock, Mutex},
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use workflow::prelude::*;

/// Messages posted by topic; a message stays until its listener acknowledges it.
static BOARD: LazyLock<Mutex<HashMap<String, Vec<String>>>> = LazyLock::new(Default::default);
static POSTED: Notify = Notify::const_new();

fn post(topic: &str, message: &str) {
    let mut board = BOARD.lock().unwrap();
    board.entry(topic.into()).or_default().push(message.into());
    POSTED.notify_waiters();
}

#[derive(Serialize, Deserialize)]
struct MyEventListener {
    topic: String,
}

#[event_listener]
impl EventListener for MyEventListener {
    type Event = String;

    /// Waits for the first message of the topic, leaving it on the board.
    async fn poll_for_event(&self) -> workflow::Result<String> {
        loop {
            let posted = POSTED.notified();
            tokio::pin!(posted);
            posted.as_mut().enable();
            let first = BOARD
                .lock()
                .unwrap()
                .get(&self.topic)
                .and_then(|messages| messages.first().cloned());
            if let Some(message) = first {
                return Ok(message);
            }
            posted.await;
        }
    }

    /// The event is durable now: take the message off the board.
    async fn event_checkpointed(&self, event: &String) -> workflow::Result<()> {
        let mut board = BOARD.lock().unwrap();
        if let Some(messages) = board.get_mut(&self.topic) {
            messages.retain(|message| message != event);
        }
        Ok(())
    }
}

#[task]
fn gather(slept: (), event: String, text: String) -> (String, String) {
    let () = slept;
    (event, text)
}

#[tokio::main]
async fn main() -> workflow::Result<()> {
    // A store of its own, fresh on every run.
    let path = std::env::temp_dir().join("workflow-example-events");
    let _ = std::fs::remove_dir_all(&path);
    let engine = Engine::open(&path).await?;

    let started = Instant::now();
    let sleep_task = workflow::sleep(Duration::from_millis(300)); // Dag<()>
    let event_task = workflow::wait_for_event(MyEventListener {
        topic: "orders".into(),
    }); // Dag<String>
    let handle = engine
        .spawn(
            "events",
            gather::bind(sleep_task, event_task, "hello world"),
        )
        .await?;

    tokio::time::sleep(Duration::from_millis(100)).await;
    post("orders", "order #1 placed");

    let (event, text) = handle.output().await?;
    let elapsed = started.elapsed();
    println!("gathered ({event:?}, {text:?}) after {elapsed:?}");
    assert_eq!(event, "order #1 placed");
    assert_eq!(text, "hello world");
    assert!(
        elapsed >= Duration::from_millis(300),
        "the sleep lasts its time"
    );
    assert!(
        BOARD.lock().unwrap()["orders"].is_empty(),
        "the listener acknowledged its message once it was checkpointed"
    );

    engine.close().await?;
    Ok(())
}
