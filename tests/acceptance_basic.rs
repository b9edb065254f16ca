//! API.md §2: the `basic` acceptance example, as a test.

use workflow::prelude::*;

#[task]
fn one() -> i64 {
    1
}

#[task]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[tokio::test]
async fn acceptance_basic() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path().join("workflow-data")).await?;
    let out: i64 = engine.run("run_1", add::bind(100, one::bind())).await?;
    assert_eq!(out, 101);
    assert_eq!(engine.status("run_1").await?, WorkflowStatus::Successful);
    assert_eq!(engine.output::<i64>("run_1").await?, 101);
    assert_eq!(engine.task_output::<i64>("run_1", "one").await?, 1);
    assert_eq!(engine.task_output::<i64>("run_1", "add").await?, 101);

    let handle: WorkflowHandle<i64> = engine.spawn("run_2", add::bind(1, one::bind())).await?;
    assert_eq!(handle.id(), "run_2");
    assert_eq!(handle.output().await?, 2);
    engine.close().await
}
