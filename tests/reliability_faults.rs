//! A store whose writes fail (a full or read-only disk): the engine returns typed errors,
//! keeps the store consistent, and once writes work again the workflow resumes from its last
//! checkpoint without running a checkpointed task twice.

mod support;

use std::time::Duration;

use support::{hit, hits, stores::Faulty};
use workflow::{prelude::*, storage::MemoryStore, TaskStatus};

#[task]
fn step(name: String, previous: u64) -> u64 {
    hit(&format!("{name}-{previous}"));
    previous + 1
}

/// A chain of `len` steps named `name`, each adding one.
fn chain(name: &str, len: u64) -> Dag<u64> {
    let mut dag = step::bind(name.to_string(), 0);
    for _ in 1..len {
        dag = step::bind(name.to_string(), dag);
    }
    dag
}

/// The runs so far of each step of chain `name` (of workflow `name`) whose checkpoint is
/// stored: none of them may run again.
async fn stored_steps(engine: &Engine, name: &str) -> workflow::Result<Vec<(u64, u32)>> {
    let meta = engine.metadata(name).await?;
    Ok(meta
        .tasks
        .iter()
        .filter(|task| task.status == TaskStatus::Successful)
        .map(|task| {
            let n = match task.task_id.strip_prefix("step_") {
                Some(n) => n.parse().unwrap(),
                None => 0,
            };
            (n, hits(&format!("{name}-{n}")))
        })
        .collect())
}

/// Steps of `stored` that ran again since.
fn ran_again(name: &str, stored: &[(u64, u32)]) -> Vec<u64> {
    stored
        .iter()
        .filter(|(n, runs)| hits(&format!("{name}-{n}")) != *runs)
        .map(|(n, _)| *n)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_stops_the_workflow_and_it_resumes_when_space_returns() -> workflow::Result<()>
{
    let store = Faulty::new(MemoryStore::new());
    let engine = Engine::builder().storage(store.clone()).build().await?;
    // The disk fills up in the middle of the chain.
    store.fail_after(12);
    let failed = engine.run("full", chain("full", 20)).await;
    match &failed {
        Err(Error::Storage(source)) => {
            let text = source.to_string();
            assert!(text.contains("free space"), "{text}");
        }
        other => panic!("a failing disk gave {other:?}"),
    }
    assert!(store.refused() > 0);
    // What was stored stays readable and names where the workflow stopped.
    assert_eq!(engine.status("full").await?, WorkflowStatus::Resumable);
    let progress_before = engine.progress("full").await?.borrow().done;
    assert!(progress_before < 20, "{progress_before} steps stored");

    // Space returns: the workflow resumes from its last checkpoint.
    let stored = stored_steps(&engine, "full").await?;
    assert_eq!(stored.len() as u64, progress_before);
    store.fail_writes(false);
    assert_eq!(engine.resume::<u64>("full").await?, 20);
    assert_eq!(ran_again("full", &stored), Vec::<u64>::new());
    for n in 0..20 {
        assert!(hits(&format!("full-{n}")) >= 1, "step {n} ran");
    }
    engine.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_refuses_every_write_refuses_new_work_with_errors() -> workflow::Result<()> {
    let store = Faulty::new(MemoryStore::new());
    let engine = Engine::builder().storage(store.clone()).build().await?;
    engine.run("before", chain("before", 3)).await?;
    store.fail_writes(true);

    // Every call that writes fails with a storage error; reads go on.
    assert!(matches!(
        engine.run("refused", chain("refused", 3)).await,
        Err(Error::Storage(_))
    ));
    assert!(matches!(engine.put(7_u64).await, Err(Error::Storage(_))));
    assert!(matches!(
        engine.send_event("before", "late", &1_u64).await,
        Err(Error::Storage(_))
    ));
    assert!(matches!(
        engine.delete("before").await,
        Err(Error::Storage(_))
    ));
    assert_eq!(engine.output::<u64>("before").await?, 3);
    assert_eq!(
        hits("refused-0"),
        0,
        "no step runs before its workflow is stored"
    );
    // A workflow whose first write failed left nothing behind, so its id is free.
    let listed: Vec<String> = engine.list(None).await?.into_iter().map(|w| w.id).collect();
    assert_eq!(listed, ["before"]);

    store.fail_writes(false);
    assert_eq!(engine.run("refused", chain("refused", 3)).await?, 3);
    engine.delete("before").await?;
    engine.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_failing_again_and_again_never_lose_a_checkpoint() -> workflow::Result<()> {
    let store = Faulty::new(MemoryStore::new());
    let engine = Engine::builder().storage(store.clone()).build().await?;
    let mut result = None;
    // The disk fills up every few commits; each time space returns, the workflow goes on.
    for round in 0..40 {
        store.fail_writes(false);
        store.fail_after(3 + round % 4);
        let stored = if round == 0 {
            Vec::new()
        } else {
            stored_steps(&engine, "flaky").await?
        };
        let attempt = if round == 0 {
            engine.run("flaky", chain("flaky", 30)).await
        } else {
            engine.resume::<u64>("flaky").await
        };
        assert_eq!(
            ran_again("flaky", &stored),
            Vec::<u64>::new(),
            "round {round}"
        );
        match attempt {
            Ok(output) => {
                result = Some(output);
                break;
            }
            Err(Error::Storage(_)) => tokio::time::sleep(Duration::from_millis(1)).await,
            Err(other) => panic!("round {round}: {other:?}"),
        }
    }
    store.fail_writes(false);
    assert_eq!(result, Some(30), "the workflow finished");
    engine.close().await
}
