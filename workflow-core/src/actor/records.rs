//! The records of virtual actors: who they are, their state, and their unfinished calls.

use serde::{Deserialize, Serialize};
use workflow_storage::{KeyBuilder, Keyspace};

/// Actor id -> [`ActorRecord`].
pub(crate) const ACTORS: Keyspace = Keyspace::new("actors");
/// Actor id -> the actor's state, postcard-encoded: the last committed one.
pub(crate) const ACTOR_STATE: Keyspace = Keyspace::new("actor_state");
/// Call workflow id -> the state a writer's method left when it returned a continuation,
/// made the actor's state when the call succeeds, dropped when it fails.
pub(crate) const ACTOR_PENDING: Keyspace = Keyspace::new("actor_pending");
/// (actor id, call number) -> [`CallEntry`]: calls not known to be finished. An index: an
/// entry whose call workflow finished (or is gone) is stale, and readers drop it.
pub(crate) const ACTOR_CALLS: Keyspace = Keyspace::new("actor_calls");

/// (workflow id, task id) -> the id of the actor call that step queued, written with the
/// call, so that a retried or resumed step waits for its call instead of queuing another.
pub(crate) const CALL_ORIGINS: Keyspace = Keyspace::new("call_origins");

/// An actor: its type's durable name and the number of its next call.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ActorRecord {
    pub(crate) type_name: String,
    pub(crate) next_call: u64,
    pub(crate) created_us: u64,
}

/// An unfinished call of an actor.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub(crate) struct CallEntry {
    /// Whether it is a writer (`&mut self`), which runs in turn.
    pub(crate) writes: bool,
}

/// The key of call `call` of actor `actor` in [`ACTOR_CALLS`].
pub(crate) fn call_key(actor: &str, call: u64) -> Vec<u8> {
    KeyBuilder::with_capacity(actor.len() + 9)
        .str(actor)
        .u64(call)
        .build()
}

/// The prefix of the calls of actor `actor` in [`ACTOR_CALLS`].
pub(crate) fn calls_prefix(actor: &str) -> Vec<u8> {
    KeyBuilder::new().str(actor).build()
}

/// The call number at the end of a key of [`ACTOR_CALLS`].
pub(crate) fn call_of_key(prefix_len: usize, key: &[u8]) -> Option<u64> {
    let bytes: [u8; 8] = key.get(prefix_len..)?.try_into().ok()?;
    Some(u64::from_be_bytes(bytes))
}

/// The workflow id of call `call` of actor `actor`: `{actor}@{call}`.
pub(crate) fn call_workflow_id(actor: &str, call: u64) -> String {
    format!("{actor}@{call}")
}

/// The actor id and call number of a call's workflow id; `None` for other workflows.
pub(crate) fn parse_call_id(id: &str) -> Option<(&str, u64)> {
    let (actor, call) = id.rsplit_once('@')?;
    Some((actor, call.parse().ok()?))
}
