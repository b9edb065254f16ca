//! Stored data that does not match the program: changed tasks and corrupt records get typed
//! errors, never a panic or a wrong value.

mod support;

use std::time::Duration;

use support::{gate, logged};
use workflow::{
    __private::{bind, plain, signature_hash, Invocation, Task, TaskOptions},
    prelude::*,
};

#[task(name = "tests.versioned", version = 2)]
fn versioned(x: i64) -> i64 {
    x
}

/// What an older build of the program had under the same name: version 1, or version 2 with
/// other types. Not registered, so only a DAG built here can run it.
struct OldBuild<const VERSION: u32, const SIGNATURE: u64>;

impl<const VERSION: u32, const SIGNATURE: u64> Task for OldBuild<VERSION, SIGNATURE> {
    type Args = (String,);
    type Output = i64;
    const NAME: &'static str = "tests.versioned";
    const FUNCTION: &'static str = "versioned";
    const VERSION: u32 = VERSION;
    const SIGNATURE: u64 = SIGNATURE;
    const OPTIONS: TaskOptions = TaskOptions::DEFAULT;

    fn invoke((gate_name,): (String,)) -> Invocation<i64> {
        Invocation::Async(Box::pin(async move {
            support::log(format!("{gate_name}:start"));
            let _permit = gate(&gate_name).acquire_owned().await.unwrap();
            plain(1)
        }))
    }
}

struct Unregistered;

impl Task for Unregistered {
    type Args = (String,);
    type Output = i64;
    const NAME: &'static str = "tests.not_in_this_program";
    const FUNCTION: &'static str = "gone";
    const VERSION: u32 = 1;
    const SIGNATURE: u64 = signature_hash("fn(String) -> i64");
    const OPTIONS: TaskOptions = TaskOptions::DEFAULT;

    fn invoke(args: (String,)) -> Invocation<i64> {
        OldBuild::<1, 0>::invoke(args)
    }
}

/// Starts `dag` as `id`, waits until its task runs, and closes the engine under it.
async fn leave_running(dir: &std::path::Path, id: &str, dag: Dag<i64>, gate_name: &str) {
    let engine = Engine::open(dir).await.unwrap();
    engine.spawn(id, dag).await.unwrap();
    while logged(&format!("{gate_name}:start")).is_empty() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    engine.close().await.unwrap();
}

#[tokio::test]
async fn incompatible_task_missing_from_program() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let dag = bind::<Unregistered>(vec![workflow::IntoArg::<String>::into_input(
        "gate-missing",
    )]);
    leave_running(dir.path(), "missing", dag, "gate-missing").await;
    let engine = Engine::open(dir.path()).await?;
    match engine.resume::<i64>("missing").await {
        Err(Error::IncompatibleTask { task, reason }) => {
            assert_eq!(task, "tests.not_in_this_program");
            assert!(reason.contains("no task of that name"), "{reason}");
        }
        other => panic!("expected IncompatibleTask, got {other:?}"),
    }
    assert_eq!(engine.status("missing").await?, WorkflowStatus::Resumable);
    assert!(engine.resume_all().await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn incompatible_task_version_changed() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let dag = bind::<OldBuild<1, 0>>(vec![workflow::IntoArg::<String>::into_input(
        "gate-version",
    )]);
    leave_running(dir.path(), "old-version", dag, "gate-version").await;
    let engine = Engine::open(dir.path()).await?;
    match engine.resume::<i64>("old-version").await {
        Err(Error::IncompatibleTask { task, reason }) => {
            assert_eq!(task, "tests.versioned");
            assert!(
                reason.contains("stored version 1") && reason.contains("version 2"),
                "{reason}"
            );
        }
        other => panic!("expected IncompatibleTask, got {other:?}"),
    }
    Ok(())
}

#[tokio::test]
async fn incompatible_task_signature_changed() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let dag = bind::<OldBuild<2, 42>>(vec![workflow::IntoArg::<String>::into_input("gate-sig")]);
    leave_running(dir.path(), "old-signature", dag, "gate-sig").await;
    let engine = Engine::open(dir.path()).await?;
    match engine.resume::<i64>("old-signature").await {
        Err(Error::IncompatibleTask { task, reason }) => {
            assert_eq!(task, "tests.versioned");
            assert!(reason.contains("types changed"), "{reason}");
        }
        other => panic!("expected IncompatibleTask, got {other:?}"),
    }
    // The current task under the same name still runs.
    assert_eq!(engine.run("current", versioned::bind(7)).await?, 7);
    Ok(())
}

#[tokio::test]
async fn corrupt_workflow_record_is_a_typed_error() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).await?;
    engine.run("fine", versioned::bind(1)).await?;
    engine.run("damaged", versioned::bind(2)).await?;
    engine.close().await?;

    let store = workflow_storage::FjallStore::open(dir.path()).unwrap();
    let mut batch = workflow_storage::Batch::new();
    batch.put(
        workflow_storage::Keyspace::new("workflows"),
        "damaged",
        vec![1, 0xff, 0xff, 0xff],
    );
    workflow_storage::Storage::commit(&store, batch, Durability::Sync)
        .await
        .unwrap();
    workflow_storage::Storage::close(&store).await.unwrap();

    let engine = Engine::open(dir.path()).await?;
    match engine.status("damaged").await {
        Err(Error::Corrupt { key, keyspace, .. }) => {
            assert_eq!(key, "damaged");
            assert_eq!(keyspace, "workflows");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    assert!(matches!(
        engine.output::<i64>("damaged").await,
        Err(Error::Corrupt { .. })
    ));
    // Everything else still reads.
    assert_eq!(engine.output::<i64>("fine").await?, 1);
    let listed: Vec<String> = engine.list(None).await?.into_iter().map(|w| w.id).collect();
    assert_eq!(listed, ["fine"]);
    engine.close().await
}

fn first_twin() -> Dag<i64> {
    #[task]
    async fn twin(gate_name: String) -> i64 {
        support::log(format!("{gate_name}:start"));
        let _permit = gate(&gate_name).acquire_owned().await.unwrap();
        1
    }
    twin::bind("gate-twin")
}

#[allow(dead_code)]
fn second_twin() -> Dag<i64> {
    #[task]
    async fn twin(gate_name: String) -> i64 {
        gate_name.len() as i64
    }
    twin::bind("other")
}

#[tokio::test]
async fn ambiguous_task_name_is_refused_on_resume() -> workflow::Result<()> {
    // Two tasks declared in function bodies of one module share the default durable name.
    let dir = tempfile::tempdir().unwrap();
    leave_running(dir.path(), "twins", first_twin(), "gate-twin").await;
    let engine = Engine::open(dir.path()).await?;
    match engine.resume::<i64>("twins").await {
        Err(Error::DuplicateTask { name }) => assert_eq!(name, "storage_errors::twin"),
        other => panic!("expected DuplicateTask, got {other:?}"),
    }
    engine.close().await
}
