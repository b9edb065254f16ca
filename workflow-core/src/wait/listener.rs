//! Event listeners: user types that wait for an event from the outside world, stored with the
//! DAG so that a resumed workflow can wait again.

use std::{marker::PhantomData, time::Duration};

use async_trait::async_trait;

use crate::{
    arg::{encoded, Input},
    dag::{bind, bind_registration},
    registry::TaskRegistration,
    task::{fallible, signature_hash, Invocation, Task, TaskOptions},
    wait::EventSource,
    Dag, Result, TaskValue,
};

/// A source of events that a workflow waits for with [`wait_for_event`](crate::wait_for_event).
///
/// The listener is a serde value stored with the DAG: a workflow resumed in a new process
/// decodes it and calls [`poll_for_event`](EventListener::poll_for_event) again. Put
/// `#[event_listener]` on the `impl`: it applies `async_trait` and registers the type under a
/// durable name (module path and type name; `#[event_listener(name = "...")]` sets one), so
/// that a process which never built the DAG can resume it.
///
/// A wait is two steps: `poll_for_event` (task id `poll_for_event`), whose output, the event,
/// is checkpointed exactly once, then `event_checkpointed` (task id `event`), which runs after
/// that checkpoint and before any dependent, at least once: again after a crash between the
/// two, but never with a second poll. Both retry an `Err` up to 3 times, waiting 100 ms, then
/// 200 ms, then 400 ms.
///
/// # Examples
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use workflow::prelude::*;
///
/// #[derive(Serialize, Deserialize)]
/// struct Doorbell { door: String }
///
/// #[event_listener]
/// impl EventListener for Doorbell {
///     type Event = String;
///
///     async fn poll_for_event(&self) -> workflow::Result<String> {
///         Ok(format!("someone at the {}", self.door))
///     }
///
///     async fn event_checkpointed(&self, _event: &String) -> workflow::Result<()> {
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> workflow::Result<()> {
/// let engine = Engine::temporary().await?;
/// let ring = workflow::wait_for_event(Doorbell { door: "front".into() });
/// assert_eq!(engine.run("door", ring).await?, "someone at the front");
/// # Ok(())
/// # }
/// ```
#[async_trait]
pub trait EventListener: TaskValue {
    /// The value an event carries.
    type Event: TaskValue;

    /// Waits for the next event. Called once per wait (again only if the process stopped
    /// before the event was checkpointed): an async wait, not a poll in a loop.
    async fn poll_for_event(&self) -> Result<Self::Event>;

    /// Called once `event` is checkpointed, before anything that depends on it starts, so the
    /// listener can acknowledge its source. Called again if the process stopped before it
    /// returned. Does nothing by default.
    async fn event_checkpointed(&self, event: &Self::Event) -> Result<()> {
        let _ = event;
        Ok(())
    }
}

/// The durable names of a listener type, given by `#[event_listener]`.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not registered as an event listener",
    note = "put `#[event_listener]` on its `impl EventListener for {Self}`"
)]
pub trait RegisteredListener: EventListener {
    /// The step that polls: the listener's durable name and `::poll_for_event`.
    const POLL_TASK: &'static str;
    /// The step that acknowledges: the listener's durable name and `::event_checkpointed`.
    const ACK_TASK: &'static str;
}

impl<L: RegisteredListener> EventSource for L {
    type Event = L::Event;

    fn into_dag(self) -> Dag<L::Event> {
        let listener = encoded(&self);
        let poll: Dag<L::Event> =
            bind_registration(poll_registration::<L>(), vec![listener.clone()]);
        bind::<Acknowledge<L>>(vec![listener, Input::Node(poll.into_node())])
    }
}

/// The options of both steps of a wait: errors are retried, with a backoff.
const OPTIONS: TaskOptions = TaskOptions {
    retry_errors: true,
    retry_backoff: Some(Duration::from_millis(100)),
    ..TaskOptions::DEFAULT
};

/// The step that waits for an event of `L`.
#[doc(hidden)]
pub struct Poll<L>(PhantomData<fn() -> L>);

impl<L: RegisteredListener> Task for Poll<L> {
    type Args = (L,);
    type Output = L::Event;
    const NAME: &'static str = L::POLL_TASK;
    const FUNCTION: &'static str = "poll_for_event";
    const VERSION: u32 = 1;
    const SIGNATURE: u64 = signature_hash("fn(listener) -> event");
    const OPTIONS: TaskOptions = OPTIONS;

    fn invoke((listener,): (L,)) -> Invocation<L::Event> {
        Invocation::Async(Box::pin(async move {
            fallible(listener.poll_for_event().await)
        }))
    }
}

/// The step that tells `L` its event is checkpointed, and passes the event on.
#[doc(hidden)]
pub struct Acknowledge<L>(PhantomData<fn() -> L>);

impl<L: RegisteredListener> Task for Acknowledge<L> {
    type Args = (L, L::Event);
    type Output = L::Event;
    const NAME: &'static str = L::ACK_TASK;
    const FUNCTION: &'static str = "event";
    const VERSION: u32 = 1;
    const SIGNATURE: u64 = signature_hash("fn(listener, event) -> event");
    const OPTIONS: TaskOptions = OPTIONS;

    fn invoke((listener, event): (L, L::Event)) -> Invocation<L::Event> {
        Invocation::Async(Box::pin(async move {
            fallible(listener.event_checkpointed(&event).await.map(|()| event))
        }))
    }
}

/// The registration of the polling step of `L`, submitted by `#[event_listener]`.
#[doc(hidden)]
pub const fn poll_registration<L: RegisteredListener>() -> TaskRegistration {
    TaskRegistration::of::<Poll<L>>().waiting().local()
}

/// The registration of the acknowledging step of `L`, submitted by `#[event_listener]`.
#[doc(hidden)]
pub const fn ack_registration<L: RegisteredListener>() -> TaskRegistration {
    TaskRegistration::of::<Acknowledge<L>>().local()
}
