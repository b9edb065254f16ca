//! The second acceptance example: recursion by continuation.
//!
//! `cargo run --example fib`

use workflow::prelude::*;

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

#[tokio::main]
async fn main() -> workflow::Result<()> {
    // A store of its own, fresh on every run.
    let path = std::env::temp_dir().join("workflow-example-fib");
    let _ = std::fs::remove_dir_all(&path);
    let engine = Engine::open(&path).await?;

    let out = engine.run("fib", fib::bind(10)).await?;
    assert_eq!(out, 55);
    println!("fib(10) = {out}");

    let tasks = engine.metadata("fib").await?.tasks.len();
    println!("{tasks} tasks, each checkpointed");

    engine.close().await?;
    Ok(())
}
