//! Storage wrappers for reliability tests: one that records every commit in the order the
//! store applied them, and one whose writes fail on command, like a full or read-only disk.

use std::sync::{
    atomic::{AtomicBool, AtomicUsize, Ordering},
    Arc, Mutex,
};

use workflow::storage::{Batch, Durability, Keyspace, Order, Result, Storage, StorageError};

type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// Forwards everything to `inner` and keeps a copy of each commit that `inner` applied.
pub struct Recorder<S> {
    inner: Arc<S>,
    /// Held across the inner commit, so the log has the store's order of application.
    log: Arc<tokio::sync::Mutex<Vec<(Batch, Durability)>>>,
}

impl<S> Clone for Recorder<S> {
    fn clone(&self) -> Self {
        Recorder {
            inner: Arc::clone(&self.inner),
            log: Arc::clone(&self.log),
        }
    }
}

impl<S: Storage> Recorder<S> {
    pub fn new(inner: S) -> Self {
        Recorder {
            inner: Arc::new(inner),
            log: Arc::default(),
        }
    }

    /// The commits applied so far, in order.
    pub async fn commits(&self) -> Vec<(Batch, Durability)> {
        self.log.lock().await.clone()
    }
}

#[workflow::async_trait]
impl<S: Storage> Storage for Recorder<S> {
    async fn get(&self, keyspace: Keyspace, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.inner.get(keyspace, key).await
    }

    async fn scan_prefix(&self, keyspace: Keyspace, prefix: &[u8]) -> Result<Entries> {
        self.inner.scan_prefix(keyspace, prefix).await
    }

    async fn scan_page(
        &self,
        keyspace: Keyspace,
        prefix: &[u8],
        after: Option<&[u8]>,
        order: Order,
        limit: usize,
    ) -> Result<Entries> {
        self.inner
            .scan_page(keyspace, prefix, after, order, limit)
            .await
    }

    async fn commit(&self, batch: Batch, durability: Durability) -> Result<()> {
        let mut log = self.log.lock().await;
        let copy = batch.clone();
        self.inner.commit(batch, durability).await?;
        log.push((copy, durability));
        Ok(())
    }

    async fn close(&self) -> Result<()> {
        self.inner.close().await
    }
}

/// Forwards everything to `inner`, except that while [`fail_writes`](Faulty::fail_writes)
/// is on every commit fails with "no space left on device" and writes nothing.
pub struct Faulty<S> {
    inner: Arc<S>,
    failing: Arc<AtomicBool>,
    refused: Arc<AtomicUsize>,
    /// Commits let through before failing starts by itself, if set.
    fail_after: Arc<Mutex<Option<usize>>>,
}

impl<S> Clone for Faulty<S> {
    fn clone(&self) -> Self {
        Faulty {
            inner: Arc::clone(&self.inner),
            failing: Arc::clone(&self.failing),
            refused: Arc::clone(&self.refused),
            fail_after: Arc::clone(&self.fail_after),
        }
    }
}

impl<S: Storage> Faulty<S> {
    pub fn new(inner: S) -> Self {
        Faulty {
            inner: Arc::new(inner),
            failing: Arc::default(),
            refused: Arc::default(),
            fail_after: Arc::default(),
        }
    }

    /// Turns failing writes on or off.
    pub fn fail_writes(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    /// Lets `commits` more commits through, then fails every write.
    pub fn fail_after(&self, commits: usize) {
        *self.fail_after.lock().unwrap() = Some(commits);
    }

    /// How many commits were refused.
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }
}

#[workflow::async_trait]
impl<S: Storage> Storage for Faulty<S> {
    async fn get(&self, keyspace: Keyspace, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.inner.get(keyspace, key).await
    }

    async fn scan_prefix(&self, keyspace: Keyspace, prefix: &[u8]) -> Result<Entries> {
        self.inner.scan_prefix(keyspace, prefix).await
    }

    async fn scan_page(
        &self,
        keyspace: Keyspace,
        prefix: &[u8],
        after: Option<&[u8]>,
        order: Order,
        limit: usize,
    ) -> Result<Entries> {
        self.inner
            .scan_page(keyspace, prefix, after, order, limit)
            .await
    }

    async fn commit(&self, batch: Batch, durability: Durability) -> Result<()> {
        {
            let mut fail_after = self.fail_after.lock().unwrap();
            match fail_after.as_mut() {
                Some(0) => {
                    *fail_after = None;
                    self.failing.store(true, Ordering::SeqCst);
                }
                Some(left) => *left -= 1,
                None => {}
            }
        }
        if self.failing.load(Ordering::SeqCst) {
            self.refused.fetch_add(1, Ordering::SeqCst);
            return Err(StorageError::Io {
                path: None,
                source: std::io::Error::from_raw_os_error(28), // ENOSPC
            });
        }
        self.inner.commit(batch, durability).await
    }

    async fn close(&self) -> Result<()> {
        self.inner.close().await
    }
}

/// Forwards everything to `inner`, taking `delay` for each commit and each read of one key
/// (a slow disk, or a database across a network), and leaves `inner` open on `close`, so
/// another engine can be built on it.
pub struct Slow<S> {
    inner: Arc<S>,
    delay: std::time::Duration,
}

impl<S: Storage> Slow<S> {
    pub fn new(inner: Arc<S>, delay: std::time::Duration) -> Self {
        Slow { inner, delay }
    }
}

#[workflow::async_trait]
impl<S: Storage> Storage for Slow<S> {
    async fn get(&self, keyspace: Keyspace, key: &[u8]) -> Result<Option<Vec<u8>>> {
        tokio::time::sleep(self.delay).await;
        self.inner.get(keyspace, key).await
    }

    async fn scan_prefix(&self, keyspace: Keyspace, prefix: &[u8]) -> Result<Entries> {
        self.inner.scan_prefix(keyspace, prefix).await
    }

    async fn scan_page(
        &self,
        keyspace: Keyspace,
        prefix: &[u8],
        after: Option<&[u8]>,
        order: Order,
        limit: usize,
    ) -> Result<Entries> {
        self.inner
            .scan_page(keyspace, prefix, after, order, limit)
            .await
    }

    async fn commit(&self, batch: Batch, durability: Durability) -> Result<()> {
        tokio::time::sleep(self.delay).await;
        self.inner.commit(batch, durability).await
    }

    async fn close(&self) -> Result<()> {
        Ok(())
    }
}
