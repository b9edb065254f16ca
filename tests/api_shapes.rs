//! The trait shapes API.md promises: `Send` futures, cheap clonable handles, serializable
//! statuses and errors.

mod support;

use workflow::prelude::*;

#[task]
fn one() -> i64 {
    1
}

#[task]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn clone_send_sync<T: Clone + Send + Sync + 'static>() {}
fn serde_roundtrip<
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
>(
    value: T,
) {
    let json = serde_json::to_string(&value).unwrap();
    assert_eq!(serde_json::from_str::<T>(&json).unwrap(), value);
}

#[tokio::test]
async fn api_futures_are_send() -> workflow::Result<()> {
    let engine = support::engine().await?;
    // `tokio::spawn` only takes `Send` futures: this compiles only if every call is `Send`.
    let out = tokio::spawn(async move {
        let out = engine.run("send", add::bind(1, one::bind())).await?;
        let handle = engine.spawn("send-2", one::bind()).await?;
        handle.output().await?;
        engine.status("send").await?;
        engine.output::<i64>("send").await?;
        engine.task_output::<i64>("send", "one").await?;
        engine.metadata("send").await?;
        engine.list(None).await?;
        engine.resume::<i64>("send").await?;
        engine.resume_all().await?;
        engine.cancel("send-2").await?;
        engine.delete("send-2").await?;
        workflow::create(one::bind())
            .id("send-3")
            .run(&engine)
            .await?;
        engine.close().await?;
        Ok::<_, Error>(out)
    })
    .await
    .unwrap()?;
    assert_eq!(out, 2);
    Ok(())
}

#[test]
fn api_handles_and_values_have_their_traits() {
    clone_send_sync::<Engine>();
    clone_send_sync::<Dag<i64>>();
    clone_send_sync::<WorkflowHandle<i64>>();
    clone_send_sync::<TaskError>();
    clone_send_sync::<Error>();
    fn error_trait<E: std::error::Error + Send + Sync + 'static>() {}
    error_trait::<Error>();
    fn copy_eq<T: Copy + Eq + std::fmt::Debug + serde::Serialize>() {}
    copy_eq::<WorkflowStatus>();
    serde_roundtrip(WorkflowStatus::Resumable);
}

#[tokio::test]
async fn api_task_error_serializes_and_displays() -> workflow::Result<()> {
    #[task]
    fn fails() -> Result<i64, String> {
        Err("declined".into())
    }
    let engine = support::engine().await?;
    let out: Result<i64, TaskError> = engine.run("te", fails::bind().catch_errors()).await?;
    let error = out.unwrap_err();
    assert_eq!(error.to_string(), "failed after 1 attempt: declined");
    serde_roundtrip(error.clone());
    assert!(format!("{error:?}").contains("declined"));
    Ok(())
}
