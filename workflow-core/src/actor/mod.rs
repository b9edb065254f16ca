//! Virtual actors: addressable objects whose state is logged to the store, and whose method
//! calls are workflows of their own.

mod call_step;
mod handle;
mod info;
mod method;
pub(crate) mod records;
mod space;
mod turn;

pub use handle::ActorCall;
#[doc(hidden)]
pub use handle::{get_actor, get_or_create, ActorHandle};
pub use info::{ActorDetail, ActorInfo, ActorPage};
#[doc(hidden)]
pub use method::{method_registration, ActorInvocation, ActorMethod, VirtualActor};
pub(crate) use space::ActorSpace;
pub(crate) use turn::turn_step;

/// What an actor step does when the engine closes under it: it waits to be stopped by its
/// workflow's shutdown, which leaves the workflow `Resumable` and gives the attempt back, instead
/// of failing the step (and with it, the workflow) for good.
async fn stopped_by_close() -> crate::registry::ErasedOutcome {
    std::future::pending().await
}
