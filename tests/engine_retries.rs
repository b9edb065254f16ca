//! Retries, caught failures, panics and timeouts, counted per attempt.

mod support;

use std::time::{Duration, Instant};

use support::{hit, hits};
use workflow::prelude::*;

#[task]
fn always_panics(key: String) -> i64 {
    hit(&key);
    panic!("boom in {key}");
}

#[task]
fn always_errs(key: String) -> Result<i64, String> {
    hit(&key);
    Err(format!("no luck in {key}"))
}

#[task(max_retries = 5, retry_errors = true)]
fn succeeds_on_third(key: String) -> Result<i64, String> {
    let attempt = workflow::context().attempt();
    hit(&key);
    if attempt < 3 {
        Err(format!("attempt {attempt} failed"))
    } else {
        Ok(attempt as i64)
    }
}

#[task]
fn describe(result: Result<i64, TaskError>) -> String {
    match result {
        Ok(v) => format!("ok {v}"),
        Err(e) => format!(
            "err panic={} attempts={} {}",
            e.is_panic(),
            e.attempts(),
            e.message()
        ),
    }
}

#[task]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[task(retry_backoff = "20ms", max_retries = 2)]
fn panics_with_backoff(key: String) -> i64 {
    hit(&key);
    panic!("again");
}

#[task(timeout = "50ms", max_retries = 1, retry_errors = true)]
async fn too_slow(key: String) -> i64 {
    hit(&key);
    tokio::time::sleep(Duration::from_secs(60)).await;
    0
}

#[tokio::test]
async fn retries_panics_up_to_max_retries() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let dag = always_panics::bind("retry_panic").max_retries(2);
    match engine.run("panics", dag).await {
        Err(Error::TaskFailed { task_id, error, .. }) => {
            assert_eq!(task_id, "always_panics");
            assert!(error.is_panic());
            assert_eq!(error.attempts(), 3);
            assert!(error.message().contains("boom in retry_panic"), "{error}");
        }
        other => panic!("expected TaskFailed, got {other:?}"),
    }
    assert_eq!(hits("retry_panic"), 3);
    assert_eq!(engine.status("panics").await?, WorkflowStatus::Failed);
    Ok(())
}

#[tokio::test]
async fn retries_errors_are_not_retried_by_default() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let result = engine
        .run("errs", always_errs::bind("retry_err_default"))
        .await;
    assert!(
        matches!(result, Err(Error::TaskFailed { .. })),
        "{result:?}"
    );
    assert_eq!(hits("retry_err_default"), 1);
    Ok(())
}

#[tokio::test]
async fn retries_errors_with_retry_errors() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let dag = always_errs::bind("retry_err_on")
        .retry_errors(true)
        .max_retries(4);
    let result = engine.run("errs-retried", dag).await;
    match result {
        Err(Error::TaskFailed { error, .. }) => {
            assert!(!error.is_panic());
            assert_eq!(error.attempts(), 5);
        }
        other => panic!("expected TaskFailed, got {other:?}"),
    }
    assert_eq!(hits("retry_err_on"), 5);
    assert_eq!(
        engine
            .run("third", succeeds_on_third::bind("retry_third"))
            .await?,
        3
    );
    assert_eq!(hits("retry_third"), 3);
    let meta = engine.metadata("third").await?;
    assert_eq!(meta.tasks[0].attempts, 3);
    Ok(())
}

#[tokio::test]
async fn retries_catch_errors_turns_failures_into_values() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let caught = always_errs::bind("catch_err").catch_errors();
    assert_eq!(
        engine.run("catch-err", describe::bind(caught)).await?,
        "err panic=false attempts=1 no luck in catch_err"
    );
    let caught = always_panics::bind("catch_panic")
        .max_retries(1)
        .catch_errors();
    let out = engine.run("catch-panic", describe::bind(caught)).await?;
    assert!(out.starts_with("err panic=true attempts=2"), "{out}");
    assert_eq!(hits("catch_panic"), 2);
    let fine = add::bind(1, 2).catch_errors();
    assert_eq!(engine.run("catch-ok", describe::bind(fine)).await?, "ok 3");
    Ok(())
}

#[tokio::test]
async fn retries_caught_root_is_the_output() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let out: Result<i64, TaskError> = engine
        .run(
            "caught-root",
            always_errs::bind("catch_root").catch_errors(),
        )
        .await?;
    let error = out.expect_err("the task always fails");
    assert_eq!(error.message(), "no luck in catch_root");
    let again: Result<i64, TaskError> = engine.output("caught-root").await?;
    assert_eq!(again.unwrap_err(), error);
    Ok(())
}

#[tokio::test]
async fn retries_back_off_between_attempts() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let started = Instant::now();
    let result = engine
        .run("backoff", panics_with_backoff::bind("backoff"))
        .await;
    assert!(matches!(result, Err(Error::TaskFailed { .. })));
    assert_eq!(hits("backoff"), 3);
    // 20 ms before the second attempt, 40 ms before the third.
    assert!(started.elapsed() >= Duration::from_millis(60));
    Ok(())
}

#[tokio::test]
async fn retries_timeouts_fail_the_attempt() -> workflow::Result<()> {
    let engine = support::engine().await?;
    match engine.run("timeout", too_slow::bind("timeout")).await {
        Err(Error::TaskFailed { error, .. }) => {
            assert!(error.is_timeout());
            assert_eq!(error.attempts(), 2);
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(hits("timeout"), 2);
    // Without `retry_errors`, a timeout is not retried.
    let once = too_slow::bind("timeout_once").retry_errors(false);
    match engine.run("timeout-once", once).await {
        Err(Error::TaskFailed { error, .. }) => assert_eq!(error.attempts(), 1),
        other => panic!("expected a timeout, got {other:?}"),
    }
    Ok(())
}

#[task(timeout = "30ms")]
fn busy_sync(key: String) -> i64 {
    hit(&key);
    let start = Instant::now();
    // Runs inline and never yields: only its deadline can tell it to stop.
    while start.elapsed() < Duration::from_millis(300) {
        if workflow::context().is_canceled() {
            return -1;
        }
        std::hint::spin_loop();
    }
    42
}

#[tokio::test(flavor = "current_thread")]
async fn retries_sync_task_sees_its_timeout() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let started = Instant::now();
    match engine
        .run("sync-timeout", busy_sync::bind("sync_timeout"))
        .await
    {
        Err(Error::TaskFailed { error, .. }) => assert!(error.is_timeout(), "{error}"),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_millis(250));
    assert_eq!(hits("sync_timeout"), 1);
    Ok(())
}

#[tokio::test]
async fn retries_failed_workflow_output_runs_nothing_and_resume_retries() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let dag = || add::bind(always_errs::bind("failed_rerun"), 1);
    assert!(engine.run("failed", dag()).await.is_err());
    assert_eq!(hits("failed_rerun"), 1);
    assert!(matches!(
        engine.run("failed", dag()).await,
        Err(Error::TaskFailed { .. })
    ));
    assert!(matches!(
        engine.output::<i64>("failed").await,
        Err(Error::TaskFailed { .. })
    ));
    assert_eq!(hits("failed_rerun"), 1);
    assert!(matches!(
        engine.resume::<i64>("failed").await,
        Err(Error::TaskFailed { .. })
    ));
    assert_eq!(hits("failed_rerun"), 2);
    Ok(())
}
