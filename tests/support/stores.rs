//! Storage wrappers for reliability tests: one store that forwards everything to another,
//! with a [`Hook`] that changes what a commit, a read or a close does. [`Recorder`] keeps
//! every commit in the order the store applied them, [`Faulty`] fails writes on command
//! like a full or read-only disk, and [`Slow`] takes time like a disk across a network.

use std::sync::{
    atomic::{AtomicBool, AtomicUsize, Ordering},
    Arc, Mutex,
};
use std::time::Duration;

use workflow::storage::{Batch, Durability, Keyspace, Order, Result, Storage, StorageError};

type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// What a [`Wrapped`] store does around the store it forwards to.
#[workflow::async_trait]
pub trait Hook: Send + Sync + 'static {
    /// Commits `batch` to `inner` (or not).
    async fn commit(&self, inner: &dyn Storage, batch: Batch, durability: Durability)
        -> Result<()>;

    /// Called before each read of one key.
    async fn before_get(&self) {}

    /// Whether closing the wrapper closes `inner` (not when another engine is to be built
    /// on it).
    fn closes_inner(&self) -> bool {
        true
    }
}

/// A store that forwards everything to `inner` through `hook`.
pub struct Wrapped<S, H> {
    inner: Arc<S>,
    hook: Arc<H>,
}

impl<S, H> Clone for Wrapped<S, H> {
    fn clone(&self) -> Self {
        Wrapped {
            inner: Arc::clone(&self.inner),
            hook: Arc::clone(&self.hook),
        }
    }
}

impl<S, H> Wrapped<S, H> {
    fn with(inner: Arc<S>, hook: H) -> Self {
        Wrapped {
            inner,
            hook: Arc::new(hook),
        }
    }
}

#[workflow::async_trait]
impl<S: Storage, H: Hook> Storage for Wrapped<S, H> {
    async fn get(&self, keyspace: Keyspace, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.hook.before_get().await;
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
        self.hook.commit(&*self.inner, batch, durability).await
    }

    async fn close(&self) -> Result<()> {
        if self.hook.closes_inner() {
            self.inner.close().await
        } else {
            Ok(())
        }
    }
}

/// Keeps a copy of each commit the store applied, in the order it applied them.
#[derive(Default)]
pub struct Recording {
    /// Held across the inner commit, so the log has the store's order of application.
    log: tokio::sync::Mutex<Vec<(Batch, Durability)>>,
}

pub type Recorder<S> = Wrapped<S, Recording>;

impl<S: Storage> Recorder<S> {
    pub fn new(inner: S) -> Self {
        Wrapped::with(Arc::new(inner), Recording::default())
    }

    /// The commits applied so far, in order.
    pub async fn commits(&self) -> Vec<(Batch, Durability)> {
        self.hook.log.lock().await.clone()
    }
}

#[workflow::async_trait]
impl Hook for Recording {
    async fn commit(
        &self,
        inner: &dyn Storage,
        batch: Batch,
        durability: Durability,
    ) -> Result<()> {
        let mut log = self.log.lock().await;
        let copy = batch.clone();
        inner.commit(batch, durability).await?;
        log.push((copy, durability));
        Ok(())
    }
}

/// While failing is on, every commit fails with "no space left on device" and writes
/// nothing.
#[derive(Default)]
pub struct Failing {
    failing: AtomicBool,
    refused: AtomicUsize,
    /// Commits let through before failing starts by itself, if set.
    fail_after: Mutex<Option<usize>>,
}

pub type Faulty<S> = Wrapped<S, Failing>;

impl<S: Storage> Faulty<S> {
    pub fn new(inner: S) -> Self {
        Wrapped::with(Arc::new(inner), Failing::default())
    }

    /// Turns failing writes on or off.
    pub fn fail_writes(&self, failing: bool) {
        self.hook.failing.store(failing, Ordering::SeqCst);
    }

    /// Lets `commits` more commits through, then fails every write.
    pub fn fail_after(&self, commits: usize) {
        *self.hook.fail_after.lock().unwrap() = Some(commits);
    }

    /// How many commits were refused.
    pub fn refused(&self) -> usize {
        self.hook.refused.load(Ordering::SeqCst)
    }
}

#[workflow::async_trait]
impl Hook for Failing {
    async fn commit(
        &self,
        inner: &dyn Storage,
        batch: Batch,
        durability: Durability,
    ) -> Result<()> {
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
        inner.commit(batch, durability).await
    }
}

/// Takes `delay` for each commit and each read of one key (a slow disk, or a database
/// across a network), and leaves the inner store open on close, so another engine can be
/// built on it.
pub struct Delaying {
    delay: Duration,
}

pub type Slow<S> = Wrapped<S, Delaying>;

impl<S: Storage> Slow<S> {
    pub fn new(inner: Arc<S>, delay: Duration) -> Self {
        Wrapped::with(inner, Delaying { delay })
    }
}

#[workflow::async_trait]
impl Hook for Delaying {
    async fn commit(
        &self,
        inner: &dyn Storage,
        batch: Batch,
        durability: Durability,
    ) -> Result<()> {
        tokio::time::sleep(self.delay).await;
        inner.commit(batch, durability).await
    }

    async fn before_get(&self) {
        tokio::time::sleep(self.delay).await;
    }

    fn closes_inner(&self) -> bool {
        false
    }
}
