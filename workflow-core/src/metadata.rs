//! What the engine reports about stored workflows: `metadata`, `list`, `stats`, `waits`.

use std::{collections::BTreeMap, time::SystemTime};

use serde::{Deserialize, Serialize};

use crate::WorkflowStatus;

/// A workflow's status, times, user metadata and tasks.
///
/// # Examples
///
/// ```
/// # use workflow::prelude::*;
/// # #[task] fn one() -> i64 { 1 }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> workflow::Result<()> {
/// let engine = Engine::temporary().await?;
/// workflow::create(one::bind())
///     .id("w")
///     .metadata(serde_json::json!({ "owner": "billing" }))
///     .run(&engine)
///     .await?;
/// let meta = engine.metadata("w").await?;
/// assert_eq!(meta.user_metadata["owner"], "billing");
/// assert_eq!(meta.tasks[0].attempts, 1);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WorkflowMetadata {
    /// The workflow id.
    pub id: String,
    /// Its status.
    pub status: WorkflowStatus,
    /// What was given to [`Workflow::metadata`](crate::Workflow::metadata), or `null`.
    pub user_metadata: serde_json::Value,
    /// When it first started running.
    pub start_time: Option<SystemTime>,
    /// When it finished, failed or was canceled.
    pub end_time: Option<SystemTime>,
    /// Its tasks, in build order (continuations' tasks after the task that started them).
    pub tasks: Vec<TaskMetadata>,
}

/// One task of a workflow.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskMetadata {
    /// The task id in the workflow (`add`, `add_1`, or the one given with `task_id`).
    pub task_id: String,
    /// The task's durable name.
    pub name: String,
    /// Where the task is.
    pub status: TaskStatus,
    /// Attempts started, the first one included.
    pub attempts: u32,
    /// When its first attempt started.
    pub start_time: Option<SystemTime>,
    /// When it finished or failed.
    pub end_time: Option<SystemTime>,
    /// What was given to [`Dag::metadata`](crate::Dag::metadata), or `null`.
    pub user_metadata: serde_json::Value,
    /// The task ids of the tasks whose outputs it takes as arguments.
    pub inputs: Vec<String>,
    /// The task that returned the continuation this task belongs to; `None` for the tasks of
    /// the workflow's own DAG.
    pub parent: Option<String>,
    /// Why it failed, for a failed task or one whose error was caught.
    pub error: Option<String>,
}

/// Where one task is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TaskStatus {
    /// Not started.
    Waiting,
    /// An attempt is running.
    Running,
    /// Started, but its workflow is not running now.
    Interrupted,
    /// Finished, output checkpointed.
    Successful,
    /// Returned a continuation, whose output becomes its output.
    Continued,
    /// Failed after its attempts.
    Failed,
}

/// One entry of [`Engine::list`](crate::Engine::list).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WorkflowInfo {
    /// The workflow id.
    pub id: String,
    /// Its status.
    pub status: WorkflowStatus,
    /// When it was submitted.
    pub created_time: SystemTime,
    /// When it first started running.
    pub start_time: Option<SystemTime>,
    /// When it finished, failed or was canceled.
    pub end_time: Option<SystemTime>,
}

/// Counts of what a store holds, from [`Engine::stats`](crate::Engine::stats).
///
/// # Examples
///
/// ```
/// # use workflow::prelude::*;
/// # #[task] fn one() -> i64 { 1 }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> workflow::Result<()> {
/// let engine = Engine::temporary().await?;
/// engine.run("w", one::bind()).await?;
/// let stats = engine.stats().await?;
/// assert_eq!(stats.workflows, 1);
/// assert_eq!(stats.by_status[&WorkflowStatus::Successful], 1);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StoreStats {
    /// Workflows stored (actor calls not included).
    pub workflows: u64,
    /// Workflows by status; statuses with none are left out.
    pub by_status: BTreeMap<WorkflowStatus, u64>,
    /// Actors stored.
    pub actors: u64,
    /// Bytes the store takes on disk, where the store can tell.
    pub disk_bytes: Option<u64>,
}

/// What a workflow waits for, from [`Engine::waits`](crate::Engine::waits).
///
/// # Examples
///
/// ```
/// # use std::time::Duration;
/// # use workflow::prelude::*;
/// #[task]
/// fn approved(yes: bool) -> bool { yes }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> workflow::Result<()> {
/// let engine = Engine::temporary().await?;
/// let dag = approved::bind(workflow::wait_for_event(ExternalEvent::<bool>::new("approval")));
/// engine.spawn("order", dag).await?;
/// # tokio::time::sleep(Duration::from_millis(20)).await;
/// let waits = engine.waits("order").await?;
/// assert_eq!(waits.events[0].key, "approval");
/// engine.send_event("order", "approval", &true).await?;
/// assert!(engine.output::<bool>("order").await?);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Waits {
    /// Sleeps not finished, with their deadlines.
    pub timers: Vec<PendingTimer>,
    /// Steps waiting for an external event or a listener.
    pub events: Vec<PendingEvent>,
    /// Events sent to the workflow and not yet taken by a step, by key.
    pub queued: Vec<QueuedEvents>,
}

/// A sleep of a workflow that has not finished.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PendingTimer {
    /// The sleep's task id (`sleep`, `sleep_1`, ...).
    pub task_id: String,
    /// How long it sleeps.
    pub duration: std::time::Duration,
    /// When it ends; `None` until it starts (the deadline counts from its first start).
    pub deadline: Option<SystemTime>,
}

/// A step waiting for an event.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PendingEvent {
    /// The step's task id (`event`, `event_1`, ...).
    pub task_id: String,
    /// The key of the external event it waits for, or the listener's task name.
    pub key: String,
    /// Whether it waits for an [`ExternalEvent`](crate::ExternalEvent) (`false`: a listener).
    pub external: bool,
    /// Whether its wait has started (its dependencies are done).
    pub started: bool,
}

/// Events sent under one key and not yet taken.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct QueuedEvents {
    /// The event key.
    pub key: String,
    /// How many are queued.
    pub count: u64,
}
