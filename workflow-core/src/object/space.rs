//! The engine's objects: staged by running tasks, written before the checkpoints that refer
//! to them, read through a shared cache.

use std::{
    any::Any,
    collections::HashMap,
    sync::{Arc, Mutex},
};

use tokio::sync::{mpsc, watch};
use workflow_storage::{Batch, KeyBuilder, Storage};

use super::{
    cache::{Cache, Cached},
    chunks::{ChunkReader, ChunkWriter},
    collect_refs, not_found,
    object_ref::wrong_type,
    ObjectId,
};
use crate::{
    committer::Committer,
    records::{
        decode, encode, ObjectHead, OBJECTS, OBJECT_CHUNKS, OBJECT_OWNERS, WORKFLOW_OBJECTS,
    },
    task_error::FailureKind,
    value::{decode_value, fingerprint, short_type_name},
    Error, Result, TaskError, TaskValue,
};

/// Objects are stored in chunks of this size.
pub(crate) const CHUNK: usize = 1 << 20;
/// Chunks written per commit while a large object is stored.
const CHUNKS_PER_COMMIT: usize = 16;

/// A value of some object type, with what it takes to store it.
pub(crate) trait ErasedObject: Send + Sync + 'static {
    fn value(&self) -> Arc<dyn Any + Send + Sync>;
    fn encode_into(&self, out: &mut dyn std::io::Write) -> Result<()>;
    fn fingerprint(&self) -> u64;
    fn type_name(&self) -> String;
}

struct Typed<T>(Arc<T>);

impl<T: TaskValue> ErasedObject for Typed<T> {
    fn value(&self) -> Arc<dyn Any + Send + Sync> {
        self.0.clone()
    }

    fn encode_into(&self, out: &mut dyn std::io::Write) -> Result<()> {
        postcard::to_io(&*self.0, out)
            .map(|_| ())
            .map_err(|e| Error::Codec {
                message: format!(
                    "cannot encode an object of type `{}`: {e}",
                    short_type_name::<T>()
                ),
            })
    }

    fn fingerprint(&self) -> u64 {
        fingerprint::<T>()
    }

    fn type_name(&self) -> String {
        short_type_name::<T>()
    }
}

pub(crate) fn erase<T: TaskValue>(value: T) -> Arc<dyn ErasedObject> {
    Arc::new(Typed(Arc::new(value)))
}

/// What a `remote` task produced: its output, or its failure.
pub(crate) type Outcome = std::result::Result<Arc<dyn ErasedObject>, TaskError>;

/// An object made in this process and not stored yet.
enum Pending {
    Ready(Arc<dyn ErasedObject>),
    /// Computed by a task started with `remote`.
    Running(watch::Receiver<Option<Outcome>>),
}

/// The objects staged by one task attempt.
pub(crate) type StagedObjects = Arc<Mutex<Vec<ObjectId>>>;

/// The objects of one engine.
pub(crate) struct ObjectSpace {
    store: Arc<dyn Storage>,
    committer: Committer,
    pending: Mutex<HashMap<ObjectId, Pending>>,
    cache: Mutex<Cache>,
    /// Held while a deletion decides which objects are still referred to.
    ownership: tokio::sync::Mutex<()>,
}

impl ObjectSpace {
    pub(crate) fn new(store: Arc<dyn Storage>, committer: Committer, cache_bytes: u64) -> Self {
        ObjectSpace {
            store,
            committer,
            pending: Mutex::default(),
            cache: Mutex::new(Cache::new(cache_bytes)),
            ownership: tokio::sync::Mutex::new(()),
        }
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<ObjectId, Pending>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stages a value made by `workflow::put`.
    pub(crate) fn stage_ready(&self, id: ObjectId, object: Arc<dyn ErasedObject>) {
        self.pending().insert(id, Pending::Ready(object));
    }

    /// Stages an object that a `remote` task is computing.
    pub(crate) fn stage_running(&self, id: ObjectId) -> watch::Sender<Option<Outcome>> {
        let (sender, receiver) = watch::channel(None);
        self.pending().insert(id, Pending::Running(receiver));
        sender
    }

    /// Forgets staged objects that no checkpoint referred to.
    pub(crate) fn discard(&self, ids: &[ObjectId]) {
        let mut pending = self.pending();
        for id in ids {
            pending.remove(id);
        }
    }

    /// A staged object, once computed.
    async fn staged(&self, id: ObjectId) -> Option<Result<Arc<dyn ErasedObject>>> {
        let mut receiver = match self.pending().get(&id)? {
            Pending::Ready(object) => return Some(Ok(object.clone())),
            Pending::Running(receiver) => receiver.clone(),
        };
        let outcome = receiver
            .wait_for(Option::is_some)
            .await
            .ok()
            .and_then(|o| o.clone());
        Some(match outcome {
            Some(Ok(object)) => Ok(object),
            Some(Err(error)) => Err(remote_failed(id, error)),
            None => Err(remote_failed(
                id,
                TaskError::new(FailureKind::Lost, "it stopped without an output", 1),
            )),
        })
    }

    /// Object `id` from the cache or the staged objects, without reading the store.
    async fn in_memory(&self, id: ObjectId) -> Option<Result<Arc<dyn ErasedObject>>> {
        let cached = self.cache().get(id);
        match cached {
            Some(cached) => Some(Ok(cached.object)),
            None => self.staged(id).await,
        }
    }

    /// The value of object `id` as a `T`.
    pub(crate) async fn get<T: TaskValue>(&self, id: ObjectId) -> Result<Arc<T>> {
        let object = match self.in_memory(id).await {
            Some(object) => object?,
            None => self.load::<T>(id).await?,
        };
        object
            .value()
            .downcast::<T>()
            .map_err(|_| wrong_type(id, &object.type_name(), &short_type_name::<T>()))
    }

    /// Appends the encoding of object `id` to `out`; it must be of the type whose fingerprint
    /// is `expected`.
    pub(crate) async fn encoded(
        &self,
        id: ObjectId,
        expected: u64,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        if let Some(object) = self.in_memory(id).await {
            let object = object?;
            if object.fingerprint() != expected {
                return Err(wrong_type(id, &object.type_name(), "the argument's type"));
            }
            return object.encode_into(out);
        }
        let head = self.head(id).await?;
        if head.fingerprint != expected {
            return Err(wrong_type(id, &head.type_name, "the argument's type"));
        }
        self.read_chunks(id, &head, out).await
    }

    async fn head(&self, id: ObjectId) -> Result<ObjectHead> {
        let bytes = self
            .store
            .get(OBJECTS, &id.0)
            .await?
            .ok_or_else(|| not_found(id))?;
        decode(OBJECTS, &id.0, &bytes)
    }

    /// Appends the chunks of object `id` to `out`, one chunk read at a time.
    async fn read_chunks(&self, id: ObjectId, head: &ObjectHead, out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        out.reserve(head.len as usize);
        for index in 0..head.chunks {
            let chunk = self
                .store
                .get(OBJECT_CHUNKS, &chunk_key(id, index))
                .await?
                .ok_or_else(|| corrupt_object(id, &format!("chunk {index} is missing")))?;
            out.extend_from_slice(&chunk);
        }
        let read = (out.len() - start) as u64;
        if read != head.len {
            return Err(corrupt_object(
                id,
                &format!(
                    "{read} bytes stored in {} chunks, {} expected",
                    head.chunks, head.len
                ),
            ));
        }
        Ok(())
    }

    /// Reads object `id` from the store, decodes it as a `T` and caches it.
    async fn load<T: TaskValue>(&self, id: ObjectId) -> Result<Arc<dyn ErasedObject>> {
        let head = self.head(id).await?;
        if head.fingerprint != fingerprint::<T>() {
            return Err(wrong_type(id, &head.type_name, &short_type_name::<T>()));
        }
        let value: T = if head.chunks <= 1 {
            let mut bytes = Vec::new();
            self.read_chunks(id, &head, &mut bytes).await?;
            decode_value(&bytes, &format!("object {id}"))?
        } else {
            self.decode_streaming(id, &head).await?
        };
        let object = erase(value);
        self.cache().insert(
            id,
            Cached {
                object: object.clone(),
                size: head.len,
            },
        );
        Ok(object)
    }

    /// Decodes a large object while its chunks are read, so that its encoding is never held
    /// whole beside its value.
    async fn decode_streaming<T: TaskValue>(&self, id: ObjectId, head: &ObjectHead) -> Result<T> {
        let (sender, receiver) = mpsc::channel::<Result<Vec<u8>>>(4);
        let store = self.store.clone();
        let chunks = head.chunks;
        let reader_task = tokio::spawn(async move {
            for index in 0..chunks {
                let chunk = store
                    .get(OBJECT_CHUNKS, &chunk_key(id, index))
                    .await
                    .map_err(Error::from)
                    .and_then(|c| {
                        c.ok_or_else(|| corrupt_object(id, &format!("chunk {index} is missing")))
                    });
                let failed = chunk.is_err();
                if sender.send(chunk).await.is_err() || failed {
                    return;
                }
            }
        });
        let len = head.len;
        let decoded = tokio::task::spawn_blocking(move || {
            let mut reader = ChunkReader {
                receiver,
                chunk: Vec::new(),
                at: 0,
                read: 0,
                error: None,
            };
            // Room for the largest string or byte field; pages never written stay unmapped.
            let mut scratch = vec![0u8; len as usize];
            let decoded =
                postcard::from_io::<T, _>((&mut reader, &mut scratch[..])).map(|(value, _)| value);
            if let Some(error) = reader.error.take() {
                return Err(error);
            }
            match decoded {
                Ok(value) if reader.read == len => Ok(value),
                Ok(_) => Err(corrupt_object(
                    id,
                    &format!("{} of {len} bytes decoded", reader.read),
                )),
                Err(e) => Err(Error::Codec {
                    message: format!(
                        "object {id}: cannot decode a `{}`: {e}",
                        short_type_name::<T>()
                    ),
                }),
            }
        })
        .await
        .map_err(|e| Error::Codec {
            message: format!("decoding object {id} panicked: {e}"),
        })?;
        reader_task.abort();
        decoded
    }

    /// Stores the staged objects among `refs`, and those they refer to: large ones now, in
    /// chunks; small ones (and every object's head) into the returned batch, which must be
    /// committed with, or before, the checkpoint that refers to them. An object that refers to
    /// others is recorded as their owner, so that deleting one workflow keeps what another
    /// still reaches.
    pub(crate) async fn persist(&self, refs: &[ObjectId]) -> Result<Batch> {
        let mut batch = Batch::new();
        let mut work: Vec<ObjectId> = refs.to_vec();
        while let Some(id) = work.pop() {
            let Some(object) = self.staged(id).await else {
                continue; // stored already
            };
            let object = object?;
            let (len, chunks, nested) = self.write_chunks(id, object.clone(), &mut batch).await?;
            let head = ObjectHead {
                fingerprint: object.fingerprint(),
                type_name: object.type_name(),
                len,
                chunks,
            };
            batch.put(OBJECTS, id.0.to_vec(), encode(&head)?);
            ObjectSpace::own(&mut batch, &object_owner(id), &nested);
            self.cache().insert(id, Cached { object, size: len });
            self.pending().remove(&id);
            work.extend(nested);
        }
        Ok(batch)
    }

    /// Encodes `object` into chunks on the blocking pool; all but the last few are committed
    /// as they come, the rest go into `batch`. Returns its length, its chunk count and the
    /// objects it refers to. If it fails, the chunks already written are removed.
    async fn write_chunks(
        &self,
        id: ObjectId,
        object: Arc<dyn ErasedObject>,
        batch: &mut Batch,
    ) -> Result<(u64, u32, Vec<ObjectId>)> {
        let (sender, mut receiver) = mpsc::channel::<Vec<u8>>(CHUNKS_PER_COMMIT);
        let encoder = tokio::task::spawn_blocking(move || {
            let mut writer = ChunkWriter {
                buffer: Vec::with_capacity(CHUNK),
                sender,
                len: 0,
            };
            let (encoded, nested) = collect_refs(|| object.encode_into(&mut writer));
            encoded?;
            Ok::<_, Error>((writer.finish()?, nested))
        });
        let mut index = 0u32;
        let mut group = Batch::new();
        let mut written = Ok(());
        while let Some(chunk) = receiver.recv().await {
            group.put(OBJECT_CHUNKS, chunk_key(id, index), chunk);
            index += 1;
            if group.len() == CHUNKS_PER_COMMIT && written.is_ok() {
                written = self
                    .committer
                    .commit(std::mem::take(&mut group))
                    .await
                    .map_err(Error::from_storage);
            }
        }
        let encoded = encoder
            .await
            .map_err(|e| Error::Codec {
                message: format!("encoding object {id} panicked: {e}"),
            })
            .and_then(|encoded| encoded);
        match (written, encoded) {
            (Ok(()), Ok((len, nested))) => {
                batch.append(group);
                Ok((len, index, nested))
            }
            (Err(error), _) | (_, Err(error)) => {
                let mut cleanup = Batch::new();
                for chunk in 0..index {
                    cleanup.delete(OBJECT_CHUNKS, chunk_key(id, chunk));
                }
                let _ = self.committer.commit(cleanup).await;
                Err(error)
            }
        }
    }

    /// Stores `value` as a new object now (outside any task).
    pub(crate) async fn put_now<T: TaskValue>(&self, value: T) -> Result<ObjectId> {
        let id = ObjectId::new();
        self.stage_ready(id, erase(value));
        let result = async {
            let batch = self.persist(&[id]).await?;
            self.committer
                .commit(batch)
                .await
                .map_err(Error::from_storage)
        }
        .await;
        self.discard(&[id]);
        result.map(|()| id)
    }

    /// Records that `owner` (a workflow id, or an object's [`object_owner`] name) refers to
    /// `refs`.
    pub(crate) fn own(batch: &mut Batch, owner: &str, refs: &[ObjectId]) {
        for id in refs {
            batch.put(
                WORKFLOW_OBJECTS,
                KeyBuilder::new().str(owner).bytes(&id.0).build(),
                Vec::new(),
            );
            batch.put(
                OBJECT_OWNERS,
                KeyBuilder::new().bytes(&id.0).str(owner).build(),
                Vec::new(),
            );
        }
    }

    /// Removes `workflow`'s references, and every object that nothing refers to any more
    /// (with the references those objects held), then commits. Deletions are serialized so
    /// that two of them never both keep, or both miss, an object they share.
    pub(crate) async fn disown_all(&self, workflow: &str, mut batch: Batch) -> Result<()> {
        let _serial = self.ownership.lock().await;
        let mut removed_edges: std::collections::HashSet<Vec<u8>> = Default::default();
        let mut owners_to_clear = vec![workflow.to_string()];
        while let Some(owner) = owners_to_clear.pop() {
            let prefix = KeyBuilder::new().str(&owner).build();
            for (key, _) in self.store.scan_prefix(WORKFLOW_OBJECTS, &prefix).await? {
                let Some(raw) = key
                    .get(prefix.len()..)
                    .and_then(|b| <[u8; 16]>::try_from(b).ok())
                else {
                    continue;
                };
                let id = ObjectId(raw);
                batch.delete(WORKFLOW_OBJECTS, key);
                let own_key = KeyBuilder::new().bytes(&id.0).str(&owner).build();
                removed_edges.insert(own_key.clone());
                batch.delete(OBJECT_OWNERS, own_key);
                let owners = self.store.scan_prefix(OBJECT_OWNERS, &id.0).await?;
                if owners.iter().all(|(edge, _)| removed_edges.contains(edge)) {
                    for (chunk, _) in self.store.scan_prefix(OBJECT_CHUNKS, &id.0).await? {
                        batch.delete(OBJECT_CHUNKS, chunk);
                    }
                    batch.delete(OBJECTS, id.0.to_vec());
                    self.cache().remove(id);
                    owners_to_clear.push(object_owner(id));
                }
            }
        }
        self.committer
            .commit(batch)
            .await
            .map_err(Error::from_storage)
    }
}

/// The owner name under which an object's references to other objects are recorded; `#` is
/// never part of a workflow id.
fn object_owner(id: ObjectId) -> String {
    format!("#{id}")
}

fn chunk_key(id: ObjectId, index: u32) -> Vec<u8> {
    KeyBuilder::with_capacity(20)
        .bytes(&id.0)
        .u32(index)
        .build()
}

/// The failure of the `remote` task that was to compute object `id`.
fn remote_failed(id: ObjectId, error: TaskError) -> Error {
    Error::TaskFailed {
        workflow_id: String::new(),
        task_id: format!("remote task of object {id}"),
        error,
    }
}

fn corrupt_object(id: ObjectId, reason: &str) -> Error {
    Error::Corrupt {
        keyspace: OBJECT_CHUNKS.name(),
        key: id.to_string(),
        reason: reason.to_string(),
    }
}
