//! External events (API.md §5): delivered once, in order, kept durably until a step waits.

mod support;

use std::time::Duration;

use workflow::prelude::*;

#[task]
fn greet(name: String) -> String {
    format!("hello {name}")
}

#[task]
fn collect(values: Vec<u64>) -> Vec<u64> {
    values
}

#[task]
fn after(_slept: (), value: u64) -> u64 {
    value
}

#[task]
fn take_events(count: u64, seen: Vec<u64>) -> Flow<Vec<u64>> {
    if seen.len() as u64 == count {
        return Flow::Done(seen);
    }
    let next = workflow::wait_for_event(ExternalEvent::<u64>::new("tick"));
    workflow::continuation(append::bind(count, seen, next))
}

#[task]
fn append(count: u64, mut seen: Vec<u64>, value: u64) -> Flow<Vec<u64>> {
    seen.push(value);
    workflow::continuation(take_events::bind(count, seen))
}

#[tokio::test]
async fn external_event_sent_while_waiting() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let name = workflow::wait_for_event(ExternalEvent::<String>::new("name"));
    let handle = engine.spawn("greet", greet::bind(name)).await?;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(engine.status("greet").await?, WorkflowStatus::Running);
    engine
        .send_event(handle.id(), "name", &"Ada".to_string())
        .await?;
    assert_eq!(handle.output().await?, "hello Ada");
    assert_eq!(engine.task_output::<String>("greet", "event").await?, "Ada");
    Ok(())
}

#[tokio::test]
async fn external_event_sent_before_the_wait_is_kept() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let value = workflow::wait_for_event(ExternalEvent::<u64>::new("early"));
    // The wait starts only after the sleep; the event arrives first.
    let dag = after::bind(workflow::sleep(Duration::from_millis(200)), value);
    let handle = engine.spawn("early", dag).await?;
    engine.send_event("early", "early", &7u64).await?;
    assert_eq!(handle.output().await?, 7);
    Ok(())
}

#[tokio::test]
async fn external_events_with_one_key_are_a_queue() -> workflow::Result<()> {
    let engine = support::engine().await?;
    for value in [1u64, 2, 3] {
        // Sent before the workflow exists would be refused: create it first.
        if value == 1 {
            engine
                .spawn("ticks", take_events::bind(3, Vec::<u64>::new()))
                .await?;
        }
        engine.send_event("ticks", "tick", &value).await?;
    }
    assert_eq!(engine.output::<Vec<u64>>("ticks").await?, [1, 2, 3]);

    // Concurrent waits on one key each take a different event.
    let waits: Vec<Dag<u64>> = (0..3)
        .map(|_| workflow::wait_for_event(ExternalEvent::<u64>::new("fan")))
        .collect();
    let handle = engine.spawn("fan", collect::bind(waits)).await?;
    for value in [10u64, 20, 30] {
        engine.send_event("fan", "fan", &value).await?;
    }
    let mut got = handle.output().await?;
    got.sort_unstable();
    assert_eq!(got, [10, 20, 30]);
    Ok(())
}

#[tokio::test]
async fn external_event_errors() -> workflow::Result<()> {
    let engine = support::engine().await?;
    assert!(matches!(
        engine.send_event("nobody", "key", &1u64).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        engine.send_event("bad id", "key", &1u64).await,
        Err(Error::InvalidId { .. })
    ));
    let wait = workflow::wait_for_event(ExternalEvent::<u64>::new("typed"));
    let handle = engine.spawn("typed", collect::bind(vec![wait])).await?;
    engine
        .send_event("typed", "typed", &"not a number".to_string())
        .await?;
    match handle.output().await {
        Err(Error::TaskFailed { error, .. }) => {
            assert!(error.message().contains("String"), "{error}")
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    Ok(())
}

#[tokio::test]
async fn external_event_survives_a_restart() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).await?;
    let name = workflow::wait_for_event(ExternalEvent::<String>::new("name"));
    engine.spawn("restart", greet::bind(name)).await?;
    engine.close().await?;

    let engine = Engine::open(dir.path()).await?;
    assert_eq!(engine.status("restart").await?, WorkflowStatus::Resumable);
    engine
        .send_event("restart", "name", &"Grace".to_string())
        .await?;
    engine.close().await?;

    let engine = Engine::open(dir.path()).await?;
    assert_eq!(engine.resume::<String>("restart").await?, "hello Grace");
    engine.close().await
}

#[tokio::test]
async fn external_events_one_at_a_time_after_each_is_taken() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let handle = engine
        .spawn("one-by-one", take_events::bind(3, Vec::<u64>::new()))
        .await?;
    for value in [4u64, 5, 6] {
        engine.send_event("one-by-one", "tick", &value).await?;
        // Let the waiting step take it before the next one is sent.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let out = tokio::time::timeout(Duration::from_secs(20), handle.output())
        .await
        .expect("an event was never delivered")?;
    assert_eq!(out, [4, 5, 6]);
    Ok(())
}
