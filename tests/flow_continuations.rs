//! Continuations (API.md §3): sequential, nested, loops, recursion, failures and catch.

mod support;

use support::{hit, hits};
use workflow::prelude::*;

#[task]
fn add(a: u64, b: u64) -> u64 {
    a + b
}

#[task]
fn mul(a: u64, b: u64) -> u64 {
    a * b
}

#[task]
fn fib(n: u64) -> Flow<u64> {
    if n <= 1 {
        return Flow::Done(n);
    }
    workflow::continuation(add::bind(fib::bind(n - 1), fib::bind(n - 2)))
}

#[task]
async fn factorial(n: u64) -> Flow<u64> {
    if n <= 1 {
        return Flow::Done(1);
    }
    workflow::continuation(mul::bind(n, factorial::bind(n - 1)))
}

#[task]
fn count_loop(i: u64, limit: u64) -> Flow<u64> {
    if i >= limit {
        Flow::Done(i)
    } else {
        workflow::continuation(count_loop::bind(i + 1, limit))
    }
}

#[task]
fn sequential(key: String) -> Flow<u64> {
    hit(&key);
    workflow::continuation(add::bind(add::bind(1, 2), 3))
}

#[task]
fn nested(depth: u64) -> Flow<u64> {
    if depth == 0 {
        return Flow::Done(100);
    }
    // A continuation whose own nodes continue.
    workflow::continuation(add::bind(nested::bind(depth - 1), 1))
}

#[task]
fn fallible_step(i: u64, fail_at: u64) -> Result<Flow<u64>, String> {
    if i == fail_at {
        return Err(format!("step {i} failed"));
    }
    if i == 10 {
        return Ok(Flow::Done(i));
    }
    Ok(workflow::continuation(
        fallible_step::bind(i + 1, fail_at).task_id(format!("step-{}", i + 1)),
    ))
}

#[task]
fn double(x: u64) -> u64 {
    x * 2
}

#[task]
fn exponential(level: u64, value: u64, fail_at: u64) -> Result<Flow<u64>, String> {
    if level == fail_at {
        return Err(format!("level {level} failed"));
    }
    let next = double::bind(value).task_id(format!("double-{level}"));
    Ok(workflow::continuation(exponential::bind(
        level + 1,
        next,
        fail_at,
    )))
}

#[task]
fn describe(result: Result<u64, TaskError>) -> String {
    match result {
        Ok(v) => format!("ok {v}"),
        Err(e) => format!("caught: {}", e.message()),
    }
}

#[task]
fn wrap(inner: u64) -> Flow<Result<u64, TaskError>> {
    workflow::continuation(fallible_step::bind(inner, 3).catch_errors())
}

#[tokio::test]
async fn flow_fib_and_factorial() -> workflow::Result<()> {
    let engine = support::engine().await?;
    assert_eq!(engine.run("fib", fib::bind(10)).await?, 55);
    assert_eq!(
        engine.run("factorial", factorial::bind(10)).await?,
        3_628_800
    );
    // Another run of the same id runs nothing and returns the stored output.
    assert_eq!(engine.run("fib", fib::bind(10)).await?, 55);
    Ok(())
}

#[tokio::test]
async fn flow_sequential_continuation_ids_are_readable() -> workflow::Result<()> {
    let engine = support::engine().await?;
    assert_eq!(engine.run("seq", sequential::bind("flow_seq")).await?, 6);
    assert_eq!(hits("flow_seq"), 1);
    assert_eq!(engine.task_output::<u64>("seq", "sequential").await?, 6);
    assert_eq!(engine.task_output::<u64>("seq", "add").await?, 3);
    assert_eq!(engine.task_output::<u64>("seq", "add_1").await?, 6);
    let meta = engine.metadata("seq").await?;
    let ids: Vec<&str> = meta.tasks.iter().map(|t| t.task_id.as_str()).collect();
    assert_eq!(ids, ["sequential", "add", "add_1"]);
    Ok(())
}

#[tokio::test]
async fn flow_nested_continuations() -> workflow::Result<()> {
    let engine = support::engine().await?;
    assert_eq!(engine.run("nested", nested::bind(5)).await?, 105);
    assert_eq!(engine.task_output::<u64>("nested", "nested").await?, 105);
    Ok(())
}

#[tokio::test]
async fn flow_loop_by_continuation() -> workflow::Result<()> {
    let engine = Engine::builder().in_memory().build().await?;
    assert_eq!(engine.run("loop", count_loop::bind(0, 1000)).await?, 1000);
    assert_eq!(
        engine.task_output::<u64>("loop", "count_loop_500").await?,
        1000
    );
    Ok(())
}

#[tokio::test]
async fn flow_failure_inside_a_continuation_fails_the_workflow() -> workflow::Result<()> {
    let engine = support::engine().await?;
    match engine.run("fail-chain", fallible_step::bind(0, 4)).await {
        Err(Error::TaskFailed { task_id, error, .. }) => {
            assert_eq!(task_id, "step-4");
            assert_eq!(error.message(), "step 4 failed");
        }
        other => panic!("expected TaskFailed, got {other:?}"),
    }
    // The last step that succeeded has a pointer to the failed level, not an output.
    assert!(engine
        .task_output::<u64>("fail-chain", "step-3")
        .await
        .is_err());
    assert!(matches!(
        engine.task_output::<u64>("fail-chain", "step-4").await,
        Err(Error::TaskFailed { .. })
    ));
    Ok(())
}

#[tokio::test]
async fn flow_exponential_fail_keeps_the_last_successful_output() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let result = engine.run("exponential", exponential::bind(0, 1, 5)).await;
    assert!(
        matches!(result, Err(Error::TaskFailed { .. })),
        "{result:?}"
    );
    // Each level doubled the value before continuing; the last one that ran is readable.
    assert_eq!(
        engine.task_output::<u64>("exponential", "double-4").await?,
        32
    );
    assert_eq!(
        engine.task_output::<u64>("exponential", "double-0").await?,
        2
    );
    assert!(matches!(
        engine.task_output::<u64>("exponential", "double-5").await,
        Err(Error::NotFound { .. })
    ));
    Ok(())
}

#[task]
fn outer(fail_at: u64) -> Flow<Result<u64, TaskError>> {
    // `middle` has no dependents: its stored pointer leads to a level that catches errors.
    workflow::continuation(middle::bind(fail_at))
}

#[task]
fn middle(fail_at: u64) -> Flow<Result<u64, TaskError>> {
    workflow::continuation(fallible_step::bind(0, fail_at).catch_errors())
}

#[tokio::test]
async fn flow_task_output_through_a_catching_level() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let out = engine.run("through-ok", outer::bind(99)).await?;
    assert_eq!(out.unwrap(), 10);
    let middle: Result<u64, TaskError> = engine.task_output("through-ok", "middle").await?;
    assert_eq!(middle.unwrap(), 10);

    let out = engine.run("through-err", outer::bind(2)).await?;
    assert_eq!(out.unwrap_err().message(), "step 2 failed");
    let middle: Result<u64, TaskError> = engine.task_output("through-err", "middle").await?;
    assert_eq!(middle.unwrap_err().message(), "step 2 failed");
    Ok(())
}

#[task]
fn bad_continuation() -> Flow<u64> {
    workflow::continuation(add::bind(1, 2).task_id("not a valid id"))
}

#[tokio::test]
async fn flow_continuation_that_cannot_be_stored_fails_its_task() -> workflow::Result<()> {
    let engine = support::engine().await?;
    match engine
        .run("bad-continuation", bad_continuation::bind())
        .await
    {
        Err(Error::TaskFailed { task_id, error, .. }) => {
            assert_eq!(task_id, "bad_continuation");
            assert!(error.message().contains("invalid id"), "{error}");
        }
        other => panic!("expected TaskFailed, got {other:?}"),
    }
    assert_eq!(
        engine.status("bad-continuation").await?,
        WorkflowStatus::Failed
    );
    Ok(())
}

#[tokio::test]
async fn flow_catch_errors_covers_the_continuation_tree() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let caught = fallible_step::bind(0, 6).catch_errors();
    assert_eq!(
        engine.run("catch-tree", describe::bind(caught)).await?,
        "caught: step 6 failed"
    );
    let fine = fallible_step::bind(0, 99).catch_errors();
    assert_eq!(engine.run("catch-ok", describe::bind(fine)).await?, "ok 10");
    Ok(())
}

#[tokio::test]
async fn flow_nested_catch_is_the_nearest() -> workflow::Result<()> {
    let engine = support::engine().await?;
    // The inner catch (inside `wrap`'s continuation) settles first; the outer never sees it.
    let outer = wrap::bind(0).catch_errors();
    let out: Result<Result<u64, TaskError>, TaskError> = engine.run("nested-catch", outer).await?;
    let inner = out.expect("the outer node succeeded");
    assert_eq!(inner.unwrap_err().message(), "step 3 failed");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn flow_loop_100k_levels_deep() -> workflow::Result<()> {
    // Each level is a task that continues with the next: no Rust stack grows with depth.
    let engine = Engine::builder()
        .durability(Durability::Buffered)
        .build()
        .await?;
    assert_eq!(
        engine.run("deep", count_loop::bind(0, 100_000)).await?,
        100_000
    );
    assert_eq!(
        engine.task_output::<u64>("deep", "count_loop").await?,
        100_000
    );
    engine.close().await
}
