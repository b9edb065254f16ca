//! What the inspection of actors returns: [`Engine::actors_page`](crate::Engine::actors_page)
//! and [`Engine::actor_detail`](crate::Engine::actor_detail).

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::WorkflowInfo;

/// One actor, as listed.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ActorInfo {
    /// The actor id.
    pub id: String,
    /// Its type's durable name (`#[virtual_actor(name = ..)]`, by default module path and
    /// type name).
    pub type_name: String,
    /// How many calls it was given.
    pub calls: u64,
    /// When it was created.
    pub created_time: SystemTime,
}

/// A page of actors, and the cursor of the next one.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ActorPage {
    /// The actors, in id order.
    pub actors: Vec<ActorInfo>,
    /// Where the next page starts: pass it as `after`; `None` on the last page.
    pub next: Option<String>,
}

/// One actor in detail: its state and its recent calls.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ActorDetail {
    /// Who it is.
    pub actor: ActorInfo,
    /// Its last committed state as JSON, when this program links the actor's type.
    pub state: Option<serde_json::Value>,
    /// Why `state` is `None`.
    pub state_error: Option<String>,
    /// The size of its encoded state.
    pub state_bytes: u64,
    /// Its last calls (at most 20), newest first. A call's workflow id is `{actor}@{n}`.
    pub recent_calls: Vec<WorkflowInfo>,
}
