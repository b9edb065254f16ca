//! Bad input at every entry point: malformed ids get `InvalidId` and write nothing, unknown
//! ones `NotFound`; a file where the store's folder should be, and a folder that is not a
//! store, get errors that name the path.

mod support;

use serde::{Deserialize, Serialize};
use workflow::prelude::*;

#[task]
fn one() -> u64 {
    1
}

#[derive(Serialize, Deserialize)]
struct Box1 {
    value: u64,
}

#[virtual_actor]
impl Box1 {
    fn new() -> Self {
        Box1 { value: 0 }
    }
    fn set(&mut self, value: u64) -> u64 {
        self.value = value;
        value
    }
}

/// Ids no entry point may accept: empty, too long, path-like, control bytes, non-ASCII and
/// spaces.
fn bad_ids() -> Vec<String> {
    vec![
        String::new(),
        "x".repeat(201),
        "a/b".into(),
        "../etc/passwd".into(),
        "a\0b".into(),
        "\u{7f}".into(),
        "naïve".into(),
        "日本".into(),
        "🦀".into(),
        "with space".into(),
        "tab\t".into(),
        "new\nline".into(),
    ]
}

fn is_invalid<T: std::fmt::Debug>(result: workflow::Result<T>, what: &str, id: &str) {
    match result {
        Err(Error::InvalidId { reason, .. }) => assert!(!reason.is_empty()),
        other => panic!("{what}({id:?}) gave {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_ids_are_refused_everywhere_and_write_nothing() -> workflow::Result<()> {
    let engine = support::engine().await?;
    engine.run("good", one::bind()).await?;
    let before = engine.stats().await?;
    for id in bad_ids() {
        let id = id.as_str();
        is_invalid(engine.run(id, one::bind()).await, "run", id);
        is_invalid(engine.spawn(id, one::bind()).await, "spawn", id);
        is_invalid(
            workflow::create(one::bind()).id(id).run(&engine).await,
            "create",
            id,
        );
        is_invalid(engine.status(id).await, "status", id);
        is_invalid(engine.output::<u64>(id).await, "output", id);
        is_invalid(
            engine.task_output::<u64>(id, "one").await,
            "task_output",
            id,
        );
        is_invalid(
            engine.task_output::<u64>("good", id).await,
            "task_output",
            id,
        );
        is_invalid(engine.metadata(id).await, "metadata", id);
        is_invalid(engine.waits(id).await, "waits", id);
        is_invalid(engine.progress(id).await, "progress", id);
        is_invalid(engine.resume::<u64>(id).await, "resume", id);
        is_invalid(engine.cancel(id).await, "cancel", id);
        is_invalid(engine.delete(id).await, "delete", id);
        is_invalid(engine.send_event(id, "key", &1_u64).await, "send_event", id);
        is_invalid(
            engine.send_event("good", id, &1_u64).await,
            "send_event key",
            id,
        );
        is_invalid(Box1::get_or_create(&engine, id).await, "get_or_create", id);
        is_invalid(Box1::get_actor(&engine, id).await, "get_actor", id);
        is_invalid(
            engine.run("bad-task-id", one::bind().task_id(id)).await,
            "task_id",
            id,
        );
    }
    // The id of an actor's call names a workflow to read, but is no name for a new one.
    is_invalid(engine.run("a@1", one::bind()).await, "run", "a@1");
    is_invalid(engine.spawn("a@1", one::bind()).await, "spawn", "a@1");
    is_invalid(
        Box1::get_or_create(&engine, "a@1").await,
        "get_or_create",
        "a@1",
    );
    assert!(matches!(
        engine.status("a@1").await,
        Err(Error::NotFound { .. })
    ));
    // Nothing was written by any of them.
    let after = engine.stats().await?;
    assert_eq!(after.workflows, before.workflows);
    assert_eq!(after.actors, before.actors);
    let listed: Vec<String> = engine.list(None).await?.into_iter().map(|w| w.id).collect();
    assert_eq!(listed, ["good"]);
    engine.close().await
}

#[tokio::test]
async fn the_longest_and_widest_ids_are_accepted() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let longest = "x".repeat(200);
    for id in [longest.as_str(), "a-b_c.d:e", "0", "Z"] {
        assert_eq!(engine.run(id, one::bind()).await?, 1, "{id}");
        assert_eq!(engine.status(id).await?, WorkflowStatus::Successful);
    }
    engine.close().await
}

#[tokio::test]
async fn well_formed_unknown_ids_are_not_found() -> workflow::Result<()> {
    let engine = support::engine().await?;
    for result in [
        engine.status("nobody").await.map(drop),
        engine.metadata("nobody").await.map(drop),
        engine.waits("nobody").await.map(drop),
        engine.progress("nobody").await.map(drop),
        engine.cancel("nobody").await,
        engine.delete("nobody").await,
        engine.send_event("nobody", "key", &1_u64).await,
        Box1::get_actor(&engine, "nobody").await.map(drop),
    ] {
        assert!(matches!(result, Err(Error::NotFound { .. })), "{result:?}");
    }
    engine.close().await
}

#[tokio::test]
async fn a_file_where_the_folder_should_be_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("store");
    std::fs::write(&file, b"not a folder").unwrap();
    let error = Engine::open(&file).await.expect_err("a file is no store");
    let text = error.to_string();
    assert!(
        matches!(error, Error::Storage(_)),
        "{error:?} should be a storage error"
    );
    assert!(
        text.contains(&file.display().to_string()),
        "{text} names the path"
    );
    assert!(text.contains("folder"), "{text} says what to do");
    // The file is left as it was.
    assert_eq!(std::fs::read(&file).unwrap(), b"not a folder");

    // A folder below a file cannot be made either.
    let below = file.join("inner");
    assert!(matches!(Engine::open(&below).await, Err(Error::Storage(_))));
}

#[tokio::test]
async fn a_store_held_by_another_engine_is_locked() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let first = Engine::open(dir.path()).await?;
    match Engine::open(dir.path()).await {
        Err(Error::Locked { path }) => assert_eq!(path, dir.path()),
        other => panic!("a held store opened again: {other:?}"),
    }
    first.close().await?;
    Engine::open(dir.path()).await?.close().await
}
