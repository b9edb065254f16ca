//! Handles to actors and their calls, as `#[virtual_actor]`'s generated handles use them.

use std::{marker::PhantomData, sync::Arc};

use super::{
    call_step::call_step,
    method::{method_registration, ActorMethod, VirtualActor},
};
use crate::{
    arg::Input, registry::TaskRegistration, value::encode_value, Dag, Engine, Error, Result,
    TaskValue, WorkflowHandle,
};

/// A handle to one actor: its id, and the engine its calls run on (none for a handle that
/// only builds steps of workflows). The handle `#[virtual_actor]` generates wraps it.
#[doc(hidden)]
#[derive(Clone)]
pub struct ActorHandle {
    engine: Option<Engine>,
    id: Arc<str>,
}

impl std::fmt::Debug for ActorHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActorHandle").field("id", &self.id).finish()
    }
}

impl ActorHandle {
    /// A handle to actor `id` that builds steps of workflows (`.bind()`), for a method or a
    /// task that calls an actor in the DAG it returns.
    pub fn unbound(id: &str) -> ActorHandle {
        ActorHandle {
            engine: None,
            id: id.into(),
        }
    }

    /// The actor's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// A call of method `M` with one input per argument, not started yet.
    pub fn call<M: ActorMethod>(&self, args: Vec<Input>) -> ActorCall<M::Output> {
        ActorCall {
            handle: self.clone(),
            method: method_registration::<M>(),
            writes: M::WRITES,
            args,
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
        engine: Some(engine.clone()),
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
        engine: Some(engine.clone()),
        id: id.into(),
    })
}

/// A call of an actor's method, not started yet: `.run().await` runs it and returns its
/// output, `.spawn().await` queues it durably and returns its [`WorkflowHandle`].
///
/// A call is a workflow of its own, with id `{actor_id}@{n}`. Writer calls (`&mut self`)
/// of one actor run one at a time in the order they were queued, and the new state is
/// committed with the call's output (for a method returning a `Flow`, when the whole flow
/// succeeds); a call that fails leaves the state as it was. Read-only calls (`&self`) run at
/// once on the last committed state.
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
    args: Vec<Input>,
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

    /// The call as a step of a workflow, whose output is the call's output: the call is
    /// queued when the step runs, once (a retried or resumed step waits for the call it
    /// queued), in the actor's order of arrival.
    ///
    /// # Examples
    ///
    /// ```
    /// use serde::{Deserialize, Serialize};
    /// use workflow::prelude::*;
    ///
    /// #[derive(Serialize, Deserialize)]
    /// struct Account { balance: u64 }
    ///
    /// #[virtual_actor]
    /// impl Account {
    ///     fn new(balance: u64) -> Self { Account { balance } }
    ///     fn deposit(&mut self, amount: u64) -> u64 { self.balance += amount; self.balance }
    ///     /// Takes `amount` from this account and pays it into account `to`.
    ///     fn transfer(&mut self, to: String, amount: u64) -> Result<Flow<u64>, String> {
    ///         if self.balance < amount {
    ///             return Err(format!("only {} left", self.balance));
    ///         }
    ///         self.balance -= amount;
    ///         Ok(workflow::continuation(Account::actor(&to).deposit(amount).bind()))
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// let engine = Engine::temporary().await?;
    /// let alice = Account::get_or_create(&engine, "alice", 100).await?;
    /// let bob = Account::get_or_create(&engine, "bob", 0).await?;
    /// assert_eq!(alice.transfer("bob", 30).run().await?, 30);
    /// assert_eq!(bob.deposit(0).run().await?, 30);
    /// # Ok(())
    /// # }
    /// ```
    pub fn bind(self) -> Dag<T> {
        call_step(&self.handle.id, &self.method, self.writes, self.args)
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
        let Some(engine) = self.handle.engine else {
            return Err(Error::Unbound {
                actor: self.handle.id.to_string(),
            });
        };
        let id = engine
            .shared()
            .spawn_call(&self.handle.id, self.method, self.writes, args)
            .await?;
        Ok(WorkflowHandle::new(engine, id))
    }
}
