use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;

use crate::batch::check_limits;
use crate::error::render_key;
use crate::scan::page_bounds;
use crate::{Batch, Durability, Keyspace, Operation, Order, Result, Storage, StorageError};

type Entries = BTreeMap<Vec<u8>, Vec<u8>>;

/// A store that keeps everything in memory, for tests and short-lived runs.
///
/// It has the same semantics as [`FjallStore`](crate::FjallStore): atomic batches, checked
/// expectations, the same key and value limits, ordered prefix scans, and
/// [`StorageError::Closed`] after [`close`](Storage::close). [`Durability`] is ignored:
/// nothing survives the process.
///
/// # Examples
///
/// ```
/// use workflow_storage::{Batch, Durability, Keyspace, MemoryStore, Storage};
///
/// const RUNS: Keyspace = Keyspace::new("runs");
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> workflow_storage::Result<()> {
/// let store = MemoryStore::new();
/// let mut batch = Batch::new();
/// batch.put(RUNS, "run-1", "pending");
/// batch.put(RUNS, "run-2", "done");
/// store.commit(batch, Durability::Buffered).await?;
///
/// let runs = store.scan_prefix(RUNS, b"run-").await?;
/// assert_eq!(runs.len(), 2);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct MemoryStore {
    /// Entries per keyspace name; `None` once closed.
    state: Mutex<Option<BTreeMap<&'static str, Entries>>>,
}

impl MemoryStore {
    /// An empty store.
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow_storage::{Keyspace, MemoryStore, Storage};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow_storage::Result<()> {
    /// let store = MemoryStore::new();
    /// assert_eq!(store.get(Keyspace::new("runs"), b"run-1").await?, None);
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self {
            state: Mutex::new(Some(BTreeMap::new())),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Option<BTreeMap<&'static str, Entries>>> {
        // Every update is applied only after all its checks passed, so the map is consistent
        // even if a panic poisoned the lock.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Storage for MemoryStore {
    async fn get(&self, keyspace: Keyspace, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let state = self.lock();
        let keyspaces = state.as_ref().ok_or(StorageError::Closed)?;
        Ok(keyspaces
            .get(keyspace.name())
            .and_then(|entries| entries.get(key))
            .cloned())
    }

    async fn scan_prefix(
        &self,
        keyspace: Keyspace,
        prefix: &[u8],
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let state = self.lock();
        let keyspaces = state.as_ref().ok_or(StorageError::Closed)?;
        let Some(entries) = keyspaces.get(keyspace.name()) else {
            return Ok(Vec::new());
        };
        Ok(entries
            .range::<[u8], _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(|(key, _)| key.starts_with(prefix))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect())
    }

    async fn scan_page(
        &self,
        keyspace: Keyspace,
        prefix: &[u8],
        after: Option<&[u8]>,
        order: Order,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let state = self.lock();
        let keyspaces = state.as_ref().ok_or(StorageError::Closed)?;
        let (Some(entries), Some(bounds)) = (
            keyspaces.get(keyspace.name()),
            page_bounds(prefix, after, order),
        ) else {
            return Ok(Vec::new());
        };
        let range = entries.range::<Vec<u8>, _>(bounds);
        let clone = |(key, value): (&Vec<u8>, &Vec<u8>)| (key.clone(), value.clone());
        Ok(match order {
            Order::Ascending => range.take(limit).map(clone).collect(),
            Order::Descending => range.rev().take(limit).map(clone).collect(),
        })
    }

    async fn commit(&self, batch: Batch, _durability: Durability) -> Result<()> {
        let (operations, expectations) = batch.into_parts();
        check_limits(&operations)?;
        let mut state = self.lock();
        let keyspaces = state.as_mut().ok_or(StorageError::Closed)?;
        for expectation in &expectations {
            let current = keyspaces
                .get(expectation.keyspace.name())
                .and_then(|entries| entries.get(&expectation.key));
            if current != expectation.value.as_ref() {
                return Err(StorageError::Conflict {
                    keyspace: expectation.keyspace.name(),
                    key: render_key(&expectation.key),
                });
            }
        }
        // Applied in order, so a later operation on a key wins.
        for operation in operations {
            match operation {
                Operation::Put {
                    keyspace,
                    key,
                    value,
                } => {
                    keyspaces
                        .entry(keyspace.name())
                        .or_default()
                        .insert(key, value);
                }
                Operation::Delete { keyspace, key } => {
                    if let Some(entries) = keyspaces.get_mut(keyspace.name()) {
                        entries.remove(&key);
                    }
                }
            }
        }
        Ok(())
    }

    async fn close(&self) -> Result<()> {
        self.lock().take().map(drop).ok_or(StorageError::Closed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KS: Keyspace = Keyspace::new("ks");

    #[tokio::test]
    async fn closed_store_refuses_everything() {
        let store = MemoryStore::default();
        store.close().await.unwrap();
        assert!(matches!(
            store.get(KS, b"a").await,
            Err(StorageError::Closed)
        ));
        assert!(matches!(
            store.scan_prefix(KS, b"").await,
            Err(StorageError::Closed)
        ));
        assert!(matches!(
            store.commit(Batch::new(), Durability::Sync).await,
            Err(StorageError::Closed)
        ));
        assert!(matches!(store.close().await, Err(StorageError::Closed)));
    }

    #[tokio::test]
    async fn invalid_keys_change_nothing() {
        let store = MemoryStore::new();
        let mut batch = Batch::new();
        batch.put(KS, "a", "1");
        batch.put(KS, "", "2");
        assert!(matches!(
            store.commit(batch, Durability::Sync).await,
            Err(StorageError::InvalidKey { keyspace: "ks", .. })
        ));
        assert_eq!(store.get(KS, b"a").await.unwrap(), None);
    }
}
