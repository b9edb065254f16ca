//! Running one attempt of a task: decode, call, catch, time out, encode.

use std::{
    any::Any,
    sync::Arc,
    time::{Duration, Instant},
};

use crate::{
    context::{self, TaskContext},
    dag::Node,
    registry::{ErasedInvocation, ErasedOutcome, TaskRegistration},
    task_error::FailureKind,
};

/// What one attempt produced.
pub(crate) enum AttemptResult {
    Value(Vec<u8>),
    Continue(Arc<Node>),
    Failed { kind: FailureKind, message: String },
}

/// Everything one attempt needs.
pub(crate) struct AttemptSpec {
    pub(crate) task: TaskRegistration,
    pub(crate) args: Arc<[u8]>,
    pub(crate) context: TaskContext,
    pub(crate) timeout: Option<Duration>,
}

/// Runs one attempt. A panic of an inline task unwinds out of this future (the caller's
/// `JoinSet` catches it); a panic on the blocking pool is returned as a failure.
pub(crate) async fn run_attempt(spec: AttemptSpec) -> AttemptResult {
    let AttemptSpec {
        task,
        args,
        context,
        timeout,
    } = spec;
    let invocation = match (task.start)(&args) {
        Ok(invocation) => invocation,
        Err(error) => {
            return AttemptResult::Failed {
                kind: FailureKind::Codec,
                message: error.to_string(),
            }
        }
    };
    match invocation {
        ErasedInvocation::Async(future) => {
            let future = context::scope(context, future);
            match timeout {
                None => future.await.into(),
                Some(limit) => match tokio::time::timeout(limit, future).await {
                    Ok(outcome) => outcome.into(),
                    Err(_) => timed_out(limit),
                },
            }
        }
        ErasedInvocation::Sync(body) => {
            // A sync body cannot be interrupted: it sees its deadline through
            // `is_canceled()`, and an attempt that ran past it is a timeout.
            let deadline = context.deadline;
            let outcome = if task.options.blocking {
                let ran =
                    tokio::task::spawn_blocking(move || context::scope_blocking(context, body))
                        .await;
                match ran {
                    Ok(outcome) => outcome.into(),
                    Err(error) if error.is_panic() => AttemptResult::Failed {
                        kind: FailureKind::Panic,
                        message: panic_message(error.into_panic()),
                    },
                    Err(error) => AttemptResult::Failed {
                        kind: FailureKind::Lost,
                        message: error.to_string(),
                    },
                }
            } else {
                context::scope_sync(context, body).into()
            };
            match (timeout, deadline) {
                (Some(limit), Some(deadline)) if Instant::now() >= deadline => timed_out(limit),
                _ => outcome,
            }
        }
    }
}

fn timed_out(limit: Duration) -> AttemptResult {
    AttemptResult::Failed {
        kind: FailureKind::Timeout,
        message: format!("the attempt ran longer than its timeout of {limit:?}"),
    }
}

impl From<ErasedOutcome> for AttemptResult {
    fn from(outcome: ErasedOutcome) -> Self {
        match outcome {
            ErasedOutcome::Value(bytes) => AttemptResult::Value(bytes),
            ErasedOutcome::Continue(node) => AttemptResult::Continue(node),
            ErasedOutcome::Failed(message) => AttemptResult::Failed {
                kind: FailureKind::Error,
                message,
            },
            ErasedOutcome::Unencodable(message) => AttemptResult::Failed {
                kind: FailureKind::Codec,
                message,
            },
        }
    }
}

/// The text of a panic's payload.
pub(crate) fn panic_message(payload: Box<dyn Any + Send>) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        format!("panicked: {text}")
    } else if let Some(text) = payload.downcast_ref::<String>() {
        format!("panicked: {text}")
    } else {
        "panicked".to_string()
    }
}
