//! Where external events wait to be delivered: stored per workflow and key, in order of
//! arrival, with a wake-up for the steps waiting on them.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
};

use tokio::sync::Notify;
use workflow_storage::{KeyBuilder, Storage};

use crate::{
    records::{decode, EventRecord, EVENTS},
    Result,
};

/// An event taken from the queue of a (workflow, key), not yet consumed by a checkpoint.
pub(crate) struct Claimed {
    pub(crate) key: Vec<u8>,
    pub(crate) record: EventRecord,
}

/// The external events of one engine.
pub(crate) struct EventHub {
    store: Arc<dyn Storage>,
    waiting: Mutex<HashMap<Vec<u8>, Arc<Notify>>>,
    /// Events handed to a running step, so that two waits never take the same one.
    claimed: Mutex<HashSet<Vec<u8>>>,
    /// Serializes sends, so that sequence numbers follow the order of arrival.
    pub(crate) sending: tokio::sync::Mutex<()>,
    /// The least next sequence number: a number is never given twice in one process (a
    /// consumed event's number may still be claimed), and it starts from the clock so that
    /// numbers keep growing across restarts.
    next_sequence: std::sync::atomic::AtomicU64,
}

/// The prefix of the queue of events `key` of workflow `workflow`.
pub(crate) fn queue_prefix(workflow: &str, key: &str) -> Vec<u8> {
    KeyBuilder::new().str(workflow).str(key).build()
}

impl EventHub {
    pub(crate) fn new(store: Arc<dyn Storage>) -> Self {
        EventHub {
            store,
            waiting: Mutex::default(),
            claimed: Mutex::default(),
            sending: tokio::sync::Mutex::new(()),
            next_sequence: std::sync::atomic::AtomicU64::new(crate::records::now_us()),
        }
    }

    fn notify_of(&self, prefix: &[u8]) -> Arc<Notify> {
        self.waiting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(prefix.to_vec())
            .or_default()
            .clone()
    }

    /// The sequence number of an event sent now, after `last_stored` (the last one queued).
    pub(crate) fn next_sequence(&self, last_stored: Option<u64>) -> u64 {
        use std::sync::atomic::Ordering;
        let floor = last_stored.map_or(0, |last| last + 1);
        let counter = self.next_sequence.fetch_add(1, Ordering::Relaxed);
        let next = floor.max(counter);
        self.next_sequence.fetch_max(next + 1, Ordering::Relaxed);
        next
    }

    /// Wakes the steps waiting on the queue `prefix`.
    pub(crate) fn wake(&self, prefix: &[u8]) {
        self.notify_of(prefix).notify_waiters();
    }

    /// Waits for the oldest event of the queue `prefix` that no other step has taken.
    pub(crate) async fn claim(&self, prefix: &[u8]) -> Result<Claimed> {
        let notify = self.notify_of(prefix);
        loop {
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let queued = self.store.scan_prefix(EVENTS, prefix).await?;
            // Claims of events no longer stored were consumed by their checkpoints.
            self.claimed().retain(|claimed| {
                !claimed.starts_with(prefix) || queued.iter().any(|(key, _)| key == claimed)
            });
            for (key, bytes) in queued {
                if self.claimed().insert(key.clone()) {
                    let record = match decode(EVENTS, &key, &bytes) {
                        Ok(record) => record,
                        Err(error) => {
                            self.release(&key);
                            return Err(error);
                        }
                    };
                    return Ok(Claimed { key, record });
                }
            }
            notified.await;
        }
    }

    /// Gives an event back, for a later wait (its step did not checkpoint it).
    pub(crate) fn release(&self, key: &[u8]) {
        self.claimed().remove(key);
    }

    fn claimed(&self) -> std::sync::MutexGuard<'_, HashSet<Vec<u8>>> {
        self.claimed.lock().unwrap_or_else(|p| p.into_inner())
    }
}
