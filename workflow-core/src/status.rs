//! `WorkflowStatus`: where a workflow is in its life.

use serde::{Deserialize, Serialize};

/// The status of a workflow.
///
/// # Examples
///
/// ```
/// use workflow::prelude::*;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> workflow::Result<()> {
/// #[task]
/// fn one() -> i64 { 1 }
///
/// let engine = Engine::temporary().await?;
/// engine.run("w", one::bind()).await?;
/// assert_eq!(engine.status("w").await?, WorkflowStatus::Successful);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum WorkflowStatus {
    /// Stored and waiting for a running slot (`max_running_workflows`).
    Pending,
    /// Running in this process.
    Running,
    /// Finished with an output.
    Successful,
    /// A task failed after its retries; `resume` tries again.
    Failed,
    /// Interrupted (its process stopped); `resume` or `resume_all` continues it.
    Resumable,
    /// Canceled; it will not run again.
    Canceled,
}

impl WorkflowStatus {
    /// Whether the workflow has finished for good or failed: nothing of it is running.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            WorkflowStatus::Successful | WorkflowStatus::Failed | WorkflowStatus::Canceled
        )
    }
}

impl std::fmt::Display for WorkflowStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WorkflowStatus::Pending => "pending",
            WorkflowStatus::Running => "running",
            WorkflowStatus::Successful => "successful",
            WorkflowStatus::Failed => "failed",
            WorkflowStatus::Resumable => "resumable",
            WorkflowStatus::Canceled => "canceled",
        })
    }
}
