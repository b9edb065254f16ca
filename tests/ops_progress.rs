//! `Engine::progress` and `WorkflowHandle::progress`: a watch of tasks done out of known.

mod support;

use std::time::Duration;

use support::{gated, open_gate};
use workflow::prelude::*;
use workflow::Progress;

#[task]
fn sum(values: Vec<i64>) -> i64 {
    values.into_iter().sum()
}

#[task]
fn countdown(n: u32) -> Flow<u32> {
    if n == 0 {
        Flow::Done(0)
    } else {
        Flow::Continue(countdown::bind(n - 1))
    }
}

/// Waits until `progress` shows `done` tasks, or panics after a while.
async fn wait_done(progress: &mut tokio::sync::watch::Receiver<Progress>, done: u64) -> Progress {
    tokio::time::timeout(
        Duration::from_secs(10),
        progress.wait_for(|p| p.done >= done),
    )
    .await
    .expect("progress in time")
    .map(|p| *p)
    .expect("the workflow still runs")
}

#[tokio::test]
async fn progress_follows_a_running_workflow_to_its_end() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let parts: Vec<Dag<i64>> = (0..4)
        .map(|i| gated::bind("progress_gate".to_string(), i))
        .collect();
    let handle = engine.spawn("watched", sum::bind(parts)).await?;
    let mut progress = handle.progress().await?;
    // The four gated tasks run and wait: nothing settled yet, five tasks known.
    let first = *progress.borrow_and_update();
    assert_eq!(first.known, 5);
    assert_eq!(first.done, 0);
    open_gate("progress_gate");
    let mut seen = vec![first];
    while progress.changed().await.is_ok() {
        seen.push(*progress.borrow_and_update());
    }
    assert_eq!(handle.output().await?, 6);
    let last = *seen.last().unwrap();
    assert_eq!((last.done, last.known), (5, 5));
    assert!(seen.windows(2).all(|w| w[0].done <= w[1].done), "{seen:?}");
    assert_eq!(last.fraction(), 1.0);
    Ok(())
}

#[tokio::test]
async fn progress_counts_tasks_of_continuations_as_they_come() -> workflow::Result<()> {
    let engine = support::engine().await?;
    engine.run("loop", countdown::bind(20)).await?;
    // One task per level: 21 known, all settled.
    let progress = *engine.progress("loop").await?.borrow();
    assert_eq!((progress.done, progress.known), (21, 21));
    Ok(())
}

#[tokio::test]
async fn progress_of_a_stored_workflow_is_read_from_the_store() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    {
        let engine = Engine::open(dir.path()).await?;
        let parts = vec![
            gated::bind("stored_progress_done".to_string(), 1),
            gated::bind("stored_progress_held".to_string(), 2),
        ];
        engine.spawn("half", sum::bind(parts)).await?;
        open_gate("stored_progress_done");
        let mut progress = engine.progress("half").await?;
        wait_done(&mut progress, 1).await;
        engine.close().await?;
    }
    let engine = Engine::open(dir.path()).await?;
    let mut progress = engine.progress("half").await?;
    assert_eq!(*progress.borrow(), stored(1, 3));
    // Nothing runs it here: the watch never changes.
    assert!(progress.changed().await.is_err());

    open_gate("stored_progress_held");
    assert_eq!(engine.resume::<i64>("half").await?, 3);
    assert_eq!(*engine.progress("half").await?.borrow(), stored(3, 3));
    Ok(())
}

#[tokio::test]
async fn progress_of_an_unknown_or_malformed_id_is_an_error() -> workflow::Result<()> {
    let engine = support::engine().await?;
    assert!(matches!(
        engine.progress("nobody").await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        engine.progress("bad/id").await,
        Err(Error::InvalidId { .. })
    ));
    Ok(())
}

fn stored(done: u64, known: u64) -> Progress {
    let mut progress = Progress::default();
    progress.done = done;
    progress.known = known;
    progress
}

#[task]
fn fails_later(n: u32) -> Result<i64, String> {
    Err(format!("step {n} failed"))
}

#[task]
fn continue_into_failure() -> Flow<i64> {
    Flow::Continue(fails_later::bind(1))
}

#[task]
fn report(caught: Result<i64, TaskError>) -> String {
    match caught {
        Ok(n) => n.to_string(),
        Err(error) => format!("caught: {}", error.message()),
    }
}

#[tokio::test]
async fn progress_ends_complete_when_a_continuation_s_failure_is_caught() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let dag = report::bind(continue_into_failure::bind().catch_errors());
    let handle = engine.spawn("caught", dag).await?;
    let mut progress = handle.progress().await?;
    let mut last = *progress.borrow_and_update();
    while progress.changed().await.is_ok() {
        last = *progress.borrow_and_update();
    }
    assert!(handle.output().await?.starts_with("caught:"));
    // The live watch ends where the stored figures are: every task accounted for, none twice.
    assert_eq!((last.done, last.known), (3, 3));
    Ok(())
}
