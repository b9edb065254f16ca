use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use async_trait::async_trait;
use fjall::{KeyspaceCreateOptions, PersistMode};

use crate::batch::{check_limits, last_writes};
use crate::error::render_key;
mod disk;
mod errors;

use disk::allocated_bytes;
use errors::{map_error, map_error_in, panicked_on_open};

use crate::scan::page_bounds;
use crate::{
    Batch, Durability, Expectation, Keyspace, Operation, Order, Result, Storage, StorageError,
};

/// The embedded, persistent store: a [fjall](https://docs.rs/fjall) database in one folder.
///
/// Each [`Keyspace`] is a fjall keyspace, opened on first use. Reads run on the calling
/// task: they are served from memory or the block cache and are short. Commits are
/// serialized by a lock that also covers the check of a batch's
/// [expectations](Batch::expect), so a conditional batch is atomic with respect to every
/// other commit of this store. A [`Durability::Sync`] commit writes and `fsync`s in one
/// hop to Tokio's blocking pool; a [`Durability::Buffered`] commit writes to the operating
/// system on the calling task. Commits and [`close`](Storage::close) therefore need a Tokio
/// runtime.
///
/// The folder is locked while the store is open: a second `open` of it, from this or
/// another process, fails with [`StorageError::Locked`]. The lock is released by
/// [`close`](Storage::close), or when the store is dropped. Dropping waits for fjall's
/// background threads to stop; a `Sync` commit whose caller stopped waiting keeps the
/// database open until that commit finishes.
///
/// # Examples
///
/// ```
/// use workflow_storage::{Batch, Durability, FjallStore, Keyspace, Storage};
///
/// const RUNS: Keyspace = Keyspace::new("runs");
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> workflow_storage::Result<()> {
/// let folder = tempfile::tempdir().unwrap();
/// let store = FjallStore::open(folder.path().join("store"))?;
///
/// let mut batch = Batch::new();
/// batch.put(RUNS, "run-1", "pending");
/// store.commit(batch, Durability::Sync).await?;
/// assert_eq!(store.get(RUNS, b"run-1").await?, Some(b"pending".to_vec()));
///
/// store.close().await?;
/// # Ok(())
/// # }
/// ```
pub struct FjallStore {
    // Shared with blocking-pool jobs, which must own what they touch.
    shared: Arc<Shared>,
}

struct Shared {
    path: PathBuf,
    /// `None` once closed. Every operation holds it for reading while it uses the database,
    /// so `close` (which takes it for writing) waits for them before releasing the folder.
    state: RwLock<Option<Open>>,
    /// Serializes commits: expectations are checked and the batch written under it.
    commit_lock: Mutex<()>,
}

/// How much a keyspace buffers in memory before flushing to a table: small, so that a long
/// workflow's records do not pile up in memory across the engine's keyspaces.
const MEMTABLE_BYTES: u64 = 16 << 20;

struct Open {
    db: fjall::Database,
    /// The store's folder, for error messages.
    path: PathBuf,
    /// Opened keyspaces, by name. fjall's own lookup takes a global write lock, so the
    /// handles are cached here.
    handles: RwLock<HashMap<&'static str, fjall::Keyspace>>,
}

impl FjallStore {
    /// Opens the store in the folder `path`, creating the folder and the store if needed.
    ///
    /// # Errors
    ///
    /// - [`StorageError::Locked`] if the store is open elsewhere (another process, or
    ///   another `FjallStore` of this process);
    /// - [`StorageError::Io`] if `path` exists but is not a folder, or cannot be created
    ///   or read;
    /// - [`StorageError::Damaged`] if a journal file holds a damaged write before its end
    ///   (a write cut short at the end is dropped instead, as a crash before it);
    /// - [`StorageError::Backend`] if the folder holds no valid store, for example one
    ///   written by an incompatible fjall version.
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow_storage::{FjallStore, StorageError};
    ///
    /// let folder = tempfile::tempdir().unwrap();
    /// let store = FjallStore::open(folder.path())?;
    /// // The folder is locked while `store` is alive.
    /// assert!(matches!(FjallStore::open(folder.path()), Err(StorageError::Locked { .. })));
    /// drop(store);
    /// assert!(FjallStore::open(folder.path()).is_ok());
    /// # Ok::<(), StorageError>(())
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let io_error = |source| StorageError::Io {
            path: Some(path.to_path_buf()),
            source,
        };
        // fjall would report a file in the way as a bare I/O error on an inner path.
        match std::fs::metadata(path) {
            Ok(metadata) if !metadata.is_dir() => {
                return Err(io_error(std::io::Error::new(
                    std::io::ErrorKind::NotADirectory,
                    "the path exists but is not a folder",
                )));
            }
            Ok(_) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(io_error(error)),
        }
        std::fs::create_dir_all(path).map_err(io_error)?;
        // fjall may panic on some damaged journals instead of returning an error.
        let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            fjall::Database::builder(path).open()
        }));
        let db = match opened {
            Ok(opened) => opened.map_err(|error| map_error(path, error))?,
            Err(panic) => return Err(panicked_on_open(path, panic.as_ref())),
        };
        tracing::debug!(path = %path.display(), "opened fjall store");
        Ok(Self {
            shared: Arc::new(Shared {
                path: path.to_path_buf(),
                state: RwLock::new(Some(Open {
                    db,
                    path: path.to_path_buf(),
                    handles: RwLock::new(HashMap::new()),
                })),
                commit_lock: Mutex::new(()),
            }),
        })
    }
}

impl std::fmt::Debug for FjallStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FjallStore")
            .field("path", &self.shared.path)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Storage for FjallStore {
    async fn get(&self, keyspace: Keyspace, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.shared.with_open(|open| {
            // Stores refuse empty keys, so there is nothing to find.
            if key.is_empty() {
                return Ok(None);
            }
            let Some(handle) = open.handle(keyspace, false)? else {
                return Ok(None);
            };
            let value = handle
                .get(key)
                .map_err(|e| map_error_in(&self.shared.path, Some(keyspace), e))?;
            Ok(value.map(|value| value.to_vec()))
        })
    }

    async fn scan_prefix(
        &self,
        keyspace: Keyspace,
        prefix: &[u8],
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.shared.with_open(|open| {
            let Some(handle) = open.handle(keyspace, false)? else {
                return Ok(Vec::new());
            };
            handle
                .prefix(prefix)
                .map(|guard| {
                    let (key, value) = guard
                        .into_inner()
                        .map_err(|e| map_error_in(&self.shared.path, Some(keyspace), e))?;
                    Ok((key.to_vec(), value.to_vec()))
                })
                .collect()
        })
    }

    async fn scan_page(
        &self,
        keyspace: Keyspace,
        prefix: &[u8],
        after: Option<&[u8]>,
        order: Order,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.shared.with_open(|open| {
            let (Some(handle), Some(bounds)) = (
                open.handle(keyspace, false)?,
                page_bounds(prefix, after, order),
            ) else {
                return Ok(Vec::new());
            };
            let range = handle.range::<Vec<u8>, _>(bounds);
            let read = |guard: fjall::Guard| {
                let (key, value) = guard
                    .into_inner()
                    .map_err(|e| map_error_in(&self.shared.path, Some(keyspace), e))?;
                Ok((key.to_vec(), value.to_vec()))
            };
            match order {
                Order::Ascending => range.take(limit).map(read).collect(),
                Order::Descending => range.rev().take(limit).map(read).collect(),
            }
        })
    }

    /// Applies `batch` atomically; see [`Storage::commit`].
    ///
    /// A batch without operations or expectations under [`Durability::Sync`] still
    /// `fsync`s: it makes every earlier `Buffered` commit durable, so it serves as a barrier.
    async fn commit(&self, batch: Batch, durability: Durability) -> Result<()> {
        let (operations, expectations) = batch.into_parts();
        check_limits(&operations)?;
        match durability {
            Durability::Buffered => self.shared.commit(operations, &expectations, durability),
            Durability::Sync => {
                let shared = Arc::clone(&self.shared);
                tokio::task::spawn_blocking(move || {
                    shared.commit(operations, &expectations, durability)
                })
                .await
                .map_err(|error| StorageError::Backend {
                    message: format!("the commit job failed: {error}"),
                })?
            }
        }
    }

    /// The bytes the store's files take on disk: the blocks allocated to them, not their
    /// lengths, since fjall gives its active journal a large length up front and fills it
    /// as it goes.
    async fn disk_space(&self) -> Result<Option<u64>> {
        let path = self.shared.with_open(|open| Ok(open.path.clone()))?;
        tokio::task::spawn_blocking(move || {
            allocated_bytes(&path)
                .map(Some)
                .map_err(|source| StorageError::Io {
                    path: Some(path),
                    source,
                })
        })
        .await
        .map_err(|error| StorageError::Backend {
            message: format!("measuring the store failed: {error}"),
        })?
    }

    /// Flushes every keyspace's memory table into a table file, which lets fjall drop the
    /// journals behind it, then compacts each keyspace into one run of tables without the
    /// deleted entries; see [`Storage::compact`].
    async fn compact(&self) -> Result<()> {
        let shared = Arc::clone(&self.shared);
        tokio::task::spawn_blocking(move || shared.compact())
            .await
            .map_err(|error| StorageError::Backend {
                message: format!("the compaction job failed: {error}"),
            })?
    }

    /// Makes every commit durable, then releases the folder; see [`Storage::close`].
    ///
    /// It waits for running commits and reads, and returns once the folder's lock is
    /// released, so the store can be opened again right away. Afterwards every method
    /// returns [`StorageError::Closed`], including a second `close`. The store is closed
    /// even when the final flush fails.
    async fn close(&self) -> Result<()> {
        let shared = Arc::clone(&self.shared);
        tokio::task::spawn_blocking(move || shared.close())
            .await
            .map_err(|error| StorageError::Backend {
                message: format!("closing the store failed: {error}"),
            })?
    }
}

impl Shared {
    fn with_open<T>(&self, f: impl FnOnce(&Open) -> Result<T>) -> Result<T> {
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        f(state.as_ref().ok_or(StorageError::Closed)?)
    }

    fn commit(
        &self,
        operations: Vec<Operation>,
        expectations: &[Expectation],
        durability: Durability,
    ) -> Result<()> {
        let _commit = self
            .commit_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.with_open(|open| {
            for expectation in expectations {
                let current = match open.handle(expectation.keyspace, false)? {
                    Some(handle) if !expectation.key.is_empty() => handle
                        .get(&expectation.key)
                        .map_err(|e| map_error(&self.path, e))?,
                    _ => None,
                };
                if current.as_deref() != expectation.value.as_deref() {
                    return Err(StorageError::Conflict {
                        keyspace: expectation.keyspace.name(),
                        key: render_key(&expectation.key),
                    });
                }
            }

            // fjall gives every write of a batch the same sequence number, so two writes of
            // one key would not reliably resolve to the later one: keep only the last.
            let keep = last_writes(&operations);
            let mut batch = open.db.batch();
            for (operation, keep) in operations.into_iter().zip(keep) {
                if !keep {
                    continue;
                }
                match operation {
                    Operation::Put {
                        keyspace,
                        key,
                        value,
                    } => {
                        batch.insert(&open.handle_or_create(keyspace)?, key, value);
                    }
                    Operation::Delete { keyspace, key } => {
                        batch.remove(&open.handle_or_create(keyspace)?, key);
                    }
                }
            }
            // `Database::batch` writes through to the operating system on commit.
            batch.commit().map_err(|e| map_error(&self.path, e))?;
            if durability == Durability::Sync {
                open.db
                    .persist(PersistMode::SyncAll)
                    .map_err(|e| map_error(&self.path, e))?;
            }
            Ok(())
        })
    }

    fn compact(&self) -> Result<()> {
        self.with_open(|open| {
            let error = |e| map_error(&self.path, e);
            for name in open.db.list_keyspace_names() {
                let handle = open
                    .db
                    .keyspace(&name, || {
                        KeyspaceCreateOptions::default().max_memtable_size(MEMTABLE_BYTES)
                    })
                    .map_err(error)?;
                handle.rotate_memtable_and_wait().map_err(error)?;
                handle.major_compact().map_err(error)?;
            }
            Ok(())
        })
    }

    fn close(&self) -> Result<()> {
        let _commit = self
            .commit_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let open = self
            .state
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .ok_or(StorageError::Closed)?;
        // Flushing the memtables into tables leaves nothing in the journal for the next open to
        // replay into memory.
        let flushed = open
            .handles
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .try_for_each(|handle| handle.rotate_memtable_and_wait())
            .map_err(|e| map_error(&self.path, e));
        let persisted = flushed.and_then(|()| {
            open.db
                .persist(PersistMode::SyncAll)
                .map_err(|e| map_error(&self.path, e))
        });
        // Dropping the database stops and joins fjall's workers; the folder's lock file is
        // shared by the database and every keyspace handle, and is unlocked when the last of
        // them (all owned by `open`) is dropped, before this returns.
        drop(open);
        tracing::debug!(path = %self.path.display(), "closed fjall store");
        persisted
    }
}

impl Open {
    /// The handle of `keyspace`; `None` if it does not exist and `create` is false, so reads
    /// never create keyspaces.
    fn handle(&self, keyspace: Keyspace, create: bool) -> Result<Option<fjall::Keyspace>> {
        let name = keyspace.name();
        if let Some(handle) = self
            .handles
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
        {
            return Ok(Some(handle.clone()));
        }
        if !create && !self.db.keyspace_exists(name) {
            return Ok(None);
        }
        // `Keyspace::new` guarantees a name fjall accepts (1 to 255 bytes).
        let handle = self
            .db
            .keyspace(name, || {
                KeyspaceCreateOptions::default().max_memtable_size(MEMTABLE_BYTES)
            })
            .map_err(|e| map_error(&self.path, e))?;
        self.handles
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name, handle.clone());
        Ok(Some(handle))
    }

    fn handle_or_create(&self, keyspace: Keyspace) -> Result<fjall::Keyspace> {
        self.handle(keyspace, true)?
            .ok_or_else(|| StorageError::Backend {
                message: format!("keyspace `{keyspace}` could not be created"),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fjall_errors_map_to_storage_errors() {
        let path = Path::new("/data/store");
        assert!(
            matches!(map_error(path, fjall::Error::Locked), StorageError::Locked { path } if path == Path::new("/data/store"))
        );
        assert!(matches!(
            map_error(path, fjall::Error::Io(std::io::Error::other("x"))),
            StorageError::Io { path: Some(_), .. }
        ));
        assert!(matches!(
            map_error(path, fjall::Error::Poisoned),
            StorageError::Backend { message } if message == "Poisoned"
        ));
    }
}
