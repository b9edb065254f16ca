//! Where external events wait to be delivered: stored per workflow and key, in order of
//! arrival, with a wake-up for the steps waiting on them.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
};

use std::sync::atomic::Ordering;

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

/// The wake-up of a queue, and how many steps wait on it.
type Waiters = (Arc<Notify>, usize);

/// The external events of one engine.
pub(crate) struct EventHub {
    store: Arc<dyn Storage>,
    /// The wake-up of each queue that steps wait on, and how many steps wait on it.
    waiting: Mutex<HashMap<Vec<u8>, Waiters>>,
    /// Events handed to a running step, so that two waits never take the same one.
    /// Each claim with the moment it was made, counted by `claims_made`.
    claimed: Mutex<BTreeMap<Vec<u8>, u64>>,
    claims_made: std::sync::atomic::AtomicU64,
    /// Serializes the sends to one queue, so that its sequence numbers follow the order of
    /// arrival; queues hash to one of these locks, so sends to different workflows mostly run
    /// (and group-commit) together.
    sending: Box<[tokio::sync::Mutex<()>]>,
    /// The least next sequence number: a number is never given twice in one process (a
    /// consumed event's number may still be claimed), and it starts from the clock so that
    /// numbers keep growing across restarts.
    next_sequence: std::sync::atomic::AtomicU64,
}

/// How many locks the sends are spread over.
const SEND_LOCKS: usize = 64;

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
            claims_made: std::sync::atomic::AtomicU64::new(0),
            sending: (0..SEND_LOCKS)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
            next_sequence: std::sync::atomic::AtomicU64::new(crate::records::now_us()),
        }
    }

    /// Locks the sends to the queue `prefix`.
    pub(crate) async fn lock_sends(&self, prefix: &[u8]) -> tokio::sync::MutexGuard<'_, ()> {
        let shard = crate::value::stable_hash(prefix) as usize % self.sending.len();
        self.sending[shard].lock().await
    }

    /// The wake-up of queue `prefix`, for one more waiting step.
    fn notify_of(&self, prefix: &[u8]) -> Arc<Notify> {
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        let (notify, waiters) = waiting.entry(prefix.to_vec()).or_default();
        *waiters += 1;
        notify.clone()
    }

    /// The sequence number of an event sent now, after `last_stored` (the last one queued).
    pub(crate) fn next_sequence(&self, last_stored: Option<u64>) -> u64 {
        let floor = last_stored.map_or(0, |last| last + 1);
        let counter = self.next_sequence.fetch_add(1, Ordering::Relaxed);
        let next = floor.max(counter);
        self.next_sequence.fetch_max(next + 1, Ordering::Relaxed);
        next
    }

    /// Wakes the steps waiting on the queue `prefix`, if any.
    pub(crate) fn wake(&self, prefix: &[u8]) {
        let waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((notify, _)) = waiting.get(prefix) {
            notify.notify_waiters();
        }
    }

    /// Waits for the oldest event of the queue `prefix` that no other step has taken.
    pub(crate) async fn claim(&self, prefix: &[u8]) -> Result<Claimed> {
        let waiting = Waiting {
            hub: self,
            prefix,
            notify: self.notify_of(prefix),
        };
        self.claim_with(prefix, &waiting.notify).await
    }

    async fn claim_with(&self, prefix: &[u8], notify: &Notify) -> Result<Claimed> {
        loop {
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let scanned_after = self.claims_made.fetch_add(1, Ordering::SeqCst);
            let queued = self.store.scan_prefix(EVENTS, prefix).await?;
            // A claim made before the scan whose event the scan no longer saw was consumed
            // by its checkpoint. (A later claim may be of an event the scan missed.)
            {
                let mut claimed = self.claimed();
                let consumed: Vec<Vec<u8>> = claimed
                    .range(prefix.to_vec()..)
                    .take_while(|(key, _)| key.starts_with(prefix))
                    .filter(|(key, &made)| {
                        made < scanned_after && !queued.iter().any(|(queued, _)| queued == *key)
                    })
                    .map(|(key, _)| key.clone())
                    .collect();
                for key in consumed {
                    claimed.remove(&key);
                }
            }
            for (key, bytes) in queued {
                let claimed_now = {
                    let mut claimed = self.claimed();
                    match claimed.entry(key.clone()) {
                        std::collections::btree_map::Entry::Occupied(_) => false,
                        std::collections::btree_map::Entry::Vacant(entry) => {
                            entry.insert(self.claims_made.fetch_add(1, Ordering::SeqCst));
                            true
                        }
                    }
                };
                if claimed_now {
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

    /// Forgets the claims of workflow `id`, whose driver ended: an event it consumed is gone
    /// from the store, one it did not is free for the next run.
    pub(crate) fn forget_workflow(&self, id: &str) {
        let prefix = KeyBuilder::new().str(id).build();
        let mut claimed = self.claimed();
        let keys: Vec<Vec<u8>> = claimed
            .range(prefix.clone()..)
            .take_while(|(key, _)| key.starts_with(&prefix))
            .map(|(key, _)| key.clone())
            .collect();
        for key in keys {
            claimed.remove(&key);
        }
    }

    /// Gives an event back, for a later wait (its step did not checkpoint it).
    pub(crate) fn release(&self, key: &[u8]) {
        self.claimed().remove(key);
    }

    fn claimed(&self) -> std::sync::MutexGuard<'_, BTreeMap<Vec<u8>, u64>> {
        self.claimed.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A step waiting on a queue; the queue's wake-up is dropped with its last waiting step, even
/// one stopped by a cancellation.
struct Waiting<'a> {
    hub: &'a EventHub,
    prefix: &'a [u8],
    notify: Arc<Notify>,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let mut waiting = self.hub.waiting.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, waiters)) = waiting.get_mut(self.prefix) {
            *waiters -= 1;
            if *waiters == 0 {
                waiting.remove(self.prefix);
            }
        }
    }
}
