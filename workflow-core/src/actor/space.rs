//! The actors of one engine as their calls see them: whose turn it is, and the state.

use std::{
    collections::{BTreeSet, HashMap, HashSet},
    sync::{Arc, Mutex},
};

use tokio::sync::Notify;
use workflow_storage::{Batch, Storage};

use super::records::{call_workflow_id, ActorRecord, ACTORS, ACTOR_PENDING, ACTOR_STATE};
use crate::{
    records::{decode, encode},
    Error, Result,
};

/// The writer calls of one actor that have not finished, in this process's view.
#[derive(Default)]
struct Turns {
    /// Whether the unfinished calls were read from the store (and resumed) here.
    loaded: bool,
    unfinished: BTreeSet<u64>,
    /// The wake-up of each writer waiting for its turn. Only the first unfinished writer
    /// can go, so an ending wakes one waiter, not all of them.
    waiters: HashMap<u64, Arc<Notify>>,
}

impl Turns {
    /// Wakes the first writer that waits: the only one whose turn may have come.
    fn wake_first(&self) {
        let first = self
            .unfinished
            .iter()
            .find_map(|call| self.waiters.get(call));
        if let Some(notify) = first {
            notify.notify_waiters();
        }
    }
}

/// The actors of one engine.
pub(crate) struct ActorSpace {
    store: Arc<dyn Storage>,
    turns: Mutex<HashMap<String, Turns>>,
    /// One lock per actor for creating it and numbering its calls.
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// One lock per actor for taking in the calls other workers queued for it.
    inbox_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Calls queued by other workers, whose end they wait to hear of.
    forwarded: Mutex<HashSet<String>>,
    /// The calls of workflow steps numbered here and not yet durable, by their origin.
    origins: Mutex<HashMap<Vec<u8>, String>>,
    /// Writer calls that returned a continuation here: their state may be pending.
    pending: Mutex<HashSet<String>>,
    /// The head record of each actor that numbered calls here, ahead of the store: a call's
    /// number is taken before the record that counts it is durable.
    heads: Mutex<HashMap<String, ActorRecord>>,
}

impl ActorSpace {
    pub(crate) fn new(store: Arc<dyn Storage>) -> ActorSpace {
        ActorSpace {
            store,
            turns: Mutex::default(),
            locks: Mutex::default(),
            inbox_locks: Mutex::default(),
            forwarded: Mutex::default(),
            origins: Mutex::default(),
            pending: Mutex::default(),
            heads: Mutex::default(),
        }
    }

    /// The lock under which actor `actor` is created and its calls are numbered.
    pub(crate) fn lock_of(&self, actor: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(actor.to_string()).or_default().clone()
    }

    /// The lock under which the calls queued in the inbox of `actor` are taken in.
    pub(crate) fn inbox_lock_of(&self, actor: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.inbox_locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(actor.to_string()).or_default().clone()
    }

    /// Call `id` was queued by another worker, which waits to hear of its end.
    pub(crate) fn add_forwarded(&self, id: &str) {
        let mut forwarded = self.forwarded.lock().unwrap_or_else(|p| p.into_inner());
        forwarded.insert(id.to_string());
    }

    /// Call `id`, made by the workflow step `origin`, is numbered; its record is on the way.
    pub(crate) fn add_origin(&self, origin: Vec<u8>, id: &str) {
        let mut origins = self.origins.lock().unwrap_or_else(|p| p.into_inner());
        origins.insert(origin, id.to_string());
    }

    /// The call numbered here for the workflow step `origin`, while it is not yet durable.
    pub(crate) fn origin_call(&self, origin: &[u8]) -> Option<String> {
        let origins = self.origins.lock().unwrap_or_else(|p| p.into_inner());
        origins.get(origin).cloned()
    }

    /// The call of `origin` is durable (or will never be): the store tells from now on.
    pub(crate) fn forget_origin(&self, origin: &[u8]) {
        let mut origins = self.origins.lock().unwrap_or_else(|p| p.into_inner());
        origins.remove(origin);
    }

    /// Whether call `id` was queued by another worker; forgets it.
    pub(crate) fn take_forwarded(&self, id: &str) -> bool {
        let mut forwarded = self.forwarded.lock().unwrap_or_else(|p| p.into_inner());
        forwarded.remove(id)
    }

    /// Records the unfinished writers of `actor` read from the store; false if they were
    /// read already (the caller then has nothing to resume).
    pub(crate) fn load(&self, actor: &str, writers: impl IntoIterator<Item = u64>) -> bool {
        let mut turns = self.turns();
        let entry = turns.entry(actor.to_string()).or_default();
        if entry.loaded {
            return false;
        }
        entry.loaded = true;
        entry.unfinished.extend(writers);
        true
    }

    /// Whether the unfinished writers of `actor` were read here.
    pub(crate) fn is_loaded(&self, actor: &str) -> bool {
        self.turns().get(actor).is_some_and(|turns| turns.loaded)
    }

    /// The actors whose unfinished writers were read here: those this worker serves.
    pub(crate) fn loaded_actors(&self) -> Vec<String> {
        self.turns()
            .iter()
            .filter(|(_, turns)| turns.loaded)
            .map(|(actor, _)| actor.clone())
            .collect()
    }

    /// A new writer call, queued behind the unfinished ones.
    pub(crate) fn add_writer(&self, actor: &str, call: u64) {
        let mut turns = self.turns();
        turns
            .entry(actor.to_string())
            .or_default()
            .unfinished
            .insert(call);
    }

    /// Call `call` of `actor` finished (or will never run): the next writer may go.
    pub(crate) fn call_ended(&self, actor: &str, call: u64) {
        let mut turns = self.turns();
        if let Some(entry) = turns.get_mut(actor) {
            entry.waiters.remove(&call);
            if entry.unfinished.remove(&call) {
                entry.wake_first();
            }
        }
    }

    /// The first unfinished writer of `actor` numbered before `call`, and the wake-up of
    /// `call` (take it before looking, so that no ending is missed).
    pub(crate) fn turn_of(&self, actor: &str, call: u64) -> (Option<u64>, Arc<Notify>) {
        let mut turns = self.turns();
        let entry = turns.entry(actor.to_string()).or_default();
        let first = entry.unfinished.range(..call).next().copied();
        let notify = entry.waiters.entry(call).or_default().clone();
        (first, notify)
    }

    /// Call `call` of `actor` no longer waits for its turn.
    pub(crate) fn stop_waiting(&self, actor: &str, call: u64) {
        if let Some(entry) = self.turns().get_mut(actor) {
            entry.waiters.remove(&call);
        }
    }

    /// Whether call `call` of `actor` is a writer that has not finished.
    pub(crate) fn is_unfinished_writer(&self, actor: &str, call: u64) -> bool {
        self.turns()
            .get(actor)
            .is_some_and(|entry| entry.unfinished.contains(&call))
    }

    /// Wakes every call waiting for a turn of `actor`, so that they look again (rare: a
    /// call stopped unfinished).
    pub(crate) fn poke(&self, actor: &str) {
        if let Some(entry) = self.turns().get(actor) {
            for notify in entry.waiters.values() {
                notify.notify_waiters();
            }
        }
    }

    /// The write that keeps `state` as the state call `call` of `actor` leaves, made the
    /// actor's when the whole call succeeds.
    pub(crate) fn pending_write(&self, actor: &str, call: u64, state: Vec<u8>) -> Result<Batch> {
        let id = call_workflow_id(actor, call);
        let mut batch = Batch::new();
        batch.put(
            ACTOR_PENDING,
            id.as_bytes().to_vec(),
            encode(&serde_bytes::ByteBuf::from(state))?,
        );
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id);
        Ok(batch)
    }

    /// Call `id` may have left a pending state in an earlier process.
    pub(crate) fn may_be_pending(&self, id: &str) {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.to_string());
    }

    /// Whether call `id` may have left a pending state (forgets it).
    pub(crate) fn take_pending(&self, id: &str) -> bool {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id)
    }

    /// The last committed state of `actor`, encoded.
    pub(crate) async fn state(&self, actor: &str, type_name: &str) -> Result<Vec<u8>> {
        match self.store.get(ACTOR_STATE, actor.as_bytes()).await? {
            Some(bytes) => decode::<serde_bytes::ByteBuf>(ACTOR_STATE, actor.as_bytes(), &bytes)
                .map(serde_bytes::ByteBuf::into_vec),
            None => Err(Error::NotFound {
                what: "actor",
                id: format!("{actor} ({type_name})"),
            }),
        }
    }

    /// The write that makes `state` the state of `actor`.
    pub(crate) fn state_write(&self, actor: &str, state: Vec<u8>) -> Result<Batch> {
        let mut batch = Batch::new();
        batch.put(
            ACTOR_STATE,
            actor.as_bytes().to_vec(),
            encode(&serde_bytes::ByteBuf::from(state))?,
        );
        Ok(batch)
    }

    /// The record of `actor` as its calls are numbered: the latest here, else the stored one.
    /// Read and written under the actor's numbering lock.
    pub(crate) async fn head(&self, actor: &str) -> Result<Option<ActorRecord>> {
        let cached = self
            .heads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(actor)
            .cloned();
        match cached {
            Some(head) => Ok(Some(head)),
            None => self.record(actor).await,
        }
    }

    /// Keeps `head` as the latest record of `actor`.
    pub(crate) fn set_head(&self, actor: &str, head: ActorRecord) {
        self.heads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(actor.to_string(), head);
    }

    /// The stored record of `actor`, if any.
    pub(crate) async fn record(&self, actor: &str) -> Result<Option<super::records::ActorRecord>> {
        match self.store.get(ACTORS, actor.as_bytes()).await? {
            Some(bytes) => Ok(Some(decode(ACTORS, actor.as_bytes(), &bytes)?)),
            None => Ok(None),
        }
    }

    fn turns(&self) -> std::sync::MutexGuard<'_, HashMap<String, Turns>> {
        self.turns.lock().unwrap_or_else(|p| p.into_inner())
    }
}
