//! External events: `workflow::wait_for_event(ExternalEvent::<T>::new(key))` waits for
//! `Engine::send_event(workflow_id, key, &value)`.

use std::marker::PhantomData;

use crate::{
    arg::IntoArg,
    context::context,
    dag::{bind_registration, Dag},
    registry::{any_fingerprint, ErasedInvocation, ErasedOutcome, TaskRegistration},
    task::{signature_hash, TaskOptions},
    value::{decode_value, fingerprint},
    wait::hub::queue_prefix,
    Result, TaskValue,
};

/// An event sent to a workflow from outside with [`Engine::send_event`](crate::Engine::send_event).
///
/// Events sent with one key form a queue: each is delivered once, in order, to successive
/// waits on that key. One sent before anything waits for it is kept durably until then.
///
/// # Examples
///
/// ```
/// use workflow::prelude::*;
///
/// #[task]
/// fn decide(approved: bool) -> String {
///     if approved { "shipped".into() } else { "held".into() }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> workflow::Result<()> {
/// let engine = Engine::temporary().await?;
/// let approval = workflow::wait_for_event(ExternalEvent::<bool>::new("approval"));
/// let handle = engine.spawn("order-7", decide::bind(approval)).await?;
/// engine.send_event(handle.id(), "approval", &true).await?;
/// assert_eq!(handle.output().await?, "shipped");
/// # Ok(())
/// # }
/// ```
pub struct ExternalEvent<T> {
    key: String,
    _value: PhantomData<fn() -> T>,
}

impl<T: TaskValue> ExternalEvent<T> {
    /// Waits for events sent with `key`.
    pub fn new(key: impl Into<String>) -> Self {
        ExternalEvent {
            key: key.into(),
            _value: PhantomData,
        }
    }
}

/// Something a workflow can wait for: see [`wait_for_event`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an event a workflow can wait for",
    note = "wait for `ExternalEvent::<T>::new(key)`, or for a type whose `impl EventListener` has `#[event_listener]`"
)]
pub trait EventSource {
    /// The value the event carries.
    type Event: TaskValue;

    /// The step that waits for the event.
    #[doc(hidden)]
    fn into_dag(self) -> Dag<Self::Event>;
}

impl<T: TaskValue> EventSource for ExternalEvent<T> {
    type Event = T;

    fn into_dag(self) -> Dag<T> {
        let inputs = vec![
            IntoArg::<String>::into_input(self.key),
            IntoArg::<u64>::into_input(fingerprint::<T>()),
        ];
        bind_registration(REGISTERED.with_output::<T>(), inputs)
    }
}

/// A step that waits for an event; its output is the event. A task taking it as an argument
/// runs once the event has occurred. Its task id is `event` (then `event_1`, ...).
///
/// # Examples
///
/// ```
/// use workflow::prelude::*;
///
/// let approval: Dag<bool> = workflow::wait_for_event(ExternalEvent::<bool>::new("approval"));
/// ```
pub fn wait_for_event<S: EventSource>(source: S) -> Dag<S::Event> {
    source.into_dag()
}

const NAME: &str = "workflow::external_event";
const SIGNATURE: u64 = signature_hash("fn(String, u64) -> event");

/// The registration a resumed workflow finds by name; its event's type comes with each step.
const REGISTERED: TaskRegistration = TaskRegistration {
    name: NAME,
    function: "event",
    version: 1,
    signature: SIGNATURE,
    options: TaskOptions::DEFAULT,
    start: start_waiting,
    output_type: event_type,
    output_fingerprint: any_fingerprint,
    waits: true,
    timer_millis: None,
    stays_local: true,
    value_types: &[],
    actor_state: None,
};

inventory::submit! { REGISTERED }

fn event_type() -> String {
    "event".to_string()
}

fn start_waiting(args: &[u8]) -> Result<ErasedInvocation> {
    let (key, expected): (String, u64) = decode_value(args, NAME)?;
    Ok(ErasedInvocation::Async(Box::pin(async move {
        let context = context();
        let prefix = queue_prefix(context.workflow_id(), &key);
        let claimed = match context.events.claim(&prefix).await {
            Ok(claimed) => claimed,
            Err(error) => return ErasedOutcome::Unencodable(error.to_string()),
        };
        if claimed.record.fingerprint != expected {
            context.events.release(&claimed.key);
            return ErasedOutcome::Unencodable(format!(
                "event `{key}` of workflow `{}` carries a `{}`, but the workflow waits for another type",
                context.workflow_id(),
                claimed.record.type_name
            ));
        }
        ErasedOutcome::Delivered {
            bytes: claimed.record.bytes,
            fingerprint: expected,
            consumed: Some(claimed.key),
        }
    })))
}
