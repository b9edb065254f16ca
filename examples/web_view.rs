//! The web view, served by the program that runs the workflows.
//!
//! `cargo run --features web --example web_view`, then open http://127.0.0.1:8080/
//! (`-- 127.0.0.1:9000` serves another address). It starts a few workflows to look at: a
//! fan-out that runs for a while, a recursion by continuation, one that fails, and one
//! that waits for an event.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use workflow::prelude::*;

/// One piece of a slow fan-out.
#[task]
async fn measure(part: u64) -> u64 {
    tokio::time::sleep(Duration::from_millis(400 + part % 13 * 450)).await;
    part * part
}

#[task]
fn total(parts: Vec<u64>) -> u64 {
    parts.iter().sum()
}

#[task]
fn add(a: u64, b: u64) -> u64 {
    a + b
}

#[task]
fn fib(n: u64) -> Flow<u64> {
    if n <= 1 {
        return Flow::Done(n);
    }
    workflow::continuation(add::bind(fib::bind(n - 1), fib::bind(n - 2)))
}

#[task]
fn load(rows: u64) -> u64 {
    rows
}

#[derive(Debug, thiserror::Error, Serialize, Deserialize)]
#[error("the ledger is locked by another job")]
struct Locked;

#[task(max_retries = 1)]
fn post(rows: u64) -> Result<u64, Locked> {
    let _ = rows;
    Err(Locked)
}

#[task]
fn ship(approved: bool, rows: u64) -> String {
    format!("shipped {rows} rows (approved: {approved})")
}

/// An account, as an actor.
#[derive(Serialize, Deserialize)]
struct Account {
    balance: i64,
}

#[virtual_actor]
impl Account {
    fn new() -> Self {
        Account { balance: 0 }
    }

    fn deposit(&mut self, amount: i64) -> i64 {
        self.balance += amount;
        self.balance
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_string());
    let path = std::env::temp_dir().join("workflow-example-web");
    let _ = std::fs::remove_dir_all(&path);
    let engine = Engine::open(&path).await?;

    engine.run("fib-6", fib::bind(6)).await?;
    let _ = engine
        .run("nightly-post", post::bind(load::bind(1200)))
        .await;
    engine
        .spawn(
            "ship-order-7",
            ship::bind(
                workflow::wait_for_event(ExternalEvent::<bool>::new("approved")),
                load::bind(7),
            ),
        )
        .await?;
    let parts: Vec<Dag<u64>> = (0..3000).map(measure::bind).collect();
    engine.spawn("report-2026-11", total::bind(parts)).await?;
    let account = Account::get_or_create(&engine, "account-42").await?;
    account.deposit(100).run().await?;
    account.deposit(-30).run().await?;

    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("the web view: http://{}/", listener.local_addr()?);
    workflow::web::WebView::new(engine.clone())
        .serve(listener)
        .await?;
    engine.close().await?;
    Ok(())
}
