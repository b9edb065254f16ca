//! Actors across a fleet. One worker at a time serves an actor (it holds the claim
//! `actor <id>`): it numbers the actor's calls and runs its writers in turn. Another worker
//! that calls the actor queues the call in the actor's inbox, a record the serving worker
//! turns into a numbered call in the commit that stores it, in the order of the inbox's keys;
//! the caller then waits for that call's workflow like for any workflow run elsewhere.
//!
//! When the serving worker dies, its claim waits and the first worker to take it serves the
//! actor from then on: it resumes the unfinished calls in order and empties the inbox.

use std::{sync::Arc, time::Duration};

use tokio::sync::broadcast;
use workflow_storage::Batch;

use super::messages::Message;
use super::Shared;
use crate::{
    actor::records::{calls_prefix, inbox_key, parse_call_id, InboxArg, InboxEntry, ACTOR_INBOX},
    arg::Input,
    object::ObjectId,
    records::{decode, encode, now_us},
    registry::{Registry, TaskRegistration},
    Error, Result,
};

/// How long a taken inbox entry waits for its caller to read it before it is dropped.
const STALE_AFTER: Duration = Duration::from_secs(600);

/// How often a caller waiting for a queued call, or for a call's end, reads the store again
/// without news, and tries to serve the actor itself if nobody does.
const INBOX_POLL: Duration = Duration::from_secs(1);

impl Shared {
    /// Queues a call of `method` on `actor`, which another worker serves, in the actor's
    /// inbox, and returns the call's workflow id once the serving worker stored it.
    pub(crate) async fn forward_call(
        self: &Arc<Self>,
        actor: &str,
        method: TaskRegistration,
        writes: bool,
        args: Vec<Input>,
        origin: Option<Vec<u8>>,
    ) -> Result<String> {
        let fleet = self.fleet().ok_or(Error::Closed)?;
        let args = args
            .into_iter()
            .map(|input| match input {
                Input::Value(bytes, refs) => Ok(InboxArg::Value(bytes.to_vec(), refs)),
                Input::Object(id, fingerprint) => Ok(InboxArg::Object(id, fingerprint)),
                _ => Err(Error::Codec {
                    message: format!(
                        "a call of `{}` on actor `{actor}`, which another worker serves, takes \
                         values, not outputs of other tasks",
                        method.name
                    ),
                }),
            })
            .collect::<Result<Vec<_>>>()?;
        let entry = InboxEntry {
            method: method.name.to_string(),
            writes,
            args,
            origin,
            queued: None,
            taken_us: 0,
        };
        let nonce = u64::from_le_bytes(ObjectId::new().0[..8].try_into().expect("8 bytes"));
        let key = inbox_key(actor, now_us(), nonce);
        let mut messages = fleet.messages();
        let mut batch = Batch::new();
        batch.put(ACTOR_INBOX, key.clone(), encode(&entry)?);
        self.committer
            .commit(batch)
            .await
            .map_err(Error::from_storage)?;
        fleet.send(&format!("inbox {actor}")).await?;
        loop {
            let bytes = self
                .store
                .get(ACTOR_INBOX, &key)
                .await?
                .ok_or_else(|| Error::Corrupt {
                    keyspace: ACTOR_INBOX.name(),
                    key: workflow_storage::render_key(&key),
                    reason: "a queued call went missing".to_string(),
                })?;
            let entry: InboxEntry = decode(ACTOR_INBOX, &key, &bytes)?;
            if let Some(queued) = entry.queued {
                let mut batch = Batch::new();
                batch.delete(ACTOR_INBOX, key);
                self.committer
                    .commit(batch)
                    .await
                    .map_err(Error::from_storage)?;
                return queued.map_err(|reason| Error::IncompatibleTask {
                    task: entry.method,
                    reason: format!(
                        "the worker serving actor `{actor}` refused the call: {reason}"
                    ),
                });
            }
            if !heard(
                &mut messages,
                |message| matches!(message, Message::Queued(a) if *a == actor),
            )
            .await
            {
                // Nobody said a word: remind the serving worker, or serve the actor here if
                // nobody does.
                fleet.send(&format!("inbox {actor}")).await?;
                self.serve_if_free(actor).await?;
            }
        }
    }

    /// Starts serving `actor` here if no live worker does.
    async fn serve_if_free(self: &Arc<Self>, actor: &str) -> Result<()> {
        match self.load_actor(actor).await {
            Ok(()) => {
                self.drain_inbox(actor).await;
                Ok(())
            }
            Err(Error::ActorElsewhere { .. }) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// Numbers and stores the calls queued in the inbox of `actor`, which this worker
    /// serves, one at a time in the order of their keys; tells the callers.
    pub(crate) async fn drain_inbox(self: &Arc<Self>, actor: &str) {
        let lock = self.actors.inbox_lock_of(actor);
        let _draining = lock.lock().await;
        if let Err(error) = self.drain_inbox_inner(actor).await {
            tracing::warn!(actor, %error, "cannot take in the calls queued for an actor");
        }
    }

    async fn drain_inbox_inner(self: &Arc<Self>, actor: &str) -> Result<()> {
        let prefix = calls_prefix(actor);
        let queued = self.store.scan_prefix(ACTOR_INBOX, &prefix).await?;
        let mut taken = 0;
        let mut stale = Batch::new();
        let stale_before = now_us().saturating_sub(STALE_AFTER.as_micros() as u64);
        for (key, bytes) in queued {
            let entry: InboxEntry = match decode(ACTOR_INBOX, &key, &bytes) {
                Ok(entry) => entry,
                Err(error) => {
                    // Nobody can take it in: out of the way of the calls behind it.
                    tracing::warn!(actor, %error, "dropping a queued call that cannot be read");
                    stale.delete(ACTOR_INBOX, key);
                    continue;
                }
            };
            if entry.queued.is_some() {
                // Taken in long ago, and its caller never came back for it: it died.
                if entry.taken_us < stale_before {
                    stale.delete(ACTOR_INBOX, key);
                }
                continue;
            }
            match self.take_in(actor, key.clone(), entry).await {
                Ok(()) => taken += 1,
                // The store or the engine failed: the entry waits for the next drain.
                Err(error @ (Error::Storage(_) | Error::Closed)) => return Err(error),
                // The call cannot be queued: its caller hears why, and the calls behind it go.
                Err(error) => {
                    let bytes = self.store.get(ACTOR_INBOX, &key).await?;
                    let Some(bytes) = bytes else { continue };
                    let entry: InboxEntry = decode(ACTOR_INBOX, &key, &bytes)?;
                    self.mark_taken(key, entry, Err(error.to_string())).await?;
                    taken += 1;
                }
            }
        }
        if taken > 0 {
            if let Some(fleet) = self.fleet() {
                fleet.send(&format!("queued {actor}")).await?;
            }
        }
        if !stale.is_empty() {
            self.committer
                .commit(stale)
                .await
                .map_err(Error::from_storage)?;
        }
        Ok(())
    }

    /// Numbers and stores the call of inbox entry `key`.
    async fn take_in(
        self: &Arc<Self>,
        actor: &str,
        key: Vec<u8>,
        mut entry: InboxEntry,
    ) -> Result<()> {
        let method =
            *Registry::global()
                .get(&entry.method)
                .ok_or_else(|| Error::IncompatibleTask {
                    task: entry.method.clone(),
                    reason: format!(
                        "no actor method of this name is linked into the program serving actor \
                     `{actor}`"
                    ),
                })?;
        let args = entry
            .args
            .drain(..)
            .map(|arg| match arg {
                InboxArg::Value(bytes, refs) => Input::Value(bytes.into(), refs),
                InboxArg::Object(id, fingerprint) => Input::Object(id, fingerprint),
            })
            .collect();
        let origin = entry.origin.clone();
        let writes = entry.writes;
        self.queue_call(actor, method, writes, args, origin, Some((key, entry)))
            .await
            .map(drop)
    }

    /// Marks inbox entry `key` taken in: `queued` is its call's id, or why it could not be
    /// queued.
    pub(crate) async fn mark_taken(
        &self,
        key: Vec<u8>,
        mut entry: InboxEntry,
        queued: std::result::Result<String, String>,
    ) -> Result<()> {
        entry.queued = Some(queued);
        entry.taken_us = now_us();
        let mut batch = Batch::new();
        batch.put(ACTOR_INBOX, key, encode(&entry)?);
        self.committer
            .commit(batch)
            .await
            .map_err(Error::from_storage)
    }

    /// Waits for the end of call `id`, which another worker serves; serves its actor here if
    /// that worker is gone and nobody took it over.
    pub(crate) async fn wait_call_elsewhere(self: &Arc<Self>, id: &str) -> Result<()> {
        let Some((actor, _)) = parse_call_id(id) else {
            return Ok(());
        };
        let Some(fleet) = self.fleet() else {
            return Ok(());
        };
        let mut messages = fleet.messages();
        loop {
            // Resumable too is not an end: the worker serving the actor resumes it.
            let finished = crate::launch::read_record(&*self.store, id)
                .await?
                .is_none_or(|record| record.status.is_finished());
            if finished || self.lock().active.contains_key(id) {
                return Ok(());
            }
            if self.actors.is_loaded(actor) {
                // Served here (taken over meanwhile): make sure it runs.
                return match self.resume_stored(id).await {
                    Err(Error::TaskFailed { .. }) => Ok(()),
                    other => other,
                };
            }
            if !heard(
                &mut messages,
                |message| matches!(message, Message::Finished(ids) if ids.contains(&id)),
            )
            .await
            {
                self.serve_if_free(actor).await?;
            }
        }
    }

    /// Tells the fleet that call `id`, queued from another worker, ended.
    pub(crate) fn tell_call_ended(self: &Arc<Self>, id: &str) {
        let shared = Arc::clone(self);
        let message = format!("finished {id}");
        tokio::spawn(async move {
            if let Some(fleet) = shared.fleet() {
                if let Err(error) = fleet.send(&message).await {
                    tracing::debug!(%error, "cannot tell the fleet of an actor call's end");
                }
            }
        });
    }
}

/// Waits up to [`INBOX_POLL`] for a message that `wanted` accepts; false if none came.
async fn heard(
    messages: &mut broadcast::Receiver<String>,
    wanted: impl Fn(&Message<'_>) -> bool,
) -> bool {
    let listen = async {
        loop {
            match messages.recv().await {
                Ok(text) => {
                    if Message::parse(&text).is_some_and(|message| wanted(&message)) {
                        return true;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => return true,
                Err(broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
            }
        }
    };
    tokio::time::timeout(INBOX_POLL, listen)
        .await
        .unwrap_or(false)
}
