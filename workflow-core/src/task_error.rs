//! `TaskError`: why an attempt of a task failed, as a value.

use serde::{Deserialize, Serialize};

/// Why a task failed, after all its attempts.
///
/// It reaches dependents of a node marked [`catch_errors`](crate::Dag::catch_errors) as
/// `Err(TaskError)`, and is carried by [`Error::TaskFailed`](crate::Error::TaskFailed).
///
/// # Examples
///
/// ```
/// use workflow::prelude::*;
///
/// #[task]
/// fn summary(r: Result<i64, TaskError>) -> String {
///     match r {
///         Ok(v) => format!("ok {v}"),
///         Err(e) if e.is_panic() => format!("panicked after {} attempts", e.attempts()),
///         Err(e) => format!("failed: {}", e.message()),
///     }
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskError {
    message: String,
    kind: FailureKind,
    attempts: u32,
}

/// What kind of failure ended an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum FailureKind {
    /// The task returned `Err`.
    Error,
    /// The task panicked.
    Panic,
    /// The attempt ran longer than its timeout.
    Timeout,
    /// The process died during the attempt.
    Lost,
    /// The task's input or output could not be encoded or decoded.
    Codec,
}

impl TaskError {
    pub(crate) fn new(kind: FailureKind, message: impl Into<String>, attempts: u32) -> Self {
        TaskError {
            message: message.into(),
            kind,
            attempts,
        }
    }

    /// The failure's message: the `Err`'s `Display`, or the panic's payload.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether the last attempt panicked.
    pub fn is_panic(&self) -> bool {
        self.kind == FailureKind::Panic
    }

    /// Whether the last attempt ran longer than its timeout.
    pub fn is_timeout(&self) -> bool {
        self.kind == FailureKind::Timeout
    }

    pub(crate) fn kind(&self) -> FailureKind {
        self.kind
    }

    /// How many attempts were made, the first one included.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}

impl std::fmt::Display for TaskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.kind {
            FailureKind::Error => "failed",
            FailureKind::Panic => "panicked",
            FailureKind::Timeout => "timed out",
            FailureKind::Lost => "was lost with its process",
            FailureKind::Codec => "could not encode or decode a value",
        };
        let plural = if self.attempts == 1 { "" } else { "s" };
        write!(
            f,
            "{what} after {} attempt{plural}: {}",
            self.attempts, self.message
        )
    }
}

impl std::error::Error for TaskError {}
