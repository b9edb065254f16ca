//! `task::remote(..)`: a task started at once, not durably, whose output is an object.

use crate::{
    attempt::panic_message,
    context::{self, try_context},
    task::{Invocation, OutcomeKind, Task},
    task_error::FailureKind,
    TaskError,
};

use super::{space::erase, ObjectId, ObjectRef};

/// Starts task `M` with `args` right away, inside the current task, and returns a reference to
/// its output. The output is checkpointed with the output of the task that returns the
/// reference; if the remote task fails, so does that checkpoint.
///
/// # Panics
///
/// Panics outside a task.
pub fn remote<M: Task>(args: M::Args) -> ObjectRef<M::Output> {
    let context = try_context().expect(
        "`remote` was called outside a task; outside tasks, build nodes with `bind` instead",
    );
    let id = ObjectId::new();
    let sender = context.objects.stage_running(id);
    context
        .staged
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(id);
    let invocation = M::invoke(args);
    tokio::spawn(async move {
        let outcome = match invocation {
            Invocation::Async(future) => context::scope(context, future).await,
            Invocation::Sync(body) => {
                match tokio::task::spawn_blocking(move || context::scope_blocking(context, body))
                    .await
                {
                    Ok(outcome) => outcome,
                    Err(error) => {
                        let message = if error.is_panic() {
                            panic_message(error.into_panic())
                        } else {
                            error.to_string()
                        };
                        let failure = TaskError::new(FailureKind::Panic, message, 1);
                        sender.send_replace(Some(Err(failure)));
                        return;
                    }
                }
            }
        };
        let result = match outcome.kind {
            OutcomeKind::Value(value) => Ok(erase(value)),
            OutcomeKind::Failed(message) => Err(TaskError::new(FailureKind::Error, message, 1)),
            OutcomeKind::Continue(_) => Err(TaskError::new(
                FailureKind::Error,
                "a task started with `remote` cannot continue; bind it into the DAG instead",
                1,
            )),
        };
        sender.send_replace(Some(result));
    });
    ObjectRef::from_id(id)
}
