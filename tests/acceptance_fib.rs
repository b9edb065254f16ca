//! API.md §3: the `fib` acceptance example, as a test.

mod support;

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

#[tokio::test]
async fn acceptance_fib() -> workflow::Result<()> {
    let engine = support::engine().await?;
    assert_eq!(engine.run("fib", fib::bind(10)).await?, 55);
    // fib(10) by continuation: 177 fib calls and 88 adds, each a checkpointed task.
    assert_eq!(engine.metadata("fib").await?.tasks.len(), 177 + 88);
    engine.close().await
}
