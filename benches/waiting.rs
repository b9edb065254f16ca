//! What waiting costs: memory per workflow waiting on an external event, and the time to
//! release them all with `send_event`, against a baseline of plain tokio tasks each waiting
//! on a `Notify`.
//!
//! `cargo bench --bench waiting -- [COUNT] [ROUNDS]` (default 10,000 workflows, 3 rounds).
//! Each round runs in a process of its own, so that its memory figures are its own.

use std::{
    process::Command,
    sync::Arc,
    time::{Duration, Instant},
};

use workflow::prelude::*;

#[task]
fn receive(value: u64) -> u64 {
    value
}

/// Resident memory of this process, in bytes.
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// One round of the engine: spawn `count` waiting workflows, then release them.
async fn engine_round(count: u64) -> workflow::Result<String> {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let engine = Engine::builder()
        .path(dir.path().join("store"))
        .durability(Durability::Buffered)
        .build()
        .await?;
    // Warm up: one workflow through every path, so that lazily built state is counted out.
    let warm = workflow::wait_for_event(ExternalEvent::<u64>::new("go"));
    let warm = engine.spawn("warm", receive::bind(warm)).await?;
    engine.send_event("warm", "go", &0_u64).await?;
    warm.output().await?;
    let before = rss();

    let started = Instant::now();
    let mut handles = Vec::with_capacity(count as usize);
    for i in 0..count {
        let event = workflow::wait_for_event(ExternalEvent::<u64>::new("go"));
        handles.push(engine.spawn(&format!("w{i}"), receive::bind(event)).await?);
    }
    while !engine.list(Some(WorkflowStatus::Pending)).await?.is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Let every driver reach its wait.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let spawn_secs = started.elapsed().as_secs_f64();
    let waiting = rss().saturating_sub(before);

    let released = Instant::now();
    let mut senders = tokio::task::JoinSet::<workflow::Result<()>>::new();
    for part in 0..16 {
        let engine = engine.clone();
        senders.spawn(async move {
            for i in (part..count).step_by(16) {
                engine.send_event(&format!("w{i}"), "go", &i).await?;
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
    let release_secs = released.elapsed().as_secs_f64();
    engine.close().await?;
    Ok(format!(
        "{{\"bytes_per_waiting\":{},\"spawn_s\":{spawn_secs:.3},\"release_s\":{release_secs:.3}}}",
        waiting / count
    ))
}

/// The baseline: `count` tokio tasks each waiting on a `Notify`, then woken.
async fn baseline_round(count: u64) -> String {
    let before = rss();
    let started = Instant::now();
    let notifies: Vec<Arc<tokio::sync::Notify>> = (0..count)
        .map(|_| Arc::new(tokio::sync::Notify::new()))
        .collect();
    let mut tasks = tokio::task::JoinSet::new();
    for notify in &notifies {
        let notify = notify.clone();
        tasks.spawn(async move { notify.notified().await });
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let spawn_secs = started.elapsed().as_secs_f64();
    let waiting = rss().saturating_sub(before);
    let released = Instant::now();
    for notify in &notifies {
        notify.notify_one();
    }
    while tasks.join_next().await.is_some() {}
    let release_secs = released.elapsed().as_secs_f64();
    format!(
        "{{\"bytes_per_waiting\":{},\"spawn_s\":{spawn_secs:.3},\"release_s\":{release_secs:.3}}}",
        waiting / count
    )
}

fn field(json: &str, name: &str) -> f64 {
    let start = json.find(&format!("\"{name}\":")).expect("a field") + name.len() + 3;
    let rest = &json[start..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].parse().expect("a number")
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if let Some(kind) = args.first().filter(|a| *a == "engine" || *a == "baseline") {
        let count = args[1].parse().expect("a count");
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        let line = match kind.as_str() {
            "engine" => runtime
                .block_on(engine_round(count))
                .expect("an engine round"),
            _ => runtime.block_on(baseline_round(count)),
        };
        println!("{line}");
        return;
    }
    let count: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    println!("{count} waiting workflows, {rounds} rounds, each in its own process (Buffered)");
    println!(
        "{:<10} {:>16} {:>10} {:>11}",
        "", "bytes/waiting", "spawn s", "release s"
    );
    for kind in ["baseline", "engine"] {
        let lines: Vec<String> = (0..rounds)
            .map(|_| {
                let out = Command::new(std::env::current_exe().expect("this bench"))
                    .args([kind, &count.to_string()])
                    .output()
                    .expect("a round");
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                String::from_utf8_lossy(&out.stdout).trim().to_string()
            })
            .collect();
        let of = |name| median(lines.iter().map(|l| field(l, name)).collect());
        println!(
            "{kind:<10} {:>16.0} {:>10.3} {:>11.3}",
            of("bytes_per_waiting"),
            of("spawn_s"),
            of("release_s")
        );
        println!(
            "{{\"scenario\":\"waiting\",\"kind\":\"{kind}\",\"count\":{count},\"median_bytes_per_waiting\":{},\"median_spawn_s\":{},\"median_release_s\":{}}}",
            of("bytes_per_waiting"),
            of("spawn_s"),
            of("release_s")
        );
    }
}
