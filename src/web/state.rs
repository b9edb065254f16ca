//! The state a task is drawn in: its stored status read with its workflow's.

use serde::Serialize;

use crate::{TaskMetadata, TaskStatus, WorkflowStatus};

/// How a task is shown: the colour of its node and the word in its detail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum TaskState {
    /// Its inputs are not all settled yet, or it is queued.
    Waiting,
    /// Its first attempt runs.
    Running,
    /// It runs again after a failed attempt.
    Retrying,
    /// An attempt started in a run that stopped; resuming runs it again.
    Interrupted,
    /// Its output (or its continuation) is stored.
    Done,
    /// It failed for good.
    Failed,
    /// Its workflow was canceled before it finished.
    Canceled,
}

impl TaskState {
    /// The state of `task` in a workflow with status `workflow`.
    pub(crate) fn of(task: &TaskMetadata, workflow: WorkflowStatus) -> TaskState {
        let canceled = workflow == WorkflowStatus::Canceled;
        match task.status {
            TaskStatus::Successful | TaskStatus::Continued => TaskState::Done,
            TaskStatus::Failed => TaskState::Failed,
            _ if canceled => TaskState::Canceled,
            TaskStatus::Running if task.attempts > 1 => TaskState::Retrying,
            TaskStatus::Running => TaskState::Running,
            TaskStatus::Interrupted => TaskState::Interrupted,
            _ => TaskState::Waiting,
        }
    }

    /// The state's name, as in CSS classes and JSON.
    pub(crate) fn name(self) -> &'static str {
        match self {
            TaskState::Waiting => "waiting",
            TaskState::Running => "running",
            TaskState::Retrying => "retrying",
            TaskState::Interrupted => "interrupted",
            TaskState::Done => "done",
            TaskState::Failed => "failed",
            TaskState::Canceled => "canceled",
        }
    }

    /// Every state, in the order counts are shown.
    pub(crate) const ALL: [TaskState; 7] = [
        TaskState::Done,
        TaskState::Running,
        TaskState::Retrying,
        TaskState::Waiting,
        TaskState::Interrupted,
        TaskState::Failed,
        TaskState::Canceled,
    ];
}
