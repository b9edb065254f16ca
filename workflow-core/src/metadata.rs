//! What `Engine::metadata` and `Engine::list` report.

use std::time::SystemTime;

use serde::Serialize;

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
#[derive(Clone, Debug, Serialize)]
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
#[derive(Clone, Debug, Serialize)]
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
}

/// Where one task is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
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
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct WorkflowInfo {
    /// The workflow id.
    pub id: String,
    /// Its status.
    pub status: WorkflowStatus,
    /// When it first started running.
    pub start_time: Option<SystemTime>,
    /// When it finished, failed or was canceled.
    pub end_time: Option<SystemTime>,
}
