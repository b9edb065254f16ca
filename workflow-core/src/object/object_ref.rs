//! `ObjectRef<T>`: a small, serializable handle to an object.

use std::{
    marker::PhantomData,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::collect;
use crate::{context::try_context, Error, Result, TaskValue};

/// The id of an object: 16 bytes, unique per object.
#[doc(hidden)]
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ObjectId(pub(crate) [u8; 16]);

impl ObjectId {
    /// A new id, unique across processes: the hash of the process, the time and a counter.
    pub(crate) fn new() -> ObjectId {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let mut seed = [0u8; 28];
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        seed[..8].copy_from_slice(&nanos.to_le_bytes());
        seed[8..16].copy_from_slice(&COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
        seed[16..20].copy_from_slice(&std::process::id().to_le_bytes());
        seed[20..28].copy_from_slice(&(&COUNTER as *const AtomicU64 as u64).to_le_bytes());
        ObjectId(xxhash_rust::xxh3::xxh3_128(&seed).to_le_bytes())
    }
}

impl std::fmt::Display for ObjectId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ObjectId({self})")
    }
}

/// A reference to an object of type `T`: a large value stored once and shared by reference.
///
/// Made by [`workflow::put`](crate::put) and `task::remote(..)` inside a task, or
/// [`Engine::put`](crate::Engine::put) outside. It is a 16-byte handle: tasks take and return it
/// like any value, nested anywhere in their outputs, and every reference in a checkpointed
/// output was checkpointed before that output. Passed as an argument of type `T`, it is
/// resolved to the value.
///
/// # Examples
///
/// ```
/// use workflow::prelude::*;
///
/// #[task]
/// fn hello() -> String {
///     "hello".to_string()
/// }
///
/// #[task]
/// fn words() -> Vec<ObjectRef<String>> {
///     vec![hello::remote(), workflow::put("world".to_string())]
/// }
///
/// #[task]
/// async fn concat(words: Vec<ObjectRef<String>>) -> workflow::Result<String> {
///     let mut parts = Vec::new();
///     for w in &words {
///         parts.push(w.get().await?.to_string());
///     }
///     Ok(parts.join(" "))
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> workflow::Result<()> {
/// let engine = Engine::temporary().await?;
/// assert_eq!(engine.run("objects", concat::bind(words::bind())).await?, "hello world");
/// # Ok(())
/// # }
/// ```
pub struct ObjectRef<T> {
    id: ObjectId,
    _value: PhantomData<fn() -> T>,
}

impl<T> ObjectRef<T> {
    pub(crate) fn from_id(id: ObjectId) -> Self {
        ObjectRef {
            id,
            _value: PhantomData,
        }
    }

    pub(crate) fn id(&self) -> ObjectId {
        self.id
    }
}

impl<T: TaskValue> ObjectRef<T> {
    /// The object's value, from the shared cache or else the store.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if the object is not stored, [`Error::Corrupt`] if its record
    /// cannot be read, [`Error::Codec`] if it is not a `T`.
    ///
    /// # Panics
    ///
    /// Panics outside a task; use [`Engine::get`](crate::Engine::get) there.
    pub async fn get(&self) -> Result<Arc<T>> {
        let context =
            try_context().expect("ObjectRef::get() was called outside a task; use Engine::get");
        context.objects.get(self.id).await
    }
}

impl<T> Clone for ObjectRef<T> {
    fn clone(&self) -> Self {
        ObjectRef::from_id(self.id)
    }
}

impl<T> PartialEq for ObjectRef<T> {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl<T> Eq for ObjectRef<T> {}

impl<T> std::hash::Hash for ObjectRef<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

impl<T> std::fmt::Debug for ObjectRef<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ObjectRef({})", self.id)
    }
}

impl<T> Serialize for ObjectRef<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        collect::note(self.id);
        self.id.serialize(serializer)
    }
}

impl<'de, T> Deserialize<'de> for ObjectRef<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        ObjectId::deserialize(deserializer).map(ObjectRef::from_id)
    }
}

pub(crate) fn wrong_type(id: ObjectId, stored: &str, wanted: &str) -> Error {
    Error::Codec {
        message: format!("object {id} holds a `{stored}`, read as `{wanted}`"),
    }
}
