//! API.md §6: the `counter` acceptance example, as a test.

use serde::{Deserialize, Serialize};
use workflow::prelude::*;

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

#[tokio::test]
async fn acceptance_counter() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("workflow-data");
    let engine = Engine::open(&path).await?;
    let c1 = Counter::get_or_create(&engine, "counter_1").await?;
    assert_eq!(c1.incr().run().await?, 1);
    assert_eq!(c1.incr().run().await?, 2);
    let again = Counter::get_actor(&engine, "counter_1").await?;
    assert_eq!(again.value().run().await?, 2);
    assert!(matches!(
        Counter::get_actor(&engine, "counter_2").await,
        Err(Error::NotFound { .. })
    ));
    // Calls are workflows of their own, not listed with the user's.
    assert!(engine.list(None).await?.is_empty());
    assert_eq!(
        engine.status("counter_1@1").await?,
        WorkflowStatus::Successful
    );
    engine.close().await?;

    let engine = Engine::open(&path).await?;
    let reopened = Counter::get_or_create(&engine, "counter_1").await?;
    assert_eq!(
        reopened.value().run().await?,
        2,
        "get_or_create does not reset"
    );
    assert_eq!(reopened.incr().run().await?, 3);
    engine.close().await
}
