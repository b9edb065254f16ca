//! DAG shapes: chains, fork/join, shared nodes, fan-in, task ids, concurrency.

mod support;

use std::sync::OnceLock;

use support::{hit, hits};
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
fn counted(key: String, value: i64) -> i64 {
    hit(&key);
    value
}

#[task]
fn sum(values: Vec<i64>) -> i64 {
    values.into_iter().sum()
}

#[task]
async fn async_double(x: i64) -> i64 {
    tokio::task::yield_now().await;
    x * 2
}

#[task]
fn greet(name: String) -> String {
    format!("hello {name}")
}

#[tokio::test]
async fn dags_chain_of_tasks() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let mut dag = one::bind();
    for _ in 0..20 {
        dag = add::bind(dag, 1);
    }
    assert_eq!(engine.run("chain", dag).await?, 21);
    assert_eq!(engine.task_output::<i64>("chain", "add_19").await?, 21);
    assert_eq!(engine.task_output::<i64>("chain", "add").await?, 2);
    Ok(())
}

#[tokio::test]
async fn dags_fork_join_mixes_sync_and_async() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let root = one::bind();
    let left = async_double::bind(root.clone());
    let right = add::bind(root, 10);
    assert_eq!(engine.run("fork-join", add::bind(left, right)).await?, 13);
    Ok(())
}

#[tokio::test]
async fn dags_shared_node_runs_once() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let shared = counted::bind("dags_shared", 5);
    let dag = add::bind(add::bind(shared.clone(), shared.clone()), shared);
    assert_eq!(engine.run("shared", dag).await?, 15);
    assert_eq!(hits("dags_shared"), 1);
    Ok(())
}

#[tokio::test]
async fn dags_fan_in_with_a_vec_of_nodes() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let parts: Vec<Dag<i64>> = (0..50).map(|i| add::bind(i, 0)).collect();
    assert_eq!(
        engine.run("fan-in", sum::bind(parts)).await?,
        (0..50).sum::<i64>()
    );
    assert_eq!(
        engine
            .run("empty-fan-in", sum::bind(Vec::<Dag<i64>>::new()))
            .await?,
        0
    );
    Ok(())
}

#[tokio::test]
async fn dags_str_argument_for_string() -> workflow::Result<()> {
    let engine = support::engine().await?;
    assert_eq!(
        engine.run("greet", greet::bind("world")).await?,
        "hello world"
    );
    Ok(())
}

#[tokio::test]
async fn dags_task_ids_number_repeats_in_build_order() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let first = add::bind(1, 1); // add
    let second = add::bind(2, 2); // add_1
    let named = add::bind(first, second).task_id("total"); // total
    let last = add::bind(named, 0); // add_2
    assert_eq!(engine.run("ids", last).await?, 6);
    let meta = engine.metadata("ids").await?;
    let ids: Vec<&str> = meta.tasks.iter().map(|t| t.task_id.as_str()).collect();
    assert_eq!(ids, ["add", "add_1", "total", "add_2"]);
    assert_eq!(engine.task_output::<i64>("ids", "add_1").await?, 4);
    assert_eq!(engine.task_output::<i64>("ids", "total").await?, 6);
    Ok(())
}

fn barrier() -> &'static tokio::sync::Barrier {
    static BARRIER: OnceLock<tokio::sync::Barrier> = OnceLock::new();
    BARRIER.get_or_init(|| tokio::sync::Barrier::new(10))
}

#[task]
async fn meet(i: i64) -> i64 {
    barrier().wait().await;
    i
}

#[tokio::test]
async fn dags_independent_tasks_run_concurrently() -> workflow::Result<()> {
    // Each task waits until all ten are inside the barrier: this finishes only if they overlap.
    let engine = support::engine().await?;
    let parts: Vec<Dag<i64>> = (0..10).map(meet::bind).collect();
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        engine.run("barrier", sum::bind(parts)),
    )
    .await
    .expect("the ten tasks did not run concurrently")?;
    assert_eq!(out, 45);
    Ok(())
}

type Channel = (
    std::sync::Mutex<std::sync::mpsc::Sender<i64>>,
    std::sync::Mutex<std::sync::mpsc::Receiver<i64>>,
);

fn channel() -> &'static Channel {
    static CHANNEL: OnceLock<Channel> = OnceLock::new();
    CHANNEL.get_or_init(|| {
        let (sender, receiver) = std::sync::mpsc::channel();
        (sender.into(), receiver.into())
    })
}

#[task(blocking)]
fn wait_for_value() -> i64 {
    channel().1.lock().unwrap().recv().unwrap()
}

#[task]
async fn feed(value: i64) -> i64 {
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    channel().0.lock().unwrap().send(value).unwrap();
    value
}

#[tokio::test(flavor = "current_thread")]
async fn dags_blocking_task_does_not_stall_the_engine() -> workflow::Result<()> {
    // One runtime thread: a blocking wait run inline would stop `feed` from ever sending.
    let engine = support::engine().await?;
    let dag = add::bind(wait_for_value::bind(), feed::bind(7));
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        engine.run("blocking", dag),
    )
    .await
    .expect("the blocking task stalled the engine")?;
    assert_eq!(out, 14);
    Ok(())
}

#[tokio::test]
async fn dags_forty_concurrent_workflows() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let mut handles = Vec::new();
    for i in 0..40 {
        let dag = add::bind(async_double::bind(i), one::bind());
        handles.push(engine.spawn(&format!("many-{i}"), dag).await?);
    }
    for (i, handle) in handles.iter().enumerate() {
        assert_eq!(handle.output().await?, i as i64 * 2 + 1);
    }
    let done = engine.list(Some(WorkflowStatus::Successful)).await?;
    assert_eq!(done.len(), 40);
    Ok(())
}

#[tokio::test]
async fn dags_context_names_workflow_task_and_attempt() -> workflow::Result<()> {
    let engine = support::engine().await?;
    let out = engine.run("ctx-wf", whoami::bind().task_id("me")).await?;
    assert_eq!(out, "ctx-wf/me/1");
    assert!(workflow::try_context().is_none());
    Ok(())
}

#[task]
async fn whoami() -> String {
    let ctx = workflow::context();
    format!("{}/{}/{}", ctx.workflow_id(), ctx.task_id(), ctx.attempt())
}

static IN_FLIGHT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
static MOST_IN_FLIGHT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

#[task]
async fn tracked(i: u64) -> u64 {
    use std::sync::atomic::Ordering;
    let now = IN_FLIGHT.fetch_add(1, Ordering::SeqCst) + 1;
    MOST_IN_FLIGHT.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
    i
}

#[task]
fn total_of(values: Vec<u64>) -> u64 {
    values.into_iter().sum()
}

#[tokio::test]
async fn a_fan_out_wider_than_the_working_limit_runs_in_waves() -> workflow::Result<()> {
    use std::sync::atomic::Ordering;
    let engine = support::engine().await?;
    let dag = total_of::bind((0..3_000_u64).map(tracked::bind).collect::<Vec<_>>());
    assert_eq!(engine.run("waves", dag).await?, 3_000 * 2_999 / 2);
    let most = MOST_IN_FLIGHT.load(Ordering::SeqCst);
    // At most 1,024 steps that work are begun at once, and they do run side by side.
    assert!((2..=1_024).contains(&most), "{most} steps ran at once");
    engine.close().await
}
