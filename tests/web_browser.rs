//! The web view in headless Chromium: what a user sees and does on its pages.
//!
//! Needs Chromium and ChromeDriver (`scripts/browser-deps` installs them). Each test saves
//! a screenshot of what it checked in `target/web-screenshots/`.

#[path = "support/browser.rs"]
mod browser;

use std::time::Duration;

use browser::Browser;
use fantoccini::Locator;
use tokio::sync::{Mutex, Semaphore};
use workflow::prelude::*;

/// One browser at a time: two cores run them.
static ONE_BROWSER: Mutex<()> = Mutex::const_new(());

/// Steps of the live test wait here for the test to let them finish.
static GATE: Semaphore = Semaphore::const_new(0);
/// The same, for the steps of the folded fan-out.
static FAN_GATE: Semaphore = Semaphore::const_new(0);

#[task]
fn one() -> i64 {
    1
}

#[task]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[task]
async fn gated(x: i64) -> i64 {
    GATE.acquire().await.expect("the gate").forget();
    x
}

#[task]
async fn measure(x: i64) -> i64 {
    FAN_GATE.acquire().await.expect("the gate").forget();
    x
}

#[task]
fn fib(n: i64) -> Flow<i64> {
    if n <= 1 {
        return Flow::Done(n);
    }
    workflow::continuation(add::bind(fib::bind(n - 1), fib::bind(n - 2)))
}

#[task]
async fn slow(x: i64) -> i64 {
    tokio::time::sleep(Duration::from_secs(60)).await;
    x
}

#[task]
fn sum(values: Vec<i64>) -> i64 {
    values.iter().sum()
}

#[derive(Debug, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[error("the ledger is locked by job 7")]
struct Locked;

#[task]
fn post(_rows: i64) -> Result<i64, Locked> {
    Err(Locked)
}

/// Serves the view of `engine` on a free loopback port; its address.
async fn serve(engine: &Engine) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let addr = listener.local_addr().expect("the address");
    let view = workflow::web::WebView::new(engine.clone());
    tokio::spawn(async move { view.serve(listener).await.expect("the view serves") });
    format!("http://{addr}")
}

/// Serves the view of `engine` nested under `/ops` in a program's own router; the view's
/// address.
async fn serve_nested(engine: &Engine) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let addr = listener.local_addr().expect("the address");
    let app = axum::Router::new().nest("/ops", workflow::web::router(engine.clone()));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("the app serves") });
    format!("http://{addr}/ops")
}

async fn open(browser: &Browser, url: &str, ready: &str) {
    browser.client.goto(url).await.expect("the page loads");
    browser
        .wait_until(
            &format!("document.body.dataset.ready === '{ready}'"),
            browser::WAIT,
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_shows_the_workflows_a_test_created() {
    let _one = ONE_BROWSER.lock().await;
    let engine = Engine::temporary().await.unwrap();
    for n in 1..=3 {
        engine
            .run(&format!("invoice-{n}"), add::bind(one::bind(), n))
            .await
            .unwrap();
    }
    let _ = engine.run("nightly-post", post::bind(one::bind())).await;
    // Mounted in a program's own router, under a path.
    let url = serve_nested(&engine).await;
    let browser = Browser::start().await;
    open(&browser, &url, "list").await;
    let rows = browser
        .eval("[...document.querySelectorAll('#rows tr')].map(r => r.dataset.id)")
        .await;
    assert_eq!(
        rows,
        serde_json::json!(["nightly-post", "invoice-3", "invoice-2", "invoice-1"])
    );
    let first = browser
        .eval("document.querySelector('#rows tr').innerText")
        .await;
    assert!(first.as_str().unwrap().contains("failed"), "{first}");
    let counts = browser
        .eval("document.getElementById('counts').innerText")
        .await;
    assert!(
        counts.as_str().unwrap().contains("successful 3"),
        "{counts}"
    );

    // The search by prefix and the filter by status.
    let search = browser.wait_for("#search").await;
    search.send_keys("invoice-2").await.unwrap();
    browser
        .wait_until(
            "document.querySelectorAll('#rows tr').length === 1",
            browser::WAIT,
        )
        .await;
    browser.screenshot("list-search").await;
    search.clear().await.unwrap();
    search.send_keys(" ").await.unwrap();
    browser
        .wait_until(
            "document.querySelectorAll('#rows tr').length === 4",
            browser::WAIT,
        )
        .await;
    browser
        .wait_for("button.count[data-status='failed']")
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_until("[...document.querySelectorAll('#rows tr')].map(r => r.dataset.id).join() === 'nightly-post'", browser::WAIT)
        .await;
    browser.screenshot("list").await;
    // The links stay under the path the view is mounted at.
    browser.wait_for("#rows a").await.click().await.unwrap();
    browser
        .wait_until("document.body.dataset.ready === 'workflow'", browser::WAIT)
        .await;
    let at = browser.client.current_url().await.unwrap();
    assert_eq!(at.path(), "/ops/workflows/nightly-post");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_graph_changes_live_as_tasks_finish() {
    let _one = ONE_BROWSER.lock().await;
    let engine = Engine::temporary().await.unwrap();
    let steps: Vec<Dag<i64>> = (1..=5).map(gated::bind).collect();
    engine.spawn("live", sum::bind(steps)).await.unwrap();
    let url = serve(&engine).await;
    let browser = Browser::start().await;
    open(&browser, &format!("{url}/workflows/live"), "workflow").await;
    let nodes = browser
        .eval("document.querySelectorAll('#graph .node').length")
        .await;
    assert_eq!(nodes, 6, "five steps and their sum");
    let states = "[...document.querySelectorAll('#graph .node')].map(n => n.dataset.state)";
    browser
        .wait_until(
            &format!("{states}.filter(s => s === 'running').length === 5"),
            browser::WAIT,
        )
        .await;
    assert_eq!(
        browser
            .eval("document.querySelector('[data-node=\"sum\"]').dataset.state")
            .await,
        "waiting"
    );
    // A mark the page keeps only while it is not reloaded.
    browser.eval("window.__kept = true").await;
    browser.screenshot("graph-running").await;

    GATE.add_permits(2);
    browser
        .wait_until(
            &format!("{states}.filter(s => s === 'done').length === 2"),
            browser::WAIT,
        )
        .await;
    browser.screenshot("graph-two-done").await;
    GATE.add_permits(3);
    browser
        .wait_until(&format!("{states}.every(s => s === 'done')"), browser::WAIT)
        .await;
    browser
        .wait_until(
            "document.querySelector('#head .badge').dataset.status === 'successful'",
            browser::WAIT,
        )
        .await;
    assert_eq!(
        browser.eval("window.__kept === true").await,
        true,
        "the page reloaded"
    );
    assert_eq!(engine.output::<i64>("live").await.unwrap(), 15);
    browser.screenshot("graph-done").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_from_the_page_stops_the_workflow() {
    let _one = ONE_BROWSER.lock().await;
    let engine = Engine::temporary().await.unwrap();
    engine.spawn("long-job", slow::bind(1)).await.unwrap();
    let url = serve(&engine).await;
    let browser = Browser::start().await;
    open(&browser, &format!("{url}/workflows/long-job"), "workflow").await;
    browser.accept_confirms().await;
    browser
        .wait_for("button[data-action='cancel']")
        .await
        .click()
        .await
        .unwrap();
    let mut status = engine.status("long-job").await.unwrap();
    for _ in 0..100 {
        if status == WorkflowStatus::Canceled {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        status = engine.status("long-job").await.unwrap();
    }
    assert_eq!(status, WorkflowStatus::Canceled);
    browser
        .wait_until(
            "document.querySelector('#head .badge').dataset.status === 'canceled'",
            browser::WAIT,
        )
        .await;
    browser
        .wait_until(
            "document.querySelector('[data-node=\"slow\"]').dataset.state === 'canceled'",
            browser::WAIT,
        )
        .await;
    browser.screenshot("canceled").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_tasks_error_is_shown() {
    let _one = ONE_BROWSER.lock().await;
    let engine = Engine::temporary().await.unwrap();
    let _ = engine.run("nightly-post", post::bind(one::bind())).await;
    let url = serve(&engine).await;
    let browser = Browser::start().await;
    open(
        &browser,
        &format!("{url}/workflows/nightly-post"),
        "workflow",
    )
    .await;
    assert_eq!(
        browser
            .eval("document.querySelector('[data-node=\"post\"]').dataset.state")
            .await,
        "failed"
    );
    browser
        .wait_for("[data-node='post'] rect")
        .await
        .click()
        .await
        .unwrap();
    let error = browser.wait_for("#task-error").await.text().await.unwrap();
    assert!(error.contains("the ledger is locked by job 7"), "{error}");
    // The task that succeeded shows its output.
    browser
        .wait_for("[data-node='one'] rect")
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_until(
            "document.getElementById('task-title')?.textContent === 'one'",
            browser::WAIT,
        )
        .await;
    assert_eq!(
        browser
            .client
            .find(Locator::Css("#task-output"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "1"
    );
    browser
        .wait_for("[data-node='post'] rect")
        .await
        .click()
        .await
        .unwrap();
    browser.wait_for("#task-error").await;
    browser.screenshot("failed-task").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wide_fan_out_is_one_node_and_continuations_are_nested() {
    let _one = ONE_BROWSER.lock().await;
    let engine = Engine::temporary().await.unwrap();
    let parts: Vec<Dag<i64>> = (0..40).map(measure::bind).collect();
    engine
        .spawn("quarterly", add::bind(sum::bind(parts), fib::bind(4)))
        .await
        .unwrap();
    let url = serve(&engine).await;
    let browser = Browser::start().await;
    open(&browser, &format!("{url}/workflows/quarterly"), "workflow").await;
    let group = "document.querySelector('#graph .node[data-kind=\"group\"]')";
    browser
        .wait_until(
            &format!("{group}.dataset.state === 'running'"),
            browser::WAIT,
        )
        .await;
    // The continuations of fib, each drawn inside the one of the task that returned it.
    let nested = "(() => { const boxes = [...document.querySelectorAll('#graph .cluster > rect')]\
        .map((r) => r.getBBox()); return boxes.length >= 3 && boxes.some((a) => boxes.some((b) => \
        a !== b && b.x > a.x && b.y > a.y && b.x + b.width < a.x + a.width \
        && b.y + b.height < a.y + a.height)); })()";
    browser.wait_until(nested, browser::WAIT).await;
    FAN_GATE.add_permits(15);
    browser
        .wait_until(
            &format!("{group}.querySelector('.counts').textContent.includes('15 done')"),
            browser::WAIT,
        )
        .await;
    let counts = browser
        .eval(&format!("{group}.querySelector('.counts').textContent"))
        .await;
    assert!(counts.as_str().unwrap().contains("25 running"), "{counts}");
    browser
        .wait_for(".node[data-kind='group'] rect")
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_until(
            "document.getElementById('detail').innerText.includes('40 tasks')",
            browser::WAIT,
        )
        .await;
    browser.screenshot("graph-folded").await;
    FAN_GATE.add_permits(25);
    browser
        .wait_until(
            "document.querySelector('#head .badge').dataset.status === 'successful'",
            browser::WAIT,
        )
        .await;
    assert_eq!(engine.output::<i64>("quarterly").await.unwrap(), 780 + 3);
    browser.close().await;
}
