//! An actor's methods as tasks: each call is a one-step workflow whose step loads the actor's
//! state, runs the method, and stages the new state with its checkpoint.

use std::{future::Future, marker::PhantomData, pin::Pin};

use serde::{de::DeserializeOwned, Serialize};

use crate::{
    context::context,
    registry::TaskRegistration,
    task::{Invocation, Outcome, OutcomeKind, Task, TaskOptions},
    value::{decode_value, encode_value},
    value_type::ValueType,
    TaskValue,
};

/// A type made a virtual actor by `#[virtual_actor]`: its durable name.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a virtual actor",
    note = "put `#[virtual_actor]` on its `impl` block, with a `fn new(..) -> Self` constructor"
)]
pub trait VirtualActor: TaskValue {
    /// The durable name stored with each actor: by default module path and type name.
    const NAME: &'static str;
}

/// One method of a virtual actor, as `#[virtual_actor]` describes it.
#[doc(hidden)]
pub trait ActorMethod: Send + Sync + 'static {
    /// The actor whose method it is.
    type Actor: VirtualActor;
    /// The method's arguments after `self`, as a tuple.
    type Args: Serialize + DeserializeOwned + Send + 'static;
    /// The call's output: `T` for `T`, `Result<T, E>` and `Flow<T>` returns alike.
    type Output: TaskValue;

    /// The durable name: the actor's durable name and the method's name.
    const NAME: &'static str;
    /// The method's name, the task id of the call's step.
    const FUNCTION: &'static str;
    /// A hash of the argument and output types as written in the source.
    const SIGNATURE: u64;
    /// Whether it takes `&mut self`: a writer, run in turn, whose new state is committed.
    const WRITES: bool;

    /// Runs the method on `state` (taken by value and given back, changed or not).
    fn call(state: Self::Actor, args: Self::Args) -> ActorInvocation<Self::Actor, Self::Output>;
}

/// One started call of a method: sync work still to run, or a future; each gives the state
/// back with the outcome.
#[doc(hidden)]
pub enum ActorInvocation<A, T> {
    /// A sync method body.
    Sync(Box<dyn FnOnce() -> (A, Outcome<T>) + Send + 'static>),
    /// An async method body.
    Async(Pin<Box<dyn Future<Output = (A, Outcome<T>)> + Send + 'static>>),
}

/// The task that runs calls of method `M`.
pub(crate) struct MethodTask<M>(PhantomData<fn() -> M>);

impl<M: ActorMethod> Task for MethodTask<M> {
    /// The actor id, the call's number, and the method's own arguments.
    type Args = (String, u64, M::Args);
    type Output = M::Output;
    const NAME: &'static str = M::NAME;
    const FUNCTION: &'static str = M::FUNCTION;
    const VERSION: u32 = 1;
    const SIGNATURE: u64 = M::SIGNATURE;
    const OPTIONS: TaskOptions = TaskOptions::DEFAULT;

    fn invoke((actor_id, call, args): Self::Args) -> Invocation<M::Output> {
        Invocation::Async(Box::pin(async move {
            match run_call::<M>(&actor_id, call, args).await {
                Ok(outcome) => outcome,
                Err(error) => Outcome {
                    kind: OutcomeKind::Failed(error.to_string()),
                },
            }
        }))
    }
}

async fn run_call<M: ActorMethod>(
    actor_id: &str,
    call: u64,
    args: M::Args,
) -> crate::Result<Outcome<M::Output>> {
    let context = context();
    let actors = context.actors.clone();
    // A writer's call starts after the step that waited for its turn.
    let stored = actors.state(actor_id, M::Actor::NAME).await?;
    let state: M::Actor = decode_value(&stored, M::Actor::NAME)?;
    let (state, outcome) = match M::call(state, args) {
        ActorInvocation::Sync(body) => body(),
        ActorInvocation::Async(future) => future.await,
    };
    if M::WRITES {
        match outcome.kind {
            OutcomeKind::Failed(_) => {}
            OutcomeKind::Value(_) => {
                context.stage_write(actors.state_write(actor_id, encode_value(&state)?)?);
            }
            // The state becomes the actor's when the whole call succeeds.
            OutcomeKind::Continue(_) => {
                let pending = actors.pending_write(actor_id, call, encode_value(&state)?)?;
                context.stage_write(pending);
            }
        }
    }
    Ok(outcome)
}

/// The registration of method `M`, submitted by `#[virtual_actor]`.
#[doc(hidden)]
pub const fn method_registration<M: ActorMethod>() -> TaskRegistration {
    TaskRegistration::of::<MethodTask<M>>()
        .local()
        .with_value_types(MethodTypes::<M>::LIST)
        .with_actor_state(
            <M::Actor as VirtualActor>::NAME,
            ValueType::of::<M::Actor>(),
        )
}

/// The value types of method `M`: its actor's state and its output, for JSON.
struct MethodTypes<M>(PhantomData<M>);

impl<M: ActorMethod> MethodTypes<M> {
    const LIST: &'static [ValueType] = &[ValueType::of::<M::Actor>(), ValueType::of::<M::Output>()];
}
