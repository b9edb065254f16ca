//! `task::remote(..)`: a task started at once, not durably, whose output is an object.

use crate::{
    context::{self, try_context},
    task::{Invocation, OutcomeKind, Task},
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
                        sender.send_replace(Some(Err(format!("it panicked: {error}"))));
                        return;
                    }
                }
            }
        };
        let result = match outcome.kind {
            OutcomeKind::Value(value) => Ok(erase(value)),
            OutcomeKind::Failed(message) => Err(message),
            OutcomeKind::Continue(_) => Err(
                "a task started with `remote` cannot continue; bind it into the DAG instead"
                    .to_string(),
            ),
        };
        sender.send_replace(Some(result));
    });
    ObjectRef::from_id(id)
}
