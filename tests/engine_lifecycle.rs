//! Workflow lifecycle: re-runs, ids, queueing, cancel, delete, list, close and resume.

mod support;

use std::time::Duration;

use support::{counted, gated, hit, hits, log, logged, open_gate};
use workflow::prelude::*;

#[task]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[task(blocking)]
fn spins_until_canceled(key: String) -> i64 {
    hit(&key);
    while !workflow::context().is_canceled() {
        std::thread::sleep(Duration::from_millis(5));
    }
    log(format!("{key}:saw-cancel"));
    -1
}

#[tokio::test]
async fn lifecycle_rerun_of_finished_id_runs_nothing() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let dag = || add::bind(counted::bind("rerun", 2), 3);
    assert_eq!(engine.run("rerun", dag()).await?, 5);
    assert_eq!(engine.run("rerun", dag()).await?, 5);
    assert_eq!(engine.resume::<i64>("rerun").await?, 5);
    assert_eq!(hits("rerun"), 1);
    Ok(())
}

#[tokio::test]
async fn lifecycle_different_dag_under_same_id_fails() -> workflow::Result<()> {
    let engine = support::engine().await?;
    engine.run("same-id", add::bind(1, 2)).await?;
    let other = engine.run("same-id", add::bind(1, 3)).await;
    assert!(
        matches!(other, Err(Error::AlreadyExists { .. })),
        "{other:?}"
    );
    assert_eq!(engine.output::<i64>("same-id").await?, 3);
    Ok(())
}

#[tokio::test]
async fn lifecycle_bad_and_unknown_ids() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let long = "x".repeat(201);
    for bad in ["", "a/b", "with space", "naïve", long.as_str()] {
        assert!(
            matches!(engine.status(bad).await, Err(Error::InvalidId { .. })),
            "{bad:?}"
        );
        assert!(matches!(
            engine.run(bad, add::bind(1, 1)).await,
            Err(Error::InvalidId { .. })
        ));
        assert!(matches!(
            engine.cancel(bad).await,
            Err(Error::InvalidId { .. })
        ));
        assert!(matches!(
            engine.delete(bad).await,
            Err(Error::InvalidId { .. })
        ));
    }
    assert!(matches!(
        engine.status("nope").await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        engine.output::<i64>("nope").await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        engine.metadata("nope").await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        engine.resume::<i64>("nope").await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        engine.cancel("nope").await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        engine.delete("nope").await,
        Err(Error::NotFound { .. })
    ));
    engine.run("known", add::bind(1, 1)).await?;
    assert!(matches!(
        engine.task_output::<i64>("known", "missing").await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        engine.task_output::<i64>("known", "bad/task").await,
        Err(Error::InvalidId { .. })
    ));
    let bad_task_id = engine
        .run("bad-task-id", add::bind(1, 1).task_id("a b"))
        .await;
    assert!(
        matches!(bad_task_id, Err(Error::InvalidId { .. })),
        "{bad_task_id:?}"
    );
    Ok(())
}

#[tokio::test]
async fn lifecycle_reading_as_the_wrong_type_is_a_codec_error() -> workflow::Result<()> {
    let engine = support::engine().await?;
    engine.run("typed", add::bind(1, 1)).await?;
    match engine.output::<String>("typed").await {
        Err(Error::Codec { message }) => {
            assert!(
                message.contains("i64") && message.contains("String"),
                "{message}"
            )
        }
        other => panic!("expected a codec error, got {other:?}"),
    }
    match engine.task_output::<u64>("typed", "add").await {
        Err(Error::Codec { message }) => {
            assert!(
                message.contains("i64") && message.contains("u64"),
                "{message}"
            )
        }
        other => panic!("expected a codec error, got {other:?}"),
    }
    Ok(())
}

#[tokio::test]
async fn lifecycle_cancel_running_workflow() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let handle = engine
        .spawn("to-cancel", add::bind(gated::bind("cancel-gate", 1), 1))
        .await?;
    while logged("cancel-gate:start").is_empty() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(engine.status("to-cancel").await?, WorkflowStatus::Running);
    engine.cancel("to-cancel").await?;
    assert_eq!(engine.status("to-cancel").await?, WorkflowStatus::Canceled);
    assert!(matches!(handle.output().await, Err(Error::Canceled { .. })));
    assert!(matches!(
        engine.resume::<i64>("to-cancel").await,
        Err(Error::Canceled { .. })
    ));
    let again = engine
        .run("to-cancel", add::bind(gated::bind("cancel-gate", 1), 1))
        .await;
    assert!(matches!(again, Err(Error::Canceled { .. })));
    Ok(())
}

#[tokio::test]
async fn lifecycle_cancel_reaches_a_sync_task() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let dag = spins_until_canceled::bind("spin");
    let _handle = engine.spawn("spin", dag).await?;
    while hits("spin") == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    engine.cancel("spin").await?;
    for _ in 0..200 {
        if !logged("spin:saw-cancel").is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(logged("spin:saw-cancel").len(), 1);
    assert_eq!(engine.status("spin").await?, WorkflowStatus::Canceled);
    Ok(())
}

#[tokio::test]
async fn lifecycle_delete_removes_every_record() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let handle = engine
        .spawn("deleting", gated::bind("delete-gate", 4))
        .await?;
    assert!(matches!(
        engine.delete("deleting").await,
        Err(Error::StillRunning { .. })
    ));
    open_gate("delete-gate");
    assert_eq!(handle.output().await?, 4);
    engine.delete("deleting").await?;
    assert!(matches!(
        engine.status("deleting").await,
        Err(Error::NotFound { .. })
    ));
    assert!(engine.list(None).await?.is_empty());
    // The id is free again, for any DAG.
    assert_eq!(engine.run("deleting", add::bind(2, 2)).await?, 4);
    Ok(())
}

#[tokio::test]
async fn lifecycle_list_filters_by_status() -> workflow::Result<()> {
    let engine = support::engine().await?;
    engine.run("ok-1", add::bind(1, 1)).await?;
    engine.run("ok-2", add::bind(1, 2)).await?;
    let _ = engine
        .run("bad-1", counted::bind("list", 1).task_id("x"))
        .await;
    let _running = engine
        .spawn("running-1", gated::bind("list-gate", 1))
        .await?;
    let all = engine.list(None).await?;
    assert_eq!(all.len(), 4);
    let ok: Vec<String> = engine
        .list(Some(WorkflowStatus::Successful))
        .await?
        .into_iter()
        .map(|w| w.id)
        .collect();
    assert_eq!(ok.len(), 3, "{ok:?}");
    let running = engine.list(Some(WorkflowStatus::Running)).await?;
    assert_eq!(running.len(), 1);
    assert_eq!(running[0].id, "running-1");
    assert!(engine
        .list(Some(WorkflowStatus::Canceled))
        .await?
        .is_empty());
    open_gate("list-gate");
    Ok(())
}

#[tokio::test]
async fn lifecycle_queue_pending_fifo_and_full() -> workflow::Result<()> {
    let engine = Engine::builder()
        .max_running_workflows(1)
        .max_pending_workflows(2)
        .build()
        .await?;
    let a = engine.spawn("q-a", gated::bind("queue-gate", 1)).await?;
    let b = engine.spawn("q-b", gated::bind("queue-gate", 2)).await?;
    let c = engine.spawn("q-c", gated::bind("queue-gate", 3)).await?;
    assert_eq!(engine.status("q-b").await?, WorkflowStatus::Pending);
    assert_eq!(engine.status("q-c").await?, WorkflowStatus::Pending);
    let full = engine.spawn("q-d", gated::bind("queue-gate", 4)).await;
    assert!(
        matches!(full, Err(Error::QueueFull { limit: 2 })),
        "{full:?}"
    );
    assert!(matches!(
        engine.status("q-d").await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(engine.list(Some(WorkflowStatus::Pending)).await?.len(), 2);
    open_gate("queue-gate");
    assert_eq!(a.output().await? + b.output().await? + c.output().await?, 6);
    assert_eq!(
        logged("queue-gate:start"),
        [
            "queue-gate:start:1",
            "queue-gate:start:2",
            "queue-gate:start:3"
        ]
    );
    Ok(())
}

#[tokio::test]
async fn lifecycle_close_leaves_running_workflows_resumable() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).await?;
    let dag = || add::bind(counted::bind("close", 1), gated::bind("close-gate", 2));
    let _handle = engine.spawn("closing", dag()).await?;
    while logged("close-gate:start").is_empty() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    engine.close().await?;

    let engine = Engine::open(dir.path()).await?;
    assert_eq!(engine.status("closing").await?, WorkflowStatus::Resumable);
    assert!(matches!(
        engine.output::<i64>("closing").await,
        Err(Error::NotFinished { .. })
    ));
    open_gate("close-gate");
    assert_eq!(engine.resume_all().await?, ["closing"]);
    assert_eq!(engine.output::<i64>("closing").await?, 3);
    assert_eq!(hits("close"), 1);
    engine.close().await?;
    Ok(())
}

#[tokio::test]
async fn lifecycle_pending_workflows_start_again_on_open() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::builder()
        .path(dir.path())
        .max_running_workflows(1)
        .build()
        .await?;
    let _a = engine.spawn("p-a", gated::bind("pending-gate", 1)).await?;
    let _b = engine.spawn("p-b", add::bind(1, 1)).await?;
    assert_eq!(engine.status("p-b").await?, WorkflowStatus::Pending);
    engine.close().await?;

    let engine = Engine::open(dir.path()).await?;
    assert_eq!(engine.output::<i64>("p-b").await?, 2);
    assert_eq!(engine.status("p-a").await?, WorkflowStatus::Resumable);
    engine.close().await?;
    Ok(())
}

#[tokio::test]
async fn lifecycle_metadata_has_times_attempts_and_user_metadata() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let dag = add::bind(1, 2).metadata(serde_json::json!({ "step": "sum" }));
    workflow::create(dag)
        .id("meta")
        .metadata(serde_json::json!({ "owner": "ops" }))
        .run(&engine)
        .await?;
    let meta = engine.metadata("meta").await?;
    assert_eq!(meta.status, WorkflowStatus::Successful);
    assert_eq!(meta.user_metadata["owner"], "ops");
    let (start, end) = (meta.start_time.unwrap(), meta.end_time.unwrap());
    assert!(end >= start);
    let task = &meta.tasks[0];
    assert_eq!(task.task_id, "add");
    assert_eq!(task.status, TaskStatus::Successful);
    assert_eq!(task.attempts, 1);
    assert_eq!(task.user_metadata["step"], "sum");
    assert!(task.start_time.unwrap() >= start && task.end_time.unwrap() <= end);
    Ok(())
}

#[tokio::test]
async fn lifecycle_second_open_in_process_is_locked() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).await?;
    assert!(matches!(
        Engine::open(dir.path()).await,
        Err(Error::Locked { .. })
    ));
    engine.close().await?;
    Engine::open(dir.path()).await?.close().await?;
    Ok(())
}
