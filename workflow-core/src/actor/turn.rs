//! The step that waits for a writer call's turn: every earlier writer of the actor finished.
//!
//! It is a step of its own, before the method's, so that the method's attempts are counted
//! from when it can run: a crash while a call waits its turn does not use them up.

use crate::{
    arg::encoded,
    context::context,
    dag::{bind_registration, Dag},
    registry::{ErasedInvocation, ErasedOutcome, TaskRegistration},
    task::{signature_hash, TaskOptions},
    value::{decode_value, encode_value, fingerprint, short_type_name},
    Error, Result,
};

const NAME: &str = "workflow::actor_turn";

/// The step that waits for the turn of call `call` of actor `actor`; its output is `()`.
pub(crate) fn turn_step(actor: &str, call: u64) -> Dag<()> {
    bind_registration(
        REGISTERED,
        vec![encoded(&actor.to_string()), encoded(&call)],
    )
}

const REGISTERED: TaskRegistration = TaskRegistration {
    name: NAME,
    function: "turn",
    version: 1,
    signature: signature_hash("fn(String, u64) -> ()"),
    options: TaskOptions::DEFAULT,
    start: start_turn,
    output_type: short_type_name::<()>,
    output_fingerprint: fingerprint::<()>,
    waits: true,
    timer_millis: None,
    stays_local: true,
    value_types: &[],
    actor_state: None,
};

inventory::submit! { REGISTERED }

fn start_turn(args: &[u8]) -> Result<ErasedInvocation> {
    let (actor, call): (String, u64) = decode_value(args, NAME)?;
    Ok(ErasedInvocation::Async(Box::pin(async move {
        let waited = async {
            let shared = context().engine.upgrade().ok_or(Error::Closed)?;
            shared.wait_turn(&actor, call).await?;
            encode_value(&())
        };
        match waited.await {
            Ok(unit) => ErasedOutcome::Value(unit, Vec::new()),
            Err(Error::Closed) => super::stopped_by_close().await,
            Err(error) => ErasedOutcome::Failed(error.to_string()),
        }
    })))
}
