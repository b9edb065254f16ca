//! Objects (API.md §4): references nested in outputs, resolution as arguments, sharing,
//! large values, deletion, and bad records.

mod support;

use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;
use support::{hit, hits};
use workflow::{prelude::*, storage::Storage};

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
struct Report {
    title: String,
    body: ObjectRef<String>,
}

#[task]
fn make_report(title: String) -> Report {
    Report {
        title,
        body: workflow::put("a long body".to_string()),
    }
}

#[task]
async fn read_report(report: Report) -> workflow::Result<String> {
    Ok(format!("{}: {}", report.title, report.body.get().await?))
}

#[task]
fn length(text: String) -> usize {
    text.len()
}

#[task]
fn shared_object(key: String) -> ObjectRef<String> {
    hit(&key);
    workflow::put("shared".to_string())
}

#[task]
async fn read(text: ObjectRef<String>) -> workflow::Result<String> {
    Ok(text.get().await?.to_string())
}

#[task]
fn join(parts: Vec<String>) -> String {
    parts.join("+")
}

#[task]
fn failing_remote() -> Result<String, String> {
    Err("remote broke".to_string())
}

#[task]
fn uses_failing_remote() -> ObjectRef<String> {
    failing_remote::remote()
}

#[task]
fn big(len: usize) -> ObjectRef<ByteBuf> {
    let mut bytes = vec![0u8; len];
    for (i, b) in bytes.iter_mut().enumerate().step_by(4096) {
        *b = (i / 4096) as u8;
    }
    workflow::put(ByteBuf::from(bytes))
}

#[task]
fn identity(data: ObjectRef<ByteBuf>) -> ObjectRef<ByteBuf> {
    data
}

#[task]
fn checksum(data: ByteBuf) -> u64 {
    data.iter().map(|b| *b as u64).sum()
}

#[task]
fn continue_with(data: ObjectRef<ByteBuf>) -> Flow<u64> {
    workflow::continuation(checksum::bind(identity::bind(data)))
}

#[task]
async fn wrong_type(text: ObjectRef<String>) -> workflow::Result<usize> {
    // Read as another type through a forged reference.
    let forged: ObjectRef<u64> =
        postcard::from_bytes(&postcard::to_stdvec(&text).unwrap()).unwrap();
    forged.get().await.map(|_| 0)
}

#[tokio::test]
async fn objects_nested_in_a_struct_output() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let out = engine
        .run("nested", read_report::bind(make_report::bind("Note")))
        .await?;
    assert_eq!(out, "Note: a long body");
    let report: Report = engine.task_output("nested", "make_report").await?;
    assert_eq!(*engine.get(&report.body).await?, "a long body");
    Ok(())
}

#[tokio::test]
async fn objects_resolve_as_arguments_of_their_type() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let text = engine.put("twelve chars".to_string()).await?;
    assert_eq!(engine.run("len", length::bind(text.clone())).await?, 12);
    // A reference as a value stays a reference.
    assert_eq!(engine.run("read", read::bind(text)).await?, "twelve chars");
    Ok(())
}

#[tokio::test]
async fn objects_shared_by_many_tasks_are_stored_once() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).await?;
    let object = shared_object::bind("objects_shared");
    let readers: Vec<Dag<String>> = (0..5).map(|_| read::bind(object.clone())).collect();
    assert_eq!(
        engine.run("shared", join::bind(readers)).await?,
        "shared+shared+shared+shared+shared"
    );
    assert_eq!(hits("objects_shared"), 1);
    engine.close().await?;
    let store = workflow::storage::FjallStore::open(dir.path()).unwrap();
    let heads = store
        .scan_prefix(workflow::storage::Keyspace::new("objects"), &[])
        .await
        .unwrap();
    assert_eq!(heads.len(), 1);
    Ok(())
}

#[tokio::test]
async fn objects_failing_remote_fails_its_caller() -> workflow::Result<()> {
    let engine = support::engine().await?;
    match engine
        .run("remote-fail", uses_failing_remote::bind().max_retries(0))
        .await
    {
        Err(Error::TaskFailed { error, .. }) => {
            assert!(error.message().contains("remote broke"), "{error}")
        }
        other => panic!("expected TaskFailed, got {other:?}"),
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn objects_large_value_through_identity_and_a_continuation() -> workflow::Result<()> {
    const LEN: usize = 256 << 20;
    let expected: u64 = (0..LEN / 4096).map(|i| (i as u8) as u64).sum();
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::builder()
        .path(dir.path())
        .durability(Durability::Buffered)
        .build()
        .await?;
    let dag = continue_with::bind(identity::bind(big::bind(LEN)));
    assert_eq!(engine.run("large", dag).await?, expected);
    let data: ObjectRef<ByteBuf> = engine.task_output("large", "big").await?;
    engine.close().await?;

    // A new engine reads it back from its chunks.
    let engine = Engine::open(dir.path()).await?;
    let read = engine.get(&data).await?;
    assert_eq!(read.len(), LEN);
    assert_eq!(read.iter().map(|b| *b as u64).sum::<u64>(), expected);
    engine.close().await
}

#[tokio::test]
async fn objects_deleting_a_workflow_deletes_only_its_objects() -> workflow::Result<()> {
    let engine = support::engine().await?;
    engine
        .run("own", read_report::bind(make_report::bind("Mine")))
        .await?;
    let report: Report = engine.task_output("own", "make_report").await?;
    let kept = engine.put("kept".to_string()).await?;
    engine.run("user-a", read::bind(kept.clone())).await?;
    engine.run("user-b", read::bind(kept.clone())).await?;

    engine.delete("own").await?;
    assert!(matches!(
        engine.get(&report.body).await,
        Err(Error::NotFound { .. })
    ));
    engine.delete("user-a").await?;
    assert_eq!(*engine.get(&kept).await?, "kept");
    engine.delete("user-b").await?;
    assert!(matches!(
        engine.get(&kept).await,
        Err(Error::NotFound { .. })
    ));
    Ok(())
}

#[tokio::test]
async fn objects_missing_corrupt_or_mistyped_are_typed_errors() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).await?;
    let text = engine.put("text".to_string()).await?;
    let other = engine.put("other".to_string()).await?;
    match engine.run("mistyped", wrong_type::bind(text.clone())).await {
        Err(Error::TaskFailed { error, .. }) => {
            assert!(
                error.message().contains("String") && error.message().contains("u64"),
                "{error}"
            )
        }
        other => panic!("expected a codec failure, got {other:?}"),
    }
    engine.close().await?;

    // Damage one object's head and remove the other's chunks.
    let store = workflow::storage::FjallStore::open(dir.path()).unwrap();
    let heads = workflow::storage::Keyspace::new("objects");
    let chunks = workflow::storage::Keyspace::new("object_chunks");
    let all = store.scan_prefix(heads, &[]).await.unwrap();
    assert_eq!(all.len(), 2);
    let text_id = postcard::to_stdvec(&text).unwrap();
    let mut batch = workflow::storage::Batch::new();
    batch.put(heads, text_id.clone(), vec![1, 0xff]);
    let other_id = postcard::to_stdvec(&other).unwrap();
    for (key, _) in store.scan_prefix(chunks, &other_id).await.unwrap() {
        batch.delete(chunks, key);
    }
    store.commit(batch, Durability::Sync).await.unwrap();
    store.close().await.unwrap();

    let engine = Engine::open(dir.path()).await?;
    assert!(matches!(
        engine.get(&text).await,
        Err(Error::Corrupt { .. })
    ));
    assert!(matches!(
        engine.get(&other).await,
        Err(Error::Corrupt { .. })
    ));
    let missing: ObjectRef<String> = postcard::from_bytes(&[7u8; 16]).unwrap();
    assert!(matches!(
        engine.get(&missing).await,
        Err(Error::NotFound { .. })
    ));
    engine.close().await
}

#[task]
fn continue_with_object() -> Flow<usize> {
    let text = workflow::put("carried into a continuation".to_string());
    workflow::continuation(length::bind(text))
}

#[task]
fn nested_objects() -> ObjectRef<Vec<ObjectRef<String>>> {
    workflow::put(vec![workflow::put("inner".to_string())])
}

#[task]
async fn read_nested(outer: ObjectRef<Vec<ObjectRef<String>>>) -> workflow::Result<String> {
    let inner = outer.get().await?;
    Ok(inner[0].get().await?.to_string())
}

#[task]
async fn read_all(outer: Vec<ObjectRef<String>>) -> workflow::Result<usize> {
    let mut total = 0;
    for text in &outer {
        total += text.get().await?.len();
    }
    Ok(total)
}

#[tokio::test]
async fn objects_put_inside_a_task_that_continues() -> workflow::Result<()> {
    let engine = support::engine().await?;
    assert_eq!(
        engine
            .run("continued", continue_with_object::bind())
            .await?,
        27
    );
    Ok(())
}

#[tokio::test]
async fn objects_inside_objects_are_stored_and_kept() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).await?;
    assert_eq!(
        engine
            .run("nest", read_nested::bind(nested_objects::bind()))
            .await?,
        "inner"
    );
    let outer: ObjectRef<Vec<ObjectRef<String>>> =
        engine.task_output("nest", "nested_objects").await?;
    engine.close().await?;

    let engine = Engine::open(dir.path()).await?;
    let inner = engine.get(&outer).await?;
    assert_eq!(*engine.get(&inner[0]).await?, "inner");
    // Another workflow reaches the inner object only through an object of its own.
    let holder = engine.put(inner.as_ref().clone()).await?;
    assert_eq!(
        engine.run("holder", read_all::bind(holder.clone())).await?,
        5
    );
    engine.delete("nest").await?;
    assert!(matches!(
        engine.get(&outer).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(*engine.get(&inner[0]).await?, "inner");
    engine.delete("holder").await?;
    assert!(matches!(
        engine.get(&inner[0]).await,
        Err(Error::NotFound { .. })
    ));
    engine.close().await
}

#[task]
fn flaky_remote() -> String {
    if workflow::context().attempt() == 1 {
        panic!("first attempt of the caller");
    }
    "recovered".to_string()
}

#[task]
fn calls_flaky_remote() -> ObjectRef<String> {
    flaky_remote::remote()
}

#[tokio::test]
async fn objects_remote_panic_is_retried_with_its_caller() -> workflow::Result<()> {
    let engine = support::engine().await?;
    assert_eq!(
        engine
            .run("flaky-remote", read::bind(calls_flaky_remote::bind()))
            .await?,
        "recovered"
    );
    let meta = engine.metadata("flaky-remote").await?;
    assert_eq!(meta.tasks[0].attempts, 2);
    Ok(())
}

#[task]
async fn slow_text() -> String {
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    "late".to_string()
}

#[task(timeout = "100ms")]
fn waits_on_slow_remote() -> ObjectRef<String> {
    slow_text::remote()
}

#[tokio::test]
async fn objects_remote_tasks_count_against_their_callers_timeout() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let started = std::time::Instant::now();
    match engine
        .run("remote-timeout", waits_on_slow_remote::bind())
        .await
    {
        Err(Error::TaskFailed { error, .. }) => assert!(error.is_timeout(), "{error}"),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    Ok(())
}
