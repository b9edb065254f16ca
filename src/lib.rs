//! Durable, typed workflows.
//!
//! Write ordinary functions, mark them [`#[task]`](macro@task), bind them into a DAG, and run
//! it on an [`Engine`]: every task's output is checkpointed in an embedded store before anything
//! that depends on it starts, so a crashed workflow resumes where it stopped and a finished task
//! never runs twice.
//!
//! ```
//! use workflow::prelude::*;
//!
//! #[task]
//! fn one() -> i64 {
//!     1
//! }
//!
//! #[task]
//! fn add(a: i64, b: i64) -> i64 {
//!     a + b
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> workflow::Result<()> {
//! # let dir = tempfile::tempdir().unwrap();
//! # let path = dir.path().join("workflow-data");
//! let engine = Engine::open(&path).await?;
//! let out: i64 = engine.run("run_1", add::bind(100, one::bind())).await?;
//! assert_eq!(out, 101);
//! assert_eq!(engine.status("run_1").await?, WorkflowStatus::Successful);
//!
//! // Running the same id again returns the stored output and runs nothing.
//! assert_eq!(engine.run("run_1", add::bind(100, one::bind())).await?, 101);
//! # Ok(())
//! # }
//! ```
//!
//! # Tasks
//!
//! `#[task]` goes on a sync or async function whose arguments and output are owned and
//! serde-able ([`TaskValue`]). It leaves the function as it is and adds `name::bind(..)`,
//! which takes, for each argument of type `T`, a `T`, a [`Dag<T>`], `&str` for `String`, or
//! `Vec<Dag<T>>` for `Vec<T>` ([`IntoArg`]). A function returning `Result<T, E>` fails with
//! its `Err`; a panic is a failure too.
//!
//! Options: `name = ".."` (the durable name, default module path and function name),
//! `version = N`, `max_retries = N` (default 3), `retry_errors = true`,
//! `retry_backoff = "100ms"`, `timeout = "30s"`, `checkpoint = false`, and `blocking` for a
//! long sync task that must run on tokio's blocking pool. The per-node methods of [`Dag`]
//! override most of them for one node.
//!
//! # Waiting
//!
//! [`sleep`] is a durable timer, and [`wait_for_event`] waits for an [`ExternalEvent`] sent
//! with [`Engine::send_event`] or for a user's [`EventListener`] (its impl marked
//! [`#[event_listener]`](macro@event_listener)). Both are steps of the DAG, so a task that
//! takes them as arguments runs once they have occurred; waiting holds no thread and no
//! running slot.
//!
//! # Actors
//!
//! [`#[virtual_actor]`](macro@virtual_actor) on a serde type's `impl` block makes it a durable
//! actor: `Counter::get_or_create(&engine, id, ..)` and `Counter::get_actor(&engine, id)` give
//! a handle whose methods start [`ActorCall`]s. Writer calls (`&mut self`) of one actor run in
//! arrival order and commit the new state with their output; read-only calls run at once.
//!
//! # Durability
//!
//! With [`Durability::Sync`] (the default) a checkpoint is fsynced before its dependents
//! start, one fsync shared by all the checkpoints ready at the same moment. With
//! [`Durability::Buffered`] it is written to the operating system, which survives a killed
//! process but not a power loss. A store is used by one process at a time: a second one gets
//! [`Error::Locked`].
//!
//! # Operating
//!
//! [`Engine::progress`] (and [`WorkflowHandle::progress`]) watch a workflow's tasks done out
//! of tasks known; [`Engine::drain`] shuts down gracefully, letting running tasks finish and
//! checkpoint. Each workflow run is a `tracing` span named `workflow`, each task attempt a
//! `task` span inside it, and the engine records counters, histograms and gauges through the
//! `metrics` facade under the names in [`metrics`](mod@metrics); neither costs more than a
//! check until the program installs a subscriber or a recorder.
//!
//! # Values
//!
//! Values are stored with postcard, which is compact but not self-describing: see
//! [`TaskValue`] for the serde features it cannot carry.

#![warn(missing_docs)]

#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "web")]
pub mod web;

pub use async_trait::async_trait;
pub use workflow_core::*;
pub use workflow_macros::{event_listener, task, virtual_actor};
pub use workflow_storage::Durability;

/// The storage layer: the [`Storage`](storage::Storage) trait and its backends, for
/// [`EngineBuilder::storage`].
pub mod storage {
    pub use workflow_storage::*;
}

/// Everything a workflow program needs: `use workflow::prelude::*;`.
pub mod prelude {
    pub use crate::{
        async_trait, event_listener, task, virtual_actor, ActorCall, Dag, Durability, Engine,
        EngineBuilder, Error, EventListener, ExternalEvent, Flow, IntoArg, ListQuery, ObjectRef,
        TaskContext, TaskError, TaskMetadata, TaskStatus, TaskValue, Workflow, WorkflowHandle,
        WorkflowInfo, WorkflowMetadata, WorkflowStatus,
    };
}
