//! `workflow::create`: a workflow with an id and metadata, in the style of Ray's API.

use crate::{Dag, Engine, Result, TaskValue, WorkflowHandle};

/// A DAG about to be run as a workflow; see [`create`].
#[must_use = "a workflow does nothing until it is run or spawned"]
pub struct Workflow<T> {
    dag: Dag<T>,
    id: Option<String>,
    metadata: Option<serde_json::Value>,
}

/// Wraps `dag` so that an id and metadata can be set before running it.
///
/// Without [`id`](Workflow::id), a unique id is generated from the time and a counter.
///
/// # Examples
///
/// ```
/// # use workflow::prelude::*;
/// # #[task] fn one() -> i64 { 1 }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> workflow::Result<()> {
/// let engine = Engine::temporary().await?;
/// let out = workflow::create(one::bind())
///     .id("nightly-2026-11-25")
///     .metadata(serde_json::json!({ "team": "data" }))
///     .run(&engine)
///     .await?;
/// assert_eq!(out, 1);
/// # Ok(())
/// # }
/// ```
pub fn create<T: TaskValue>(dag: Dag<T>) -> Workflow<T> {
    Workflow {
        dag,
        id: None,
        metadata: None,
    }
}

impl<T: TaskValue> Workflow<T> {
    /// Sets the workflow id.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Attaches user metadata, stored as JSON and shown by [`Engine::metadata`].
    pub fn metadata(mut self, metadata: serde_json::Value) -> Self {
        self.metadata = Some(metadata);
        self
    }

    /// Runs the workflow and returns its output, as [`Engine::run`] does.
    pub async fn run(self, engine: &Engine) -> Result<T> {
        self.spawn(engine).await?.output().await
    }

    /// Starts the workflow, as [`Engine::spawn`] does.
    pub async fn spawn(self, engine: &Engine) -> Result<WorkflowHandle<T>> {
        let id = self.id.unwrap_or_else(generated_id);
        engine.spawn_with(&id, &self.dag, self.metadata).await
    }
}

fn generated_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let micros = crate::records::now_us();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("workflow-{micros}-{}-{n}", std::process::id())
}
