//! One workflow's steps spread over a fleet (PostgreSQL): a workflow with more ready steps
//! than its worker runs at once offers the others, and another engine on the schema, on a
//! runtime of its own, runs them. Values, retried failures, final failures and
//! cancellation come back to the workflow's engine as if the steps had run there; steps
//! that must stay (continuing tasks, unchecked outputs' dependents) stay.
#![cfg(feature = "postgres")]

mod support;

use std::{
    collections::HashMap,
    sync::{Mutex, OnceLock},
    time::Duration,
};

use support::postgres::Schema;
use workflow::prelude::*;

/// The name of the threads of the second engine's runtime.
const OTHER: &str = "other-engine";

/// For each (workflow, task id), whether each of its runs was on the other engine.
type Runs = HashMap<(String, String), Vec<bool>>;

fn runs() -> &'static Mutex<Runs> {
    static RUNS: OnceLock<Mutex<Runs>> = OnceLock::new();
    RUNS.get_or_init(Default::default)
}

/// Records that the running task ran, and whether on the other engine.
fn ran() -> usize {
    let context = workflow::context();
    let on_other = std::thread::current().name() == Some(OTHER);
    let mut runs = runs().lock().unwrap();
    let entry = runs
        .entry((
            context.workflow_id().to_string(),
            context.task_id().to_string(),
        ))
        .or_default();
    entry.push(on_other);
    entry.len()
}

/// Where each task of `workflow` ran, in order (`true` on the other engine), for messages.
fn runs_of(workflow: &str) -> Vec<(String, Vec<bool>)> {
    let runs = runs().lock().unwrap();
    let mut of: Vec<(String, Vec<bool>)> = runs
        .iter()
        .filter(|((w, _), _)| w == workflow)
        .map(|((_, task), engines)| (task.clone(), engines.clone()))
        .collect();
    of.sort();
    of
}

fn ran_on_other(workflow: &str) -> (usize, usize) {
    let runs = runs().lock().unwrap();
    let mut other = 0;
    let mut all = 0;
    for ((w, _), engines) in runs.iter() {
        if w == workflow {
            all += engines.len();
            other += engines.iter().filter(|&&on_other| on_other).count();
        }
    }
    (other, all)
}

#[task]
async fn square(i: u64) -> u64 {
    ran();
    tokio::time::sleep(Duration::from_millis(20)).await;
    i * i
}

/// Fails its first attempt.
#[task(retry_errors = true, max_retries = 2)]
async fn flaky(i: u64) -> Result<u64, String> {
    let attempt = ran();
    tokio::time::sleep(Duration::from_millis(20)).await;
    if attempt == 1 {
        return Err(format!("first attempt of {i} fails"));
    }
    Ok(i)
}

#[task]
async fn broken(i: u64) -> Result<u64, String> {
    ran();
    tokio::time::sleep(Duration::from_millis(20)).await;
    if i == 7 {
        return Err("seven is broken".to_string());
    }
    Ok(i)
}

#[task]
async fn slow(i: u64) -> u64 {
    ran();
    tokio::time::sleep(Duration::from_secs(30)).await;
    i
}

#[task]
fn sum(values: Vec<u64>) -> u64 {
    values.iter().sum()
}

#[task]
fn halve(n: u64) -> Flow<u64> {
    ran();
    Flow::Done(n / 2)
}

/// An engine on `schema` in a runtime of its own whose threads are named [`OTHER`]; it
/// takes up offered steps until the returned sender is dropped.
fn other_engine(schema: &str) -> tokio::sync::oneshot::Sender<()> {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (ready, is_ready) = std::sync::mpsc::channel();
    let schema = schema.to_string();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name(OTHER)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let engine = Engine::builder()
                .postgres(support::postgres::url())
                .postgres_schema(&schema)
                .fleet_task_slots(64)
                .build()
                .await
                .unwrap();
            ready.send(()).unwrap();
            let _ = stopped.await;
            engine.close().await.unwrap();
        });
    });
    is_ready.recv().unwrap();
    stop
}

async fn owner(schema: &Schema) -> Engine {
    schema.builder().fleet_task_slots(2).build().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wide_fan_out_runs_on_the_other_engine_too() -> workflow::Result<()> {
    let _ = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_test_writer()
        .try_init();
    let schema = Schema::new("offers");
    let _other = other_engine(&schema.0);
    let engine = owner(&schema).await;
    let dag = sum::bind((0..60).map(square::bind).collect::<Vec<_>>());
    let total: u64 = engine.run("wide", dag).await?;
    assert_eq!(total, (0..60).map(|i| i * i).sum::<u64>());
    let (other, all) = ran_on_other("wide");
    assert_eq!(all, 60, "every square ran once");
    assert!(other >= 30, "only {other} of 60 ran on the other engine");
    let metadata = engine.metadata("wide").await?;
    assert_eq!(metadata.tasks.len(), 61);

    // Failed attempts elsewhere are retried; the retry may run anywhere.
    let dag = sum::bind((0..20).map(flaky::bind).collect::<Vec<_>>());
    assert_eq!(engine.run::<u64>("flaky", dag).await?, (0..20).sum::<u64>());
    assert_eq!(
        ran_on_other("flaky").1,
        40,
        "each ran twice: {:?}",
        runs_of("flaky")
    );

    // A failure elsewhere fails the workflow with its message.
    let dag = sum::bind((0..20).map(broken::bind).collect::<Vec<_>>());
    let error = engine.run::<u64>("broken", dag).await.unwrap_err();
    assert!(error.to_string().contains("seven is broken"), "{error}");
    assert_eq!(engine.status("broken").await?, WorkflowStatus::Failed);

    // Tasks that may continue run where their workflow does.
    let dag = sum::bind((0..20).map(|i| halve::bind(i * 2)).collect::<Vec<_>>());
    assert_eq!(
        engine.run::<u64>("halves", dag).await?,
        (0..20).sum::<u64>()
    );
    assert_eq!(ran_on_other("halves"), (0, 20));
    engine.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canceling_a_workflow_stops_its_steps_on_the_other_engine() -> workflow::Result<()> {
    let schema = Schema::new("offers_cancel");
    let _other = other_engine(&schema.0);
    let engine = owner(&schema).await;
    let dag = sum::bind((0..20).map(slow::bind).collect::<Vec<_>>());
    let handle = engine.spawn("slow", dag).await?;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while ran_on_other("slow").0 == 0 {
        assert!(std::time::Instant::now() < deadline, "no step was offered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    engine.cancel("slow").await?;
    assert!(handle.output().await.is_err());
    assert_eq!(engine.status("slow").await?, WorkflowStatus::Canceled);
    // The offers are withdrawn, and the other engine ran no step to its end.
    let offers = support::postgres::count_rows(&schema.0, "offers").await;
    assert_eq!(offers, 0);
    let results = engine.metadata("slow").await?;
    assert!(results.tasks.iter().all(|task| task.end_time.is_none()));
    engine.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_alone_in_its_fleet_offers_nothing() -> workflow::Result<()> {
    let schema = Schema::new("offers_alone");
    let engine = owner(&schema).await;
    let dag = sum::bind((0..40).map(square::bind).collect::<Vec<_>>());
    let handle = engine.spawn("alone", dag).await?;
    let watch = async {
        let mut most = 0;
        loop {
            most = most.max(support::postgres::count_rows(&schema.0, "offers").await);
            tokio::time::sleep(Duration::from_millis(5)).await;
            if engine.status("alone").await? == WorkflowStatus::Successful {
                return Ok::<_, workflow::Error>(most);
            }
        }
    };
    let (total, most) = tokio::join!(handle.output(), watch);
    assert_eq!(total?, (0..40).map(|i| i * i).sum::<u64>());
    assert_eq!(most?, 0, "a worker alone offered steps to itself");
    assert_eq!(ran_on_other("alone"), (0, 40));
    engine.close().await
}
