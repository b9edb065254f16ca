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

/// (actor id, microseconds since the Unix epoch on the caller's clock, a random number) ->
/// [`InboxEntry`]: calls
/// that workers of a fleet queued for the worker serving the actor, which numbers them in
/// the order of their keys.
pub(crate) const ACTOR_INBOX: Keyspace = Keyspace::new("actor_inbox");

/// A call queued by a worker that does not serve its actor.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct InboxEntry {
    /// The method's durable name.
    pub(crate) method: String,
    pub(crate) writes: bool,
    pub(crate) args: Vec<InboxArg>,
    /// The key in [`CALL_ORIGINS`] of the workflow step that made the call, if one did.
    pub(crate) origin: Option<Vec<u8>>,
    /// Set by the serving worker in the commit that stores the call: the call's workflow id,
    /// or why it could not be queued.
    pub(crate) queued: Option<std::result::Result<String, String>>,
    /// When the serving worker set `queued` (microseconds since the Unix epoch, its clock).
    pub(crate) taken_us: u64,
}

/// An argument of a queued call, as its [`Input`](crate::arg::Input) holds it.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum InboxArg {
    Value(
        #[serde(with = "serde_bytes")] Vec<u8>,
        Vec<crate::object::ObjectId>,
    ),
    Object(crate::object::ObjectId, u64),
}

/// The key of a call queued for actor `actor` at `time_us`, made unique by `nonce`.
pub(crate) fn inbox_key(actor: &str, time_us: u64, nonce: u64) -> Vec<u8> {
    KeyBuilder::with_capacity(actor.len() + 17)
        .str(actor)
        .u64(time_us)
        .u64(nonce)
        .build()
}

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
