//! Running one attempt of a task: decode, call, catch, time out, encode.

use std::{
    any::Any,
    sync::Arc,
    time::{Duration, Instant},
};

use workflow_storage::Batch;

use crate::{
    context::{self, TaskContext},
    dag::Node,
    lower::refs_of,
    object::{ObjectId, ObjectSpace},
    registry::{ErasedInvocation, ErasedOutcome, TaskRegistration},
    task_error::FailureKind,
};

/// What one attempt produced.
pub(crate) enum AttemptResult {
    /// The encoded output, the objects it refers to, and the records of those of them made by
    /// this attempt, to commit with its checkpoint.
    Value(Vec<u8>, Vec<ObjectId>, Batch),
    /// A continuation, and the records of the objects its inputs refer to.
    Continue(Arc<Node>, Batch),
    /// A value delivered from outside: its encoding, its type's fingerprint, and the key of
    /// the event record it consumes.
    Delivered(Vec<u8>, u64, Option<Vec<u8>>),
    Failed {
        kind: FailureKind,
        message: String,
    },
}

/// Everything one attempt needs.
pub(crate) struct AttemptSpec {
    pub(crate) task: TaskRegistration,
    pub(crate) args: Arc<Args>,
    pub(crate) context: TaskContext,
    pub(crate) timeout: Option<Duration>,
}

/// Runs one attempt. A panic of an inline task unwinds out of this future (the caller's
/// `JoinSet` catches it); a panic on the blocking pool is returned as a failure.
pub(crate) async fn run_attempt(spec: AttemptSpec) -> AttemptResult {
    let objects = spec.context.objects.clone();
    // Objects the attempt staged and no checkpoint took are dropped however it ends, even
    // by a panic or an abort.
    let _discard = DiscardStaged {
        objects: objects.clone(),
        staged: spec.context.staged.clone(),
    };
    let limit = spec.timeout.zip(spec.context.deadline);
    // Objects are stored within the attempt's time: waiting for its `remote` tasks included.
    let persist = |refs: Vec<ObjectId>| {
        let objects = objects.clone();
        async move {
            match limit {
                None => Ok(objects.persist(&refs).await),
                Some((limit, deadline)) => tokio::time::timeout_at(
                    tokio::time::Instant::from_std(deadline),
                    objects.persist(&refs),
                )
                .await
                .map_err(|_| timed_out(limit)),
            }
        }
    };
    let context = spec.context.clone();
    // Records the attempt staged go with its checkpoint, and with nothing else.
    let staged = move |mut records: Batch| {
        records.append(context.take_writes());
        records
    };
    match run_body(spec).await {
        AttemptResult::Value(bytes, refs, _) => match persist(refs.clone()).await {
            Ok(Ok(records)) => AttemptResult::Value(bytes, refs, staged(records)),
            Ok(Err(error)) => persist_failed(error),
            Err(timeout) => timeout,
        },
        AttemptResult::Continue(node, _) => match persist(refs_of(&node)).await {
            Ok(Ok(records)) => AttemptResult::Continue(node, staged(records)),
            Ok(Err(error)) => persist_failed(error),
            Err(timeout) => timeout,
        },
        failed => failed,
    }
}

/// Objects could not be stored: a `remote` task's failure counts as this attempt's own
/// (so a panic is retried), anything else is a codec failure.
fn persist_failed(error: crate::Error) -> AttemptResult {
    match error {
        crate::Error::TaskFailed { task_id, error, .. } => AttemptResult::Failed {
            kind: error.kind(),
            message: format!("{task_id} {error}"),
        },
        other => AttemptResult::Failed {
            kind: FailureKind::Codec,
            message: other.to_string(),
        },
    }
}

struct DiscardStaged {
    objects: Arc<ObjectSpace>,
    staged: crate::object::StagedObjects,
}

impl Drop for DiscardStaged {
    fn drop(&mut self) {
        let staged = std::mem::take(&mut *self.staged.lock().unwrap_or_else(|p| p.into_inner()));
        self.objects.discard(&staged);
    }
}

/// The encoded arguments of a step: ready, or with objects still to be read.
pub(crate) enum Args {
    Ready(Arc<[u8]>),
    Parts(Vec<ArgPart>),
}

/// A piece of an argument tuple.
pub(crate) enum ArgPart {
    Bytes(Vec<u8>),
    /// An object passed as an argument of its value's type, with that type's fingerprint.
    Object(ObjectId, u64),
}

async fn resolve_args(args: &Args, objects: &ObjectSpace) -> crate::Result<Arc<[u8]>> {
    match args {
        Args::Ready(bytes) => Ok(bytes.clone()),
        Args::Parts(parts) => {
            let mut out = Vec::new();
            for part in parts {
                match part {
                    ArgPart::Bytes(bytes) => out.extend_from_slice(bytes),
                    ArgPart::Object(id, fingerprint) => {
                        objects.encoded(*id, *fingerprint, &mut out).await?
                    }
                }
            }
            Ok(out.into())
        }
    }
}

async fn run_body(spec: AttemptSpec) -> AttemptResult {
    let AttemptSpec {
        task,
        args,
        context,
        timeout,
    } = spec;
    let args = match resolve_args(&args, &context.objects).await {
        Ok(args) => args,
        Err(error) => {
            return AttemptResult::Failed {
                kind: FailureKind::Codec,
                message: error.to_string(),
            }
        }
    };
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
            ErasedOutcome::Value(bytes, refs) => AttemptResult::Value(bytes, refs, Batch::new()),
            ErasedOutcome::Continue(node) => AttemptResult::Continue(node, Batch::new()),
            ErasedOutcome::Delivered {
                bytes,
                fingerprint,
                consumed,
            } => AttemptResult::Delivered(bytes, fingerprint, consumed),
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
