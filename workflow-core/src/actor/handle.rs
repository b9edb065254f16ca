//! Handles to actors and their calls, as `#[virtual_actor]`'s generated handles use them.

use std::{marker::PhantomData, sync::Arc};

use super::method::{method_registration, ActorMethod, VirtualActor};
use crate::{
    arg::{encoded, Input},
    registry::TaskRegistration,
    value::encode_value,
    Engine, Result, TaskValue, WorkflowHandle,
};

/// A handle to one actor: its engine and id. The handle `#[virtual_actor]` generates wraps it.
#[doc(hidden)]
#[derive(Clone)]
pub struct ActorHandle {
    engine: Engine,
    id: Arc<str>,
}

impl std::fmt::Debug for ActorHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActorHandle").field("id", &self.id).finish()
    }
}

impl ActorHandle {
    /// The actor's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// A call of method `M` with `args`, not started yet.
    pub fn call<M: ActorMethod>(&self, args: M::Args) -> ActorCall<M::Output> {
        ActorCall {
            handle: self.clone(),
            method: method_registration::<M>(),
            writes: M::WRITES,
            args: encoded(&args),
            _output: PhantomData,
        }
    }
}

/// Opens actor `id` of type `A`, creating it with `new` if it does not exist yet.
#[doc(hidden)]
pub async fn get_or_create<A: VirtualActor>(
    engine: &Engine,
    id: &str,
    new: impl FnOnce() -> A + Send,
) -> Result<ActorHandle> {
    let create = move || encode_value(&new());
    engine
        .shared()
        .open_actor(id, A::NAME, Some(create))
        .await?;
    Ok(ActorHandle {
        engine: engine.clone(),
        id: id.into(),
    })
}

/// Opens the existing actor `id` of type `A`.
#[doc(hidden)]
pub async fn get_actor<A: VirtualActor>(engine: &Engine, id: &str) -> Result<ActorHandle> {
    engine
        .shared()
        .open_actor(id, A::NAME, None::<fn() -> Result<Vec<u8>>>)
        .await?;
    Ok(ActorHandle {
        engine: engine.clone(),
        id: id.into(),
    })
}

/// A call of an actor's method, not started yet: `.run().await` runs it and returns its
/// output, `.spawn().await` queues it durably and returns its [`WorkflowHandle`].
///
/// A call is a workflow of its own, with id `{actor_id}@{n}`. Writer calls (`&mut self`)
/// of one actor run one at a time in the order they were queued, and the new state is
/// committed with the call's output; read-only calls (`&self`) run at once on the last
/// committed state.
///
/// # Examples
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use workflow::prelude::*;
///
/// #[derive(Serialize, Deserialize)]
/// struct Counter { count: u64 }
///
/// #[virtual_actor]
/// impl Counter {
///     fn new() -> Self { Counter { count: 0 } }
///     fn incr(&mut self) -> u64 { self.count += 1; self.count }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> workflow::Result<()> {
/// let engine = Engine::temporary().await?;
/// let counter = Counter::get_or_create(&engine, "visits").await?;
/// let call: ActorCall<u64> = counter.incr();
/// assert_eq!(call.run().await?, 1);
/// let queued = counter.incr().spawn().await?;
/// assert_eq!(queued.id(), "visits@1");
/// assert_eq!(queued.output().await?, 2);
/// # Ok(())
/// # }
/// ```
#[must_use = "a call does nothing until `.run().await` or `.spawn().await`"]
pub struct ActorCall<T> {
    handle: ActorHandle,
    method: TaskRegistration,
    writes: bool,
    args: Input,
    _output: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for ActorCall<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActorCall")
            .field("actor", &self.handle.id)
            .field("method", &self.method.name)
            .finish_non_exhaustive()
    }
}

impl<T: TaskValue> ActorCall<T> {
    /// Runs the call and returns its output.
    ///
    /// # Errors
    ///
    /// [`Error::TaskFailed`](crate::Error::TaskFailed) if the method failed (the state is
    /// then as it was before the call), and the errors of [`spawn`](ActorCall::spawn).
    pub async fn run(self) -> Result<T> {
        self.spawn().await?.output().await
    }

    /// Queues the call durably and returns its handle: its place in the actor's order is
    /// fixed when this returns.
    ///
    /// # Errors
    ///
    /// [`Error::Codec`](crate::Error::Codec) if an argument cannot be encoded, and storage
    /// errors.
    pub async fn spawn(self) -> Result<WorkflowHandle<T>> {
        let args = self.args;
        let engine = self.handle.engine;
        let id = engine
            .shared()
            .spawn_call(&self.handle.id, self.method, self.writes, args)
            .await?;
        Ok(WorkflowHandle::new(engine, id))
    }
}
