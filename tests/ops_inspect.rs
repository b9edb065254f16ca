//! Inspection: a workflow's graph in its metadata, what it waits for, and store counts.

mod support;

use std::time::Duration;

use workflow::prelude::*;

#[task]
fn one() -> i64 {
    1
}

#[task]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[task]
fn countdown(n: u32) -> Flow<u32> {
    if n == 0 {
        Flow::Done(0)
    } else {
        Flow::Continue(countdown::bind(n - 1))
    }
}

#[task]
fn broken() -> Result<i64, String> {
    Err("out of paper".to_string())
}

#[task]
fn both(a: bool, _slept: ()) -> bool {
    a
}

#[tokio::test]
async fn metadata_gives_each_task_its_inputs_parent_and_error() -> workflow::Result<()> {
    let engine = support::engine().await?;
    engine
        .run("graph", add::bind(add::bind(one::bind(), one::bind()), 5))
        .await?;
    let meta = engine.metadata("graph").await?;
    let inputs = |task_id: &str| {
        meta.tasks
            .iter()
            .find(|t| t.task_id == task_id)
            .map(|t| t.inputs.clone())
            .unwrap()
    };
    // Ids are given dependencies first: the inner `add` is `add`, the outer one `add_1`.
    assert_eq!(inputs("add_1"), ["add"]);
    assert_eq!(inputs("add"), ["one", "one_1"]);
    assert!(inputs("one").is_empty());
    assert!(meta.tasks.iter().all(|t| t.parent.is_none()));

    engine.run("levels", countdown::bind(2)).await?;
    let meta = engine.metadata("levels").await?;
    let parents: Vec<(String, Option<String>)> = meta
        .tasks
        .iter()
        .map(|t| (t.task_id.clone(), t.parent.clone()))
        .collect();
    assert_eq!(
        parents,
        [
            ("countdown".to_string(), None),
            ("countdown_1".to_string(), Some("countdown".to_string())),
            ("countdown_2".to_string(), Some("countdown_1".to_string())),
        ]
    );

    assert!(engine.run("jammed", broken::bind()).await.is_err());
    let meta = engine.metadata("jammed").await?;
    assert_eq!(meta.tasks[0].status, TaskStatus::Failed);
    assert!(meta.tasks[0]
        .error
        .as_deref()
        .unwrap()
        .contains("out of paper"));
    Ok(())
}

#[tokio::test]
async fn waits_lists_timers_event_waits_and_queued_events() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let dag = both::bind(
        workflow::wait_for_event(ExternalEvent::<bool>::new("approval")),
        workflow::sleep(Duration::from_secs(3600)),
    );
    let before = std::time::SystemTime::now();
    engine.spawn("waiting", dag).await?;
    tokio::time::sleep(Duration::from_millis(50)).await;
    engine.send_event("waiting", "other", &1u8).await?;
    engine.send_event("waiting", "other", &2u8).await?;

    let waits = engine.waits("waiting").await?;
    assert_eq!(waits.timers.len(), 1);
    let timer = &waits.timers[0];
    assert_eq!(timer.task_id, "sleep");
    assert_eq!(timer.duration, Duration::from_secs(3600));
    let deadline = timer.deadline.expect("the sleep started");
    assert!(deadline >= before + Duration::from_secs(3600));
    assert!(deadline <= std::time::SystemTime::now() + Duration::from_secs(3600));
    assert_eq!(waits.events.len(), 1);
    assert_eq!(waits.events[0].key, "approval");
    assert!(waits.events[0].external && waits.events[0].started);
    assert_eq!(waits.queued.len(), 1);
    assert_eq!(
        (waits.queued[0].key.as_str(), waits.queued[0].count),
        ("other", 2)
    );

    engine.send_event("waiting", "approval", &true).await?;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let waits = engine.waits("waiting").await?;
    assert!(waits.events.is_empty());
    assert_eq!(waits.timers.len(), 1);
    assert!(matches!(
        engine.waits("nobody").await,
        Err(Error::NotFound { .. })
    ));
    Ok(())
}

#[tokio::test]
async fn stats_count_workflows_by_status_and_measure_the_store() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).await?;
    engine.run("a", one::bind()).await?;
    engine.run("b", one::bind()).await?;
    assert!(engine.run("c", broken::bind()).await.is_err());
    let stats = engine.stats().await?;
    assert_eq!(stats.workflows, 3);
    assert_eq!(stats.by_status[&WorkflowStatus::Successful], 2);
    assert_eq!(stats.by_status[&WorkflowStatus::Failed], 1);
    assert_eq!(stats.by_status.len(), 2);
    assert_eq!(stats.actors, 0);
    assert!(stats.disk_bytes.unwrap() > 0);
    let json = serde_json::to_value(&stats).unwrap();
    assert_eq!(json["by_status"]["Successful"], 2);
    Ok(())
}
