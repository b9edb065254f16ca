//! A store of many finished workflows: paging through it, opening it, deleting every
//! workflow and compacting.
//!
//! `cargo bench --bench store_size [WORKFLOWS] [ROUNDS]` (100,000 and 3 by default). Each
//! listing runs in a process of its own, so its peak memory is its own; the baseline is the
//! same pages read straight from the store's `workflows` keyspace.

use std::{path::Path, process::Command, time::Instant};

use workflow::prelude::*;
use workflow::storage::{FjallStore, Keyspace, Order, Storage};

#[task]
fn echo(n: u64) -> u64 {
    n
}

const PAGE: usize = 100;

fn main() -> workflow::Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    if let [mode, path] = args.as_slice() {
        if let Some(mode) = mode.strip_prefix("child-") {
            return runtime.block_on(child(mode, Path::new(path)));
        }
    }
    let workflows: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("store");

    let started = Instant::now();
    runtime.block_on(fill(&path, workflows))?;
    println!(
        "{workflows} workflows written in {:.1}s (Buffered)",
        started.elapsed().as_secs_f64()
    );
    println!("{rounds} round(s) per measure, each in its own process; medians (min..max)");
    for mode in ["raw-pages", "pages", "list"] {
        let results: Vec<Vec<f64>> = (0..rounds).map(|_| run_child(mode, &path)).collect();
        report(mode, workflows, &results);
    }
    runtime.block_on(delete_all(&path, workflows))
}

/// Writes `count` finished one-task workflows.
async fn fill(path: &Path, count: u64) -> workflow::Result<()> {
    let engine = Engine::builder()
        .path(path)
        .durability(Durability::Buffered)
        .admin_socket(false)
        .build()
        .await?;
    for chunk in (0..count).collect::<Vec<_>>().chunks(1_000) {
        let mut handles = Vec::with_capacity(chunk.len());
        for &n in chunk {
            handles.push(engine.spawn(&format!("job-{n:07}"), echo::bind(n)).await?);
        }
        for handle in handles {
            handle.output().await?;
        }
    }
    engine.close().await
}

/// Runs one listing in a child process and returns its figures.
fn run_child(mode: &str, path: &Path) -> Vec<f64> {
    let output = Command::new(std::env::current_exe().expect("this program"))
        .args([format!("child-{mode}"), path.display().to_string()])
        .output()
        .expect("the child runs");
    assert!(
        output.status.success(),
        "child {mode} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .map(|n| n.parse().expect("a figure"))
        .collect()
}

/// In a child process: opens the store, reads every workflow as `mode` says, and prints
/// open seconds, list seconds, first page milliseconds, workflows seen, RSS after open and
/// peak RSS (KiB).
async fn child(mode: &str, path: &Path) -> workflow::Result<()> {
    let opened = Instant::now();
    let (engine, store) = if mode == "raw-pages" {
        (None, Some(FjallStore::open(path)?))
    } else {
        let engine = Engine::builder()
            .path(path)
            .admin_socket(false)
            .build()
            .await?;
        (Some(engine), None)
    };
    let open_s = opened.elapsed().as_secs_f64();
    let rss_open = proc_status_kib("VmRSS");
    let listing = Instant::now();
    let mut first_page_ms = None;
    let mut seen = 0usize;
    match (mode, &engine, &store) {
        ("list", Some(engine), _) => {
            seen = engine.list(None).await?.len();
            first_page_ms = Some(listing.elapsed().as_secs_f64() * 1e3);
        }
        ("pages", Some(engine), _) => {
            let mut query = ListQuery::new().newest_first().limit(PAGE);
            loop {
                let page = engine.list_page(&query).await?;
                first_page_ms.get_or_insert(listing.elapsed().as_secs_f64() * 1e3);
                seen += page.workflows.len();
                match page.next {
                    Some(next) => query = query.after(next),
                    None => break,
                }
            }
        }
        (_, _, Some(store)) => {
            let heads = Keyspace::new("workflows");
            let mut after: Option<Vec<u8>> = None;
            loop {
                let page = store
                    .scan_page(heads, b"", after.as_deref(), Order::Ascending, PAGE)
                    .await?;
                first_page_ms.get_or_insert(listing.elapsed().as_secs_f64() * 1e3);
                seen += page.len();
                match page.last() {
                    Some((key, _)) if page.len() == PAGE => after = Some(key.clone()),
                    _ => break,
                }
            }
        }
        _ => unreachable!("mode {mode}"),
    }
    let list_s = listing.elapsed().as_secs_f64();
    println!(
        "{open_s} {list_s} {} {seen} {rss_open} {}",
        first_page_ms.unwrap_or(0.0),
        proc_status_kib("VmHWM")
    );
    if let Some(engine) = engine {
        engine.close().await?;
    }
    if let Some(store) = store {
        store.close().await?;
    }
    Ok(())
}

fn report(mode: &str, workflows: u64, results: &[Vec<f64>]) {
    let column = |i: usize| -> (f64, f64, f64) {
        let mut values: Vec<f64> = results.iter().map(|r| r[i]).collect();
        values.sort_by(f64::total_cmp);
        (
            values[values.len() / 2],
            values[0],
            values[values.len() - 1],
        )
    };
    let (open, ..) = column(0);
    let (list, min, max) = column(1);
    let (first, ..) = column(2);
    let (seen, ..) = column(3);
    let (rss_open, ..) = column(4);
    let (peak, ..) = column(5);
    assert_eq!(seen as u64, workflows, "{mode} saw every workflow");
    println!(
        "{mode:<10} open {open:>6.3}s  read all {list:>7.3}s ({min:.3}..{max:.3})  first page {first:>7.1} ms  rss after open {:>5.0} MiB  peak {:>5.0} MiB",
        rss_open / 1024.0,
        peak / 1024.0
    );
    println!(
        "{{\"scenario\":\"store_size\",\"mode\":\"{mode}\",\"workflows\":{workflows},\"open_s\":{open:.3},\"read_all_s\":{list:.3},\"first_page_ms\":{first:.1},\"rss_open_kib\":{rss_open:.0},\"peak_rss_kib\":{peak:.0}}}"
    );
}

/// Deletes every workflow, then compacts, printing the store's size at each stage.
async fn delete_all(path: &Path, count: u64) -> workflow::Result<()> {
    let engine = Engine::builder()
        .path(path)
        .durability(Durability::Buffered)
        .admin_socket(false)
        .build()
        .await?;
    let size = |label: &str| {
        let tables = allocated(&path.join("keyspaces"));
        let total = allocated(path);
        println!(
            "{label:<32} {:>8.1} MiB on disk ({:>7.1} MiB tables, {:>6.1} MiB journal)",
            total as f64 / 1048576.0,
            tables as f64 / 1048576.0,
            (total - tables) as f64 / 1048576.0
        );
        (total, tables)
    };
    size("full store");
    engine.compact().await?;
    let (before, _) = size("full store, compacted");
    let started = Instant::now();
    for n in 0..count {
        engine.delete(&format!("job-{n:07}")).await?;
    }
    println!(
        "{count} workflows deleted in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    size("deleted, not compacted");
    let started = Instant::now();
    engine.compact().await?;
    let compact_s = started.elapsed().as_secs_f64();
    let (after, _) = size(&format!("deleted, compacted in {compact_s:.1}s"));
    println!(
        "{{\"scenario\":\"store_size\",\"mode\":\"delete\",\"workflows\":{count},\"bytes_before\":{before},\"bytes_after\":{after},\"compact_s\":{compact_s:.3}}}"
    );
    engine.close().await
}

/// The bytes allocated to the files under `folder`.
fn allocated(folder: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    for entry in std::fs::read_dir(folder).expect("a readable folder") {
        let entry = entry.expect("an entry");
        let metadata = entry.metadata().expect("its metadata");
        total += if metadata.is_dir() {
            allocated(&entry.path())
        } else {
            metadata.blocks() * 512
        };
    }
    total
}

/// A `/proc/self/status` figure in KiB (0 where there is no `/proc`).
fn proc_status_kib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with(field))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0.0)
}
