//! An actor's call as a step of a workflow: `counter.incr().bind()` queues the call when the
//! step runs, once (a retried or resumed step finds the call it queued), and outputs the
//! call's output.

use workflow_storage::KeyBuilder;

use super::records::{parse_call_id, CALL_ORIGINS};
use crate::{
    arg::Input,
    context::context,
    dag::{bind_registration, Dag},
    registry::{any_fingerprint, ErasedInvocation, ErasedOutcome, Registry, TaskRegistration},
    task::{signature_hash, TaskOptions},
    Error, Result, TaskValue,
};

const NAME: &str = "workflow::actor_call";

/// The step that calls method `method` of actor `actor` with encoded `args`.
///
/// Its arguments are the actor, the method and whether it writes, then the method's own
/// arguments (values or outputs of other steps), whose encodings concatenated are the
/// encoding of the method's argument tuple.
pub(crate) fn call_step<T: TaskValue>(
    actor: &str,
    method: &TaskRegistration,
    writes: bool,
    args: Vec<Input>,
) -> Dag<T> {
    let mut inputs = vec![
        crate::arg::encoded(&actor.to_string()),
        crate::arg::encoded(&method.name.to_string()),
        crate::arg::encoded(&writes),
    ];
    inputs.extend(args);
    bind_registration(REGISTERED.with_output::<T>(), inputs)
}

/// The registration a resumed workflow finds by name; the output's type comes with each step.
const REGISTERED: TaskRegistration = TaskRegistration {
    name: NAME,
    function: "call",
    version: 1,
    signature: signature_hash("fn(String, String, bool, ..) -> call"),
    options: TaskOptions::DEFAULT,
    start: start_call,
    output_type: call_type,
    output_fingerprint: any_fingerprint,
    waits: true,
    timer_millis: None,
    stays_local: true,
    value_types: &[],
    actor_state: None,
};

inventory::submit! { REGISTERED }

fn call_type() -> String {
    "call".to_string()
}

fn start_call(args: &[u8]) -> Result<ErasedInvocation> {
    let ((actor, method, writes), rest): ((String, String, bool), &[u8]) =
        postcard::take_from_bytes(args).map_err(|error| Error::Codec {
            message: format!("the arguments of an actor call step cannot be read: {error}"),
        })?;
    let args = rest.to_vec();
    Ok(ErasedInvocation::Async(Box::pin(async move {
        match run_call(&actor, &method, writes, args).await {
            Ok(output) => ErasedOutcome::Delivered {
                bytes: output.bytes.clone(),
                fingerprint: output.fingerprint,
                consumed: None,
            },
            Err(Error::Closed) => super::stopped_by_close().await,
            Err(error) => ErasedOutcome::Failed(error.to_string()),
        }
    })))
}

async fn run_call(
    actor: &str,
    method: &str,
    writes: bool,
    args: Vec<u8>,
) -> Result<std::sync::Arc<crate::driver::Output>> {
    let context = context();
    let shared = context.engine.upgrade().ok_or(Error::Closed)?;
    if let Some((caller, caller_call)) = parse_call_id(context.workflow_id()) {
        if writes && caller == actor && shared.actors.is_unfinished_writer(actor, caller_call) {
            return Err(Error::WriterWaitsForItself {
                actor: actor.to_string(),
                method: method.to_string(),
            });
        }
    }
    let origin = KeyBuilder::new()
        .str(context.workflow_id())
        .str(context.task_id())
        .build();
    let queued = shared.store.get(CALL_ORIGINS, &origin).await?;
    let id = match queued {
        Some(id) => {
            let id = String::from_utf8(id).map_err(|_| Error::Corrupt {
                keyspace: CALL_ORIGINS.name(),
                key: workflow_storage::render_key(&origin),
                reason: "the call id is not UTF-8".to_string(),
            })?;
            // Queued by an earlier attempt: make sure it runs (where its actor is served),
            // then wait for it.
            shared
                .resume_stored(&id)
                .await
                .or_else(|error| match error {
                    Error::TaskFailed { .. } | Error::ActorElsewhere { .. } => Ok(()),
                    error => Err(error),
                })?;
            id
        }
        None => {
            let registration =
                *Registry::global()
                    .get(method)
                    .ok_or_else(|| Error::IncompatibleTask {
                        task: method.to_string(),
                        reason: "no actor method of this name is linked into this program"
                            .to_string(),
                    })?;
            let args = vec![Input::Value(args.into(), Vec::new())];
            shared
                .spawn_call_from(actor, registration, writes, args, Some(origin))
                .await?
        }
    };
    shared.output(&id).await
}
