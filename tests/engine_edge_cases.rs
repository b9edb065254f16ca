//! Edge cases of the lifecycle: restarts that must not use up attempts, ids refused while
//! in use, and limits at their extremes.

mod support;

use std::time::Duration;

use support::{counted, gated, hits, logged, open_gate};
use workflow::prelude::*;

#[task]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

async fn wait_logged(entry: &str) {
    while logged(entry).is_empty() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn edge_close_does_not_use_up_an_attempt() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).await?;
    engine
        .spawn("no-retries", gated::bind("edge-close", 1).max_retries(0))
        .await?;
    wait_logged("edge-close:start").await;
    engine.close().await?;

    let engine = Engine::open(dir.path()).await?;
    open_gate("edge-close");
    assert_eq!(engine.resume::<i64>("no-retries").await?, 1);
    engine.close().await
}

#[tokio::test]
async fn edge_uncheckpointed_success_is_not_a_lost_attempt() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let dag = || {
        add::bind(
            counted::bind("edge-nockpt", 2)
                .checkpoint(false)
                .max_retries(0),
            gated::bind("edge-nockpt-gate", 3),
        )
    };
    for round in 0..3 {
        let engine = Engine::open(dir.path()).await?;
        if round == 0 {
            engine.spawn("nockpt-retry", dag()).await?;
        } else {
            engine.resume_all().await?;
        }
        while hits("edge-nockpt") <= round {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        engine.close().await?;
    }
    let engine = Engine::open(dir.path()).await?;
    open_gate("edge-nockpt-gate");
    assert_eq!(engine.resume::<i64>("nockpt-retry").await?, 5);
    assert_eq!(hits("edge-nockpt"), 4);
    engine.close().await
}

#[tokio::test]
async fn edge_other_dag_for_a_recovered_pending_id_is_refused() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::builder()
        .path(dir.path())
        .max_running_workflows(1)
        .build()
        .await?;
    engine
        .spawn("edge-first", gated::bind("edge-pending", 1))
        .await?;
    engine
        .spawn("edge-queued", gated::bind("edge-pending", 2))
        .await?;
    engine.close().await?;

    let engine = Engine::builder()
        .path(dir.path())
        .max_running_workflows(1)
        .build()
        .await?;
    assert_eq!(engine.status("edge-queued").await?, WorkflowStatus::Pending);
    let other = engine.run("edge-queued", add::bind(1, 1)).await;
    assert!(
        matches!(other, Err(Error::AlreadyExists { .. })),
        "{other:?}"
    );
    engine.cancel("edge-queued").await?;
    assert_eq!(
        engine.status("edge-queued").await?,
        WorkflowStatus::Canceled
    );
    engine.close().await
}

#[tokio::test]
async fn edge_second_spawn_returns_once_stored() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).await?;
    let dag = || gated::bind("edge-twice", 7);
    let (first, second) = tokio::join!(engine.spawn("twice", dag()), engine.spawn("twice", dag()));
    first?;
    second?;
    assert_eq!(engine.status("twice").await?, WorkflowStatus::Running);
    engine.close().await?;
    // Both returned only once the workflow was stored: a new engine finds it.
    let engine = Engine::open(dir.path()).await?;
    assert_eq!(engine.status("twice").await?, WorkflowStatus::Resumable);
    open_gate("edge-twice");
    assert_eq!(engine.resume::<i64>("twice").await?, 7);
    engine.close().await
}

#[tokio::test]
async fn edge_delete_and_cancel_while_in_use() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let handle = engine.spawn("busy", gated::bind("edge-busy", 1)).await?;
    assert!(matches!(
        engine.delete("busy").await,
        Err(Error::StillRunning { .. })
    ));
    engine.cancel("busy").await?;
    assert!(matches!(handle.output().await, Err(Error::Canceled { .. })));
    engine.delete("busy").await?;
    assert!(matches!(
        engine.cancel("busy").await,
        Err(Error::NotFound { .. })
    ));
    Ok(())
}

#[tokio::test]
async fn edge_extreme_retry_counts() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let dag = add::bind(counted::bind("edge-max", 1).max_retries(u32::MAX), 1);
    assert_eq!(engine.run("max-retries", dag).await?, 2);
    Ok(())
}
