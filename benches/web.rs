//! The web view in a browser: from the request of a page to the page drawn, as headless
//! Chromium measures it (`performance`: navigation start to the page's `window.__drawn`,
//! taken after it painted the data it fetched).
//!
//! `cargo bench --features web --bench web -- [WORKFLOWS] [ROUNDS]` (default 100,000
//! workflows, 5 rounds). Needs Chromium and ChromeDriver (`scripts/browser-deps`).
//!
//! - the list page (newest 50, with the counts by status) of a store of WORKFLOWS
//!   workflows, against the same page of a store of 10: loads 2.1 s apart, so that each
//!   counts the store again (the view reuses a count for 2 s), and back to back;
//! - the graph page of a 10,000-task fan-out, of 100 parallel chains of 100 tasks, and of a
//!   one-task workflow as the baseline.

#[path = "../tests/support/browser.rs"]
mod browser;

use std::time::{Duration, Instant};

use browser::Browser;
use tokio::task::JoinSet;
use workflow::prelude::*;

#[task]
fn one() -> u64 {
    1
}

#[task]
fn next(x: u64) -> u64 {
    x + 1
}

#[task]
fn sum(values: Vec<u64>) -> u64 {
    values.iter().sum()
}

/// Runs `count` one-task workflows, 64 at a time.
async fn fill(engine: &Engine, count: usize) {
    let mut running = JoinSet::new();
    for n in 0..count {
        if running.len() >= 64 {
            running.join_next().await;
        }
        let engine = engine.clone();
        running.spawn(async move {
            engine
                .run(&format!("job-{n:06}"), one::bind())
                .await
                .expect("a run");
        });
    }
    while running.join_next().await.is_some() {}
}

async fn serve(engine: &Engine) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let addr = listener.local_addr().expect("the address");
    let view = workflow::web::WebView::new(engine.clone());
    tokio::spawn(async move { view.serve(listener).await.expect("the view serves") });
    format!("http://{addr}")
}

/// The median time from request to drawn page of `url`, over `rounds` loads, `pause` apart.
async fn drawn(browser: &Browser, url: &str, rounds: usize, pause: Duration) -> (f64, Vec<f64>) {
    let mut times = Vec::new();
    for _ in 0..rounds {
        tokio::time::sleep(pause).await;
        browser.client.goto(url).await.expect("the page loads");
        times.push(browser.drawn_ms().await);
    }
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    (sorted[sorted.len() / 2], times)
}

fn show(what: &str, (median, times): (f64, Vec<f64>)) {
    let all: Vec<String> = times.iter().map(|t| format!("{t:.0}")).collect();
    println!(
        "{what:<46} median {median:>7.0} ms   runs: {}",
        all.join(", ")
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let workflows: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5);

    let dir = tempfile::tempdir().expect("a folder");
    let engine = Engine::builder()
        .path(dir.path().join("big"))
        .durability(Durability::Buffered)
        .build()
        .await
        .expect("a store");
    let started = Instant::now();
    fill(&engine, workflows).await;
    println!(
        "stored {workflows} workflows in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let parts: Vec<Dag<u64>> = (0..10_000).map(|_| one::bind()).collect();
    engine
        .run("fan-out-10000", sum::bind(parts))
        .await
        .expect("the fan-out");
    let chains: Vec<Dag<u64>> = (0..100)
        .map(|_| (0..99).fold(one::bind(), |dag, _| next::bind(dag)))
        .collect();
    engine
        .run("chains-100x100", sum::bind(chains))
        .await
        .expect("the chains");
    engine.run("single", one::bind()).await.expect("one task");

    let small = Engine::builder()
        .path(dir.path().join("small"))
        .build()
        .await
        .expect("a store");
    fill(&small, 10).await;

    let big_url = serve(&engine).await;
    let small_url = serve(&small).await;
    let browser = Browser::start().await;
    println!("{rounds} loads each, request to drawn page, in headless Chromium:");
    let apart = Duration::from_millis(2_100);
    let now = Duration::ZERO;
    let list = |url: &str| format!("{url}/");
    show(
        "list page, store of 10 workflows (baseline)",
        drawn(&browser, &list(&small_url), rounds, apart).await,
    );
    show(
        &format!("list page, {workflows} workflows"),
        drawn(&browser, &list(&big_url), rounds, apart).await,
    );
    show(
        &format!("list page, {workflows} workflows, count reused"),
        drawn(&browser, &list(&big_url), rounds, now).await,
    );
    show(
        &format!("list page filtered (failed), {workflows} workflows"),
        drawn(
            &browser,
            &format!("{big_url}/?status=failed"),
            rounds,
            apart,
        )
        .await,
    );
    let graph = |id: &str| format!("{big_url}/workflows/{id}");
    show(
        "graph page, 1 task (baseline)",
        drawn(&browser, &graph("single"), rounds, now).await,
    );
    show(
        "graph page, fan-out of 10,000 tasks",
        drawn(&browser, &graph("fan-out-10000"), rounds, now).await,
    );
    show(
        "graph page, 100 chains of 100 tasks",
        drawn(&browser, &graph("chains-100x100"), rounds, now).await,
    );
    browser.close().await;
    engine.close().await.expect("close");
    small.close().await.expect("close");
}
