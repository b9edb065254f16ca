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

/// A text that names no [`WorkflowStatus`].
///
/// # Examples
///
/// ```
/// use workflow::WorkflowStatus;
///
/// assert_eq!("Failed".parse::<WorkflowStatus>(), Ok(WorkflowStatus::Failed));
/// let refused = "done".parse::<WorkflowStatus>().unwrap_err();
/// assert!(refused.to_string().contains("pending, running"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a status: pending, running, successful, failed, canceled or resumable")]
pub struct ParseStatusError(String);

impl std::str::FromStr for WorkflowStatus {
    type Err = ParseStatusError;

    /// Reads a status by its name, in any case.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        const ALL: [WorkflowStatus; 6] = [
            WorkflowStatus::Pending,
            WorkflowStatus::Running,
            WorkflowStatus::Successful,
            WorkflowStatus::Failed,
            WorkflowStatus::Canceled,
            WorkflowStatus::Resumable,
        ];
        ALL.into_iter()
            .find(|status| status.to_string().eq_ignore_ascii_case(text))
            .ok_or_else(|| ParseStatusError(text.chars().take(64).collect()))
    }
}
