//! The actors of one engine as their calls see them: whose turn it is, and the state.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{Arc, Mutex},
};

use tokio::sync::Notify;
use workflow_storage::{Batch, Storage};

use super::records::{ACTORS, ACTOR_STATE};
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
    changed: Arc<Notify>,
}

/// The actors of one engine.
pub(crate) struct ActorSpace {
    store: Arc<dyn Storage>,
    turns: Mutex<HashMap<String, Turns>>,
    /// One lock per actor for creating it and numbering its calls.
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl ActorSpace {
    pub(crate) fn new(store: Arc<dyn Storage>) -> ActorSpace {
        ActorSpace {
            store,
            turns: Mutex::default(),
            locks: Mutex::default(),
        }
    }

    /// The lock under which actor `actor` is created and its calls are numbered.
    pub(crate) fn lock_of(&self, actor: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(actor.to_string()).or_default().clone()
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
            if entry.unfinished.remove(&call) {
                entry.changed.notify_waiters();
            }
        }
    }

    /// Waits until every writer call of `actor` numbered before `call` has finished.
    pub(crate) async fn wait_turn(&self, actor: &str, call: u64) -> Result<()> {
        loop {
            let changed = {
                let mut turns = self.turns();
                let entry = turns.entry(actor.to_string()).or_default();
                if entry.unfinished.range(..call).next().is_none() {
                    return Ok(());
                }
                entry.changed.clone()
            };
            let notified = changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            // Checked again with the wake-up armed, so that no ending is missed.
            let first = self
                .turns()
                .get(actor)
                .and_then(|e| e.unfinished.first().copied());
            if first.is_none_or(|first| first >= call) {
                return Ok(());
            }
            notified.await;
        }
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
