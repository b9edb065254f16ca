//! The first acceptance example: two tasks bound into a DAG and run durably.
//!
//! `cargo run --example basic`

use workflow::prelude::*;

#[task]
fn one() -> i64 {
    1
}

#[task]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[tokio::main]
async fn main() -> workflow::Result<()> {
    // A store of its own, fresh on every run.
    let path = std::env::temp_dir().join("workflow-example-basic");
    let _ = std::fs::remove_dir_all(&path);
    let engine = Engine::open(&path).await?;

    let out: i64 = engine.run("run_1", add::bind(100, one::bind())).await?;
    assert_eq!(out, 101);
    println!("run_1 returned {out}");

    let status = engine.status("run_1").await?;
    assert_eq!(status, WorkflowStatus::Successful);
    println!("status: {status:?}");

    let stored: i64 = engine.output("run_1").await?;
    assert_eq!(stored, 101);
    println!("stored output: {stored}");

    engine.close().await?;
    Ok(())
}
