//! Each scenario run on the engine, in a process of its own.

use std::{
    path::Path,
    sync::atomic::Ordering,
    time::{Duration, Instant},
};

use workflow::prelude::*;

use crate::{
    measure::{quantile, rss, Measure},
    tasks::{self, Counter, FIRST_RUN, RAN},
};

async fn engine(path: &Path, durability: Durability) -> workflow::Result<Engine> {
    Engine::builder()
        .path(path)
        .durability(durability)
        .build()
        .await
}

fn timed(secs: f64, tasks: u64) -> Measure {
    Measure {
        secs,
        tasks,
        ..Measure::default()
    }
}

/// `count` one-task workflows, one after another: latency quantiles.
pub async fn empty(path: &Path, durability: Durability, count: u64) -> workflow::Result<Measure> {
    let engine = engine(path, durability).await?;
    let mut latencies = Vec::with_capacity(count as usize);
    let started = Instant::now();
    for i in 0..count {
        let one = Instant::now();
        engine.run(&format!("e{i}"), tasks::trivial::bind()).await?;
        latencies.push(one.elapsed().as_secs_f64() * 1e6);
    }
    let mut measure = timed(started.elapsed().as_secs_f64(), count);
    measure.extra = vec![
        ("p50_us".into(), quantile(&mut latencies, 0.5)),
        ("p99_us".into(), quantile(&mut latencies, 0.99)),
    ];
    engine.close().await?;
    Ok(measure)
}

/// One workflow of `dag`, whose output must be `expected`.
async fn one_workflow(
    path: &Path,
    durability: Durability,
    dag: Dag<u64>,
    expected: u64,
) -> workflow::Result<Measure> {
    let engine = engine(path, durability).await?;
    let started = Instant::now();
    let out = engine.run("w", dag).await?;
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(out, expected);
    engine.close().await?;
    Ok(timed(secs, RAN.load(Ordering::Relaxed)))
}

pub async fn chain(path: &Path, durability: Durability, length: u64) -> workflow::Result<Measure> {
    one_workflow(path, durability, tasks::chain(length), length).await
}

pub async fn fanout(path: &Path, durability: Durability, width: u64) -> workflow::Result<Measure> {
    let expected = width * (width - 1) / 2;
    one_workflow(path, durability, tasks::fanout(width), expected).await
}

pub async fn wide_deep(
    path: &Path,
    durability: Durability,
    size: u64,
) -> workflow::Result<Measure> {
    let expected = size * (size - 1) / 2 + size * (size - 1);
    one_workflow(path, durability, tasks::wide_deep(size, size), expected).await
}

pub async fn fib(path: &Path, durability: Durability, n: u64) -> workflow::Result<Measure> {
    let expected = {
        let (mut a, mut b) = (0_u64, 1_u64);
        for _ in 0..n {
            (a, b) = (b, a + b);
        }
        a
    };
    one_workflow(path, durability, tasks::fib::bind(n), expected).await
}

/// `count` workflows of 10 tasks each (9 leaves and their sum), submitted at once.
pub async fn many(path: &Path, durability: Durability, count: u64) -> workflow::Result<Measure> {
    let engine = engine(path, durability).await?;
    let started = Instant::now();
    let mut spawners = tokio::task::JoinSet::<workflow::Result<Vec<WorkflowHandle<u64>>>>::new();
    const SPAWNERS: u64 = 32;
    for part in 0..SPAWNERS {
        let engine = engine.clone();
        spawners.spawn(async move {
            let mut handles = Vec::new();
            for i in (part..count).step_by(SPAWNERS as usize) {
                handles.push(engine.spawn(&format!("m{i}"), tasks::fanout(9)).await?);
            }
            Ok(handles)
        });
    }
    let mut handles = Vec::new();
    while let Some(spawned) = spawners.join_next().await {
        handles.extend(spawned.expect("a spawner")?);
    }
    for handle in handles {
        assert_eq!(handle.output().await?, 36);
    }
    let secs = started.elapsed().as_secs_f64();
    engine.close().await?;
    Ok(timed(secs, count * 10))
}

/// `calls` writer calls on one actor, all queued at once; then `calls` over 1,000 actors.
pub async fn actor(path: &Path, durability: Durability, calls: u64) -> workflow::Result<Measure> {
    let engine = engine(path, durability).await?;
    let counter = Counter::get_or_create(&engine, "one").await?;
    let started = Instant::now();
    let mut handles = Vec::with_capacity(calls as usize);
    for _ in 0..calls {
        handles.push(counter.incr().spawn().await?);
    }
    for handle in handles.drain(..) {
        handle.output().await?;
    }
    let one = started.elapsed().as_secs_f64();
    assert_eq!(counter.value().run().await?, calls);

    const ACTORS: u64 = 1_000;
    let mut counters = Vec::new();
    for i in 0..ACTORS {
        counters.push(Counter::get_or_create(&engine, &format!("c{i}")).await?);
    }
    let started = Instant::now();
    let mut spawners = tokio::task::JoinSet::<workflow::Result<()>>::new();
    const SPAWNERS: u64 = 32;
    for part in 0..SPAWNERS {
        let counters: Vec<_> = counters
            .iter()
            .skip(part as usize)
            .step_by(SPAWNERS as usize)
            .cloned()
            .collect();
        let per_actor = calls / ACTORS;
        spawners.spawn(async move {
            let mut handles = Vec::new();
            for _ in 0..per_actor {
                for counter in &counters {
                    handles.push(counter.incr().spawn().await?);
                }
            }
            for handle in handles {
                handle.output().await?;
            }
            Ok(())
        });
    }
    while let Some(done) = spawners.join_next().await {
        done.expect("a spawner")?;
    }
    let spread = started.elapsed().as_secs_f64();
    engine.close().await?;
    let mut measure = timed(one, calls);
    measure.extra = vec![
        ("one_actor_calls_per_s".into(), calls as f64 / one),
        (
            "spread_calls_per_s".into(),
            (calls / ACTORS * ACTORS) as f64 / spread,
        ),
    ];
    Ok(measure)
}

/// `count` workflows waiting on external events, released by concurrent sends.
pub async fn events(path: &Path, durability: Durability, count: u64) -> workflow::Result<Measure> {
    let engine = engine(path, durability).await?;
    let warm = workflow::wait_for_event(ExternalEvent::<u64>::new("go"));
    let warm = engine.spawn("warm", tasks::released::bind(warm)).await?;
    engine.send_event("warm", "go", &0_u64).await?;
    warm.output().await?;
    let before = rss();
    let mut handles = Vec::with_capacity(count as usize);
    for i in 0..count {
        let event = workflow::wait_for_event(ExternalEvent::<u64>::new("go"));
        handles.push(
            engine
                .spawn(&format!("v{i}"), tasks::released::bind(event))
                .await?,
        );
    }
    while !engine.list(Some(WorkflowStatus::Pending)).await?.is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let per_waiting = rss().saturating_sub(before) as f64 / count as f64;
    let started = Instant::now();
    let mut senders = tokio::task::JoinSet::<workflow::Result<()>>::new();
    const SENDERS: u64 = 64;
    for part in 0..SENDERS {
        let engine = engine.clone();
        senders.spawn(async move {
            for i in (part..count).step_by(SENDERS as usize) {
                engine.send_event(&format!("v{i}"), "go", &i).await?;
            }
            Ok(())
        });
    }
    while let Some(sent) = senders.join_next().await {
        sent.expect("a sender")?;
    }
    for (i, handle) in handles.into_iter().enumerate() {
        assert_eq!(handle.output().await?, i as u64);
    }
    let secs = started.elapsed().as_secs_f64();
    engine.close().await?;
    let mut measure = timed(secs, count);
    measure.extra = vec![("bytes_per_waiting".into(), per_waiting)];
    Ok(measure)
}

/// Builds a store holding one finished workflow of `tasks` checkpointed tasks.
pub async fn setup_open(path: &Path, tasks: u64) -> workflow::Result<()> {
    let engine = engine(path, Durability::Buffered).await?;
    engine.run("big", tasks::fanout(tasks - 1)).await?;
    engine.close().await
}

/// `Engine::open` on the store `setup_open` built.
pub async fn open(path: &Path, durability: Durability) -> workflow::Result<Measure> {
    let started = Instant::now();
    let engine = engine(path, durability).await?;
    let secs = started.elapsed().as_secs_f64();
    engine.close().await?;
    Ok(timed(secs, 1))
}

/// The victim of `resume`: runs a workflow of `size` x `size` tasks until it is killed,
/// printing how many tasks ran.
pub async fn resume_victim(path: &Path, durability: Durability, size: u64) -> workflow::Result<()> {
    let engine = engine(path, durability).await?;
    std::thread::spawn(|| loop {
        println!("{}", RAN.load(Ordering::Relaxed));
        std::thread::sleep(Duration::from_millis(5));
    });
    engine.run("big", tasks::wide_deep(size, size)).await?;
    unreachable!("the victim is killed before its workflow ends");
}

/// Opens the store the victim left and resumes its workflow: the time from `open` to the
/// first task run, and the resume's tasks/s.
pub async fn resume(path: &Path, durability: Durability, size: u64) -> workflow::Result<Measure> {
    let opened = Instant::now();
    let engine = engine(path, durability).await?;
    engine.resume_all().await?;
    let expected = size * (size - 1) / 2 + size * (size - 1);
    assert_eq!(engine.output::<u64>("big").await?, expected);
    let first = FIRST_RUN.get().copied().unwrap_or(opened);
    let secs = first.elapsed().as_secs_f64();
    let first_task = (first - opened).as_secs_f64();
    engine.close().await?;
    let mut measure = timed(secs, RAN.load(Ordering::Relaxed));
    measure.extra = vec![("first_task_ms".into(), first_task * 1e3)];
    Ok(measure)
}
