//! Objects: values passed by reference, checkpointed once and read from a shared cache.

mod cache;
mod chunks;
mod collect;
mod object_ref;
mod remote;
mod space;

pub(crate) use collect::collect_refs;
pub(crate) use object_ref::ObjectId;
pub use object_ref::ObjectRef;
pub use remote::remote;
pub(crate) use space::{ErasedObject, ObjectSpace, StagedObjects};

use crate::{context::try_context, Error, TaskValue};

/// Makes `value` an object inside a task and returns a reference to it at once.
///
/// The object is checkpointed with the output of the task that returns the reference (never
/// after it), and read by any number of tasks from a shared cache.
///
/// # Panics
///
/// Panics outside a task; use [`Engine::put`](crate::Engine::put) there.
///
/// # Examples
///
/// ```
/// use workflow::prelude::*;
///
/// #[task]
/// fn big() -> ObjectRef<Vec<u64>> {
///     workflow::put((0..1_000).collect())
/// }
///
/// #[task]
/// async fn total(data: ObjectRef<Vec<u64>>) -> workflow::Result<u64> {
///     Ok(data.get().await?.iter().sum())
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> workflow::Result<()> {
/// let engine = Engine::temporary().await?;
/// assert_eq!(engine.run("sum", total::bind(big::bind())).await?, 499_500);
/// # Ok(())
/// # }
/// ```
pub fn put<T: TaskValue>(value: T) -> ObjectRef<T> {
    let context =
        try_context().expect("workflow::put() was called outside a task; use Engine::put");
    let id = ObjectId::new();
    context.objects.stage_ready(id, space::erase(value));
    context
        .staged
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(id);
    ObjectRef::from_id(id)
}

pub(crate) fn not_found(id: ObjectId) -> Error {
    Error::NotFound {
        what: "object",
        id: id.to_string(),
    }
}
