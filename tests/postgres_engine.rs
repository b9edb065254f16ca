//! The engine on the PostgreSQL store (feature `postgres`), against the machine's server:
//! DAGs, continuations, objects, sleeps, external events, actors, management calls and
//! paged listing; engines sharing a schema; a crash (SIGKILL of a child process) taken
//! over by a new process; a lost database; a worker paused past its lease. Each test works
//! in a schema of its own, dropped afterwards.

mod support;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use support::{
    crash::{hang_in_child, is_child, record_run, run_counts, Scenario, RUNS, STORE},
    postgres::Schema,
};
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
fn fib(n: u64) -> Flow<u64> {
    if n <= 1 {
        return Flow::Done(n);
    }
    workflow::continuation(plus::bind(fib::bind(n - 1), fib::bind(n - 2)))
}

#[task]
fn plus(a: u64, b: u64) -> u64 {
    a + b
}

#[task]
fn words() -> Vec<ObjectRef<String>> {
    vec![
        workflow::put("hello".to_string()),
        workflow::put("world".to_string()),
    ]
}

#[task]
async fn concat(words: Vec<ObjectRef<String>>) -> workflow::Result<String> {
    let mut parts = Vec::new();
    for word in &words {
        parts.push(word.get().await?.to_string());
    }
    Ok(parts.join(" "))
}

#[task]
fn gather(slept: (), approved: bool) -> bool {
    let () = slept;
    approved
}

#[derive(Serialize, Deserialize)]
struct Counter {
    count: u64,
}

#[virtual_actor]
impl Counter {
    fn new() -> Self {
        Counter { count: 0 }
    }
    fn incr(&mut self) -> u64 {
        self.count += 1;
        self.count
    }
    fn value(&self) -> u64 {
        self.count
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_works_on_postgres() -> workflow::Result<()> {
    let schema = Schema::new("engine");
    let engine = schema.builder().build().await?;

    assert_eq!(engine.run("basic", add::bind(100, one::bind())).await?, 101);
    assert_eq!(engine.run("fib", fib::bind(12)).await?, 144);
    assert_eq!(
        engine.run("objects", concat::bind(words::bind())).await?,
        "hello world"
    );
    let events = engine
        .spawn(
            "events",
            gather::bind(
                workflow::sleep(Duration::from_millis(20)),
                workflow::wait_for_event(ExternalEvent::<bool>::new("approval")),
            ),
        )
        .await?;
    engine.send_event("events", "approval", &true).await?;
    assert!(events.output().await?);

    let counter = Counter::get_or_create(&engine, "counter").await?;
    assert_eq!(counter.incr().run().await?, 1);
    assert_eq!(counter.incr().run().await?, 2);

    // Management calls.
    assert_eq!(engine.status("basic").await?, WorkflowStatus::Successful);
    assert_eq!(engine.task_output::<i64>("basic", "one").await?, 1);
    let listed: Vec<String> = engine.list(None).await?.into_iter().map(|w| w.id).collect();
    assert_eq!(listed, ["basic", "events", "fib", "objects"]);
    let newest = engine
        .list_page(&ListQuery::new().newest_first().limit(2))
        .await?;
    let ids: Vec<&str> = newest.workflows.iter().map(|w| w.id.as_str()).collect();
    assert_eq!(ids, ["events", "objects"]);
    assert!(newest.next.is_some());
    engine.delete("fib").await?;
    assert!(matches!(
        engine.status("fib").await,
        Err(Error::NotFound { .. })
    ));
    assert!(engine.stats().await?.disk_bytes.is_some());
    engine.close().await?;

    // Everything is there for the next engine, and the schema is free again.
    let again = schema.builder().build().await?;
    assert_eq!(again.output::<i64>("basic").await?, 101);
    let counter = Counter::get_actor(&again, "counter").await?;
    assert_eq!(counter.value().run().await?, 2);
    again.close().await
}

#[task]
async fn wait_long(runs: String) -> u64 {
    record_run(&runs, "wait_long");
    tokio::time::sleep(Duration::from_secs(120)).await;
    1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engines_on_one_schema_manage_each_others_workflows() -> workflow::Result<()> {
    let schema = Schema::new("shared");
    let scenario = Scenario::new();
    let a = schema.builder().build().await?;
    let b = schema.builder().build().await?;
    let approval = || {
        gather::bind(
            workflow::sleep(Duration::from_millis(10)),
            workflow::wait_for_event(ExternalEvent::<bool>::new("approval")),
        )
    };
    // It runs in A; B sees it running and may not delete it.
    a.spawn("approve", approval()).await?;
    assert_eq!(b.status("approve").await?, WorkflowStatus::Running);
    assert!(matches!(
        b.delete("approve").await,
        Err(Error::StillRunning { .. })
    ));
    // B's event reaches the step waiting in A; B's output waits for A's run.
    let waiting = tokio::spawn({
        let b = b.clone();
        async move { b.output::<bool>("approve").await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!waiting.is_finished(), "output did not wait for the run");
    b.send_event("approve", "approval", &true).await?;
    assert!(tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("output waits for the run elsewhere, then returns")
        .unwrap()?);
    // Submitting it again in B answers from the store; another DAG under its id is refused.
    assert!(b.run("approve", approval()).await?);
    assert!(matches!(
        b.run("approve", one::bind()).await,
        Err(Error::AlreadyExists { .. })
    ));

    // B cancels a task that runs in A.
    let slow = a.spawn("slow", wait_long::bind(scenario.runs())).await?;
    scenario.wait_for(|counts| counts.contains_key("wait_long"));
    b.cancel("slow").await?;
    assert_eq!(b.status("slow").await?, WorkflowStatus::Canceled);
    let canceled = tokio::time::timeout(Duration::from_secs(10), slow.output()).await;
    assert!(
        matches!(canceled, Ok(Err(Error::Canceled { .. }))),
        "{canceled:?}"
    );

    // Nothing is left for B to resume, and deleting finished work works from either.
    assert!(b.resume_all().await?.is_empty());
    b.delete("slow").await?;
    assert!(matches!(
        a.status("slow").await,
        Err(Error::NotFound { .. })
    ));

    // An actor is served by the first worker that uses it, until that one closes; the
    // others' calls go to it.
    let counter = Counter::get_or_create(&a, "shared-counter").await?;
    assert_eq!(counter.incr().run().await?, 1);
    let elsewhere = Counter::get_actor(&b, "shared-counter").await?;
    let call = elsewhere.incr().spawn().await?;
    assert_eq!(call.id(), "shared-counter@1");
    assert_eq!(call.output().await?, 2);
    match b.resume::<u64>("shared-counter@1").await {
        Err(Error::ActorElsewhere { id, .. }) => assert_eq!(id, "shared-counter"),
        other => panic!("a call ran where its actor is not served: {other:?}"),
    }
    a.close().await?;
    assert_eq!(elsewhere.incr().run().await?, 3);
    b.close().await
}

#[tokio::test]
async fn a_schema_without_a_url_is_a_configuration_error() {
    match Engine::builder().postgres_schema("orphan").build().await {
        Err(error @ Error::Storage(_)) => assert!(error.to_string().contains("no URL"), "{error}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_unreachable_server_is_a_storage_error() {
    let result = Engine::builder()
        .postgres("postgres://postgres@127.0.0.1:1/test")
        .build()
        .await;
    match result {
        Err(error @ Error::Storage(_)) => {
            assert!(error.to_string().contains("cannot reach"), "{error}")
        }
        other => panic!("{other:?}"),
    }
}

#[task]
fn slow_step(runs: String, n: u64) -> u64 {
    record_run(&runs, &format!("step-{n}"));
    if n == 3 {
        hang_in_child();
    }
    n
}

#[task]
fn total(values: Vec<u64>) -> u64 {
    values.iter().sum()
}

fn crash_dag(runs: &str) -> Dag<u64> {
    total::bind(
        (0..6)
            .map(|n| slow_step::bind(runs.to_string(), n))
            .collect::<Vec<_>>(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_process_resumes_from_postgres() -> workflow::Result<()> {
    if is_child() {
        let schema = std::env::var(STORE).unwrap();
        let runs = std::env::var(RUNS).unwrap();
        let engine = Engine::builder()
            .postgres(support::postgres::url())
            .postgres_schema(schema)
            .build()
            .await?;
        let _ = engine.run("crashy", crash_dag(&runs)).await;
        unreachable!("the child is killed first");
    }
    let schema = Schema::new("crash");
    let scenario = Scenario::new();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "a_killed_process_resumes_from_postgres",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(support::crash::ROLE, "sync")
        .env(STORE, &schema.0)
        .env(RUNS, &scenario.runs)
        .spawn()
        .unwrap();
    // Every step ran once; step 3 hangs, the others are checkpointed.
    scenario.wait_for(|counts| (0..6).all(|n| counts.contains_key(&format!("step-{n}"))));
    tokio::time::sleep(Duration::from_millis(300)).await;
    child.kill().unwrap();
    child.wait().unwrap();

    // The fleet takes the dead worker's workflow over by itself; resuming it waits for it.
    let engine = schema.builder().build().await?;
    assert_eq!(engine.status("crashy").await?, WorkflowStatus::Running);
    assert_eq!(engine.resume::<u64>("crashy").await?, 15);
    let counts = run_counts(&scenario.runs);
    assert_eq!(counts["step-3"], 2, "the step that was running ran again");
    for n in [0, 1, 2, 4, 5] {
        assert_eq!(counts[&format!("step-{n}")], 1, "step {n} was checkpointed");
    }
    engine.close().await
}

/// A TCP proxy to the test server that can cut every connection and refuse new ones, as a
/// network failure or a server restart would.
struct Proxy {
    port: u16,
    down: std::sync::Arc<std::sync::atomic::AtomicBool>,
    links: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Proxy {
    async fn start() -> Proxy {
        use std::sync::{atomic::AtomicBool, Arc, Mutex};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let down = Arc::new(AtomicBool::new(false));
        let links: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let (accept_down, accept_links) = (Arc::clone(&down), Arc::clone(&links));
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if accept_down.load(std::sync::atomic::Ordering::SeqCst) {
                    continue; // dropped: the connection is refused
                }
                accept_links.lock().unwrap().push(tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect("127.0.0.1:5432").await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                }));
            }
        });
        Proxy { port, down, links }
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/test", self.port)
    }

    fn cut(&self) {
        self.down.store(true, std::sync::atomic::Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.down.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

#[task]
async fn paced(runs: String, n: u64, previous: u64) -> u64 {
    record_run(&runs, &format!("paced-{n}"));
    tokio::time::sleep(Duration::from_millis(20)).await;
    previous + 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_lost_mid_run_is_an_error_and_the_workflow_finishes_after(
) -> workflow::Result<()> {
    let schema = Schema::new("lost");
    let scenario = Scenario::new();
    let runs = scenario.runs();
    let proxy = Proxy::start().await;
    let build = || {
        Engine::builder()
            .postgres(proxy.url())
            .postgres_schema(&schema.0)
            .build()
    };
    let dag = || {
        let mut dag = paced::bind(runs.clone(), 0, 0);
        for n in 1..40 {
            dag = paced::bind(runs.clone(), n, dag);
        }
        dag
    };
    let engine = build().await?;
    let handle = engine.spawn("lost", dag()).await?;
    scenario.wait_for(|counts| counts.contains_key("paced-10"));
    proxy.cut();

    let broken = tokio::time::timeout(Duration::from_secs(30), handle.output())
        .await
        .expect("the run ends with an error, it does not hang");
    match broken {
        Err(error @ Error::Storage(_)) => {
            assert!(error.to_string().contains("cannot reach"), "{error}")
        }
        other => panic!("a lost database gave {other:?}"),
    }
    // While it is down, a new engine cannot start: a typed error, no panic.
    assert!(matches!(build().await, Err(Error::Storage(_))));
    let _ = engine.close().await;

    proxy.restore();
    let engine = build().await?;
    assert_eq!(engine.resume::<u64>("lost").await?, 40);
    let counts = run_counts(&scenario.runs);
    let repeated: Vec<&String> = counts
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(k, _)| k)
        .collect();
    assert!(
        repeated.len() <= 1,
        "only the step in flight ran again: {repeated:?}"
    );
    engine.close().await
}

const STALE_ROLE: &str = "WORKFLOW_STALE_ROLE";

/// In the engine paused past its lease ("A"), waits for the test's word, then answers "A";
/// in its successor, answers "B" at once.
#[task]
async fn stall(runs: String) -> String {
    let who = std::env::var(STALE_ROLE).unwrap_or_else(|_| "B".to_string());
    record_run(&runs, &format!("stall-{who}"));
    if who == "A" {
        let release = std::path::Path::new(&runs).with_extension("release");
        while !release.exists() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    who
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_engine_past_its_lease_cannot_commit_over_its_successor() -> workflow::Result<()> {
    if std::env::var_os(STALE_ROLE).is_some() {
        let (schema, runs) = (std::env::var(STORE).unwrap(), std::env::var(RUNS).unwrap());
        let engine = Engine::builder()
            .postgres(support::postgres::url())
            .postgres_schema(schema)
            .postgres_lease(Duration::from_secs(1))
            .build()
            .await?;
        let outcome = engine.run("stale", stall::bind(runs.clone())).await;
        let text = match outcome {
            Ok(output) => format!("ok {output}"),
            Err(error) => format!("error {error}"),
        };
        std::fs::write(std::path::Path::new(&runs).with_extension("outcome"), text).unwrap();
        let _ = engine.close().await;
        return Ok(());
    }
    let schema = Schema::new("stale");
    let scenario = Scenario::new();
    let runs = scenario.runs();
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "a_paused_engine_past_its_lease_cannot_commit_over_its_successor",
            "--exact",
            "--test-threads=1",
        ])
        .env(STALE_ROLE, "A")
        .env(STORE, &schema.0)
        .env(RUNS, &runs)
        .spawn()
        .unwrap();
    let mut child = Reaped(child);
    scenario.wait_for(|counts| counts.contains_key("stall-A"));
    // The engine stops dead past its lease: no renewal, no commit.
    let pid = child.0.id().to_string();
    let signal = |name: &str| {
        let sent = std::process::Command::new("kill")
            .args([name, pid.as_str()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill {name}");
    };
    signal("-STOP");
    tokio::time::sleep(Duration::from_millis(2_500)).await;

    // A successor takes the schema over and finishes the workflow.
    let engine = schema.builder().build().await?;
    assert_eq!(engine.resume::<String>("stale").await?, "B");

    // The paused engine wakes up, its task ends, and its late commit is refused.
    std::fs::write(std::path::Path::new(&runs).with_extension("release"), b"go").unwrap();
    signal("-CONT");
    let outcome_file = std::path::Path::new(&runs).with_extension("outcome");
    let started = std::time::Instant::now();
    while !outcome_file.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the paused engine never answered"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = child.0.wait();
    // Its run reports the refusal, or the workflow's stored output (its successor's); never
    // its own late answer.
    let outcome = std::fs::read_to_string(&outcome_file).unwrap();
    assert!(
        outcome == "ok B" || (outcome.starts_with("error") && outcome.contains("took over")),
        "the stale engine's run: {outcome}"
    );
    // The stored output is the successor's.
    assert_eq!(engine.output::<String>("stale").await?, "B");
    assert_eq!(engine.task_output::<String>("stale", "stall").await?, "B");
    let counts = run_counts(&scenario.runs);
    assert_eq!((counts["stall-A"], counts["stall-B"]), (1, 1));
    engine.close().await
}

/// A child process that is killed (if still running) and reaped when dropped.
struct Reaped(std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
