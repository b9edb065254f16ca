//! A task defined in a library crate that this program links but never calls is still found
//! by its durable name when a stored workflow is resumed.

mod support;

use std::time::Duration;

use support::{gate, log, logged};
use workflow::{
    __private::{bind, plain, signature_hash, Invocation, Task, TaskOptions},
    prelude::*,
};
// Linked, never called: its tasks register themselves.
use workflow_task_library as _;

/// Stands in for the library's `add` when the workflow is first run: same durable name,
/// version and signature, but it waits until the engine is closed under it.
struct StandIn;

impl Task for StandIn {
    type Args = (i64, i64);
    type Output = i64;
    const NAME: &'static str = "library.add";
    const FUNCTION: &'static str = "add";
    const VERSION: u32 = 1;
    const SIGNATURE: u64 = signature_hash("fn(i64, i64) -> i64");
    const OPTIONS: TaskOptions = TaskOptions::DEFAULT;

    fn invoke(_: (i64, i64)) -> Invocation<i64> {
        Invocation::Async(Box::pin(async {
            log("stand-in:start");
            let _never = gate("stand-in").acquire_owned().await;
            plain(-1)
        }))
    }
}

#[tokio::test]
async fn registry_finds_tasks_of_a_linked_library() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).await?;
    let dag = bind::<StandIn>(vec![
        workflow::IntoArg::<i64>::into_input(2),
        workflow::IntoArg::<i64>::into_input(3),
    ]);
    engine.spawn("library", dag).await?;
    while logged("stand-in:start").is_empty() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    engine.close().await?;

    // This process never calls the library; the stored step still finds its code.
    let engine = Engine::open(dir.path()).await?;
    assert_eq!(engine.resume::<i64>("library").await?, 5);
    engine.close().await
}
