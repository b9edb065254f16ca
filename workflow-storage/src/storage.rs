use async_trait::async_trait;

use crate::{Batch, Durability, Fleet, Keyspace, Order, Result};

/// A key-value store with keyspaces, atomic multi-key commits and ordered prefix scans.
///
/// Keys compare as bytes. A [`Batch`] is applied atomically: after a crash either all of its
/// operations are visible or none. Its [expectations](Batch::expect) are checked under the
/// backend's write lock, so a batch whose expectations no longer hold is refused with
/// [`StorageError::Conflict`](crate::StorageError::Conflict) and changes nothing.
///
/// After [`close`](Storage::close), every method returns
/// [`StorageError::Closed`](crate::StorageError::Closed).
///
/// # Examples
///
/// ```
/// use workflow_storage::{Batch, Durability, Keyspace, MemoryStore, Storage, StorageError};
///
/// const RUNS: Keyspace = Keyspace::new("runs");
///
/// async fn start_run(store: &dyn Storage, id: &str) -> workflow_storage::Result<()> {
///     let mut batch = Batch::new();
///     batch.expect(RUNS, id, None); // refuse to start a run twice
///     batch.put(RUNS, id, "pending");
///     store.commit(batch, Durability::Sync).await
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> workflow_storage::Result<()> {
/// let store = MemoryStore::new();
/// start_run(&store, "run-1").await?;
/// assert!(matches!(start_run(&store, "run-1").await, Err(StorageError::Conflict { .. })));
/// assert_eq!(store.scan_prefix(RUNS, b"run-").await?.len(), 1);
/// # Ok(())
/// # }
/// ```
#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// Reads one value; `None` if `key` is absent (or the keyspace was never written).
    async fn get(&self, keyspace: Keyspace, key: &[u8]) -> Result<Option<Vec<u8>>>;

    /// Reads every entry whose key starts with `prefix`, in ascending key order. An empty
    /// prefix reads the whole keyspace.
    async fn scan_prefix(
        &self,
        keyspace: Keyspace,
        prefix: &[u8],
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>>;

    /// Reads at most `limit` entries whose key starts with `prefix`, in `order`, beginning
    /// after key `after` (just beyond it in that order; from the first key when `None`).
    ///
    /// Pass the last key of a page as `after` to read the next one: the store holds no more
    /// than one page in memory however many entries the prefix has. The default
    /// implementation reads the whole prefix and cuts the page from it, which is correct but
    /// costs the whole prefix per page: a backend meant for large stores implements it (the
    /// stores of this crate read only the page).
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow_storage::{Batch, Durability, Keyspace, MemoryStore, Order, Storage};
    ///
    /// const RUNS: Keyspace = Keyspace::new("runs");
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow_storage::Result<()> {
    /// let store = MemoryStore::new();
    /// let mut batch = Batch::new();
    /// for run in ["run-1", "run-2", "run-3"] {
    ///     batch.put(RUNS, run, "done");
    /// }
    /// store.commit(batch, Durability::Buffered).await?;
    ///
    /// let first = store.scan_page(RUNS, b"run-", None, Order::Descending, 2).await?;
    /// assert_eq!(first[0].0, b"run-3");
    /// let last_key = &first[1].0;
    /// let rest = store.scan_page(RUNS, b"run-", Some(last_key), Order::Descending, 2).await?;
    /// assert_eq!(rest.len(), 1);
    /// assert_eq!(rest[0].0, b"run-1");
    /// # Ok(())
    /// # }
    /// ```
    async fn scan_page(
        &self,
        keyspace: Keyspace,
        prefix: &[u8],
        after: Option<&[u8]>,
        order: Order,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut entries = self.scan_prefix(keyspace, prefix).await?;
        if order == Order::Descending {
            entries.reverse();
        }
        Ok(entries
            .into_iter()
            .filter(|(key, _)| match (after, order) {
                (None, _) => true,
                (Some(after), Order::Ascending) => key.as_slice() > after,
                (Some(after), Order::Descending) => key.as_slice() < after,
            })
            .take(limit)
            .collect())
    }

    /// Applies `batch` atomically. Under [`Durability::Sync`] the batch is on stable storage
    /// when this returns; under [`Durability::Buffered`] it is written to the operating system
    /// (it survives a killed process, not a power loss).
    ///
    /// Fails with [`StorageError::Conflict`](crate::StorageError::Conflict) if an
    /// expectation does not hold and with
    /// [`StorageError::InvalidKey`](crate::StorageError::InvalidKey) if a key or value breaks
    /// the limits described on [`Batch`]; either way nothing is written.
    async fn commit(&self, batch: Batch, durability: Durability) -> Result<()>;

    /// Makes every committed batch durable and releases the store, so it can be opened
    /// again. Afterwards every method, including `close`, returns
    /// [`StorageError::Closed`](crate::StorageError::Closed).
    async fn close(&self) -> Result<()>;

    /// Writes out what is buffered in memory and merges the store's files, so the space of
    /// deleted and overwritten records returns to the disk. It may take a while on a large
    /// store; reads and commits go on meanwhile. The default does nothing (a store that
    /// reclaims space by itself).
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow_storage::{MemoryStore, Storage};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow_storage::Result<()> {
    /// MemoryStore::new().compact().await?;
    /// # Ok(())
    /// # }
    /// ```
    async fn compact(&self) -> Result<()> {
        Ok(())
    }

    /// The bytes the store takes on disk, or `None` if it cannot tell (the default, and a
    /// store in memory).
    async fn disk_space(&self) -> Result<Option<u64>> {
        Ok(None)
    }

    /// The coordination of the engines that share this store, if many may (the PostgreSQL
    /// store); `None` for a store that one process holds (the default).
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow_storage::{MemoryStore, Storage};
    ///
    /// assert!(MemoryStore::new().fleet().is_none());
    /// ```
    fn fleet(&self) -> Option<&dyn Fleet> {
        None
    }
}
