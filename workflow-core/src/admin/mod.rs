//! The admin socket: how a command line reaches the engine of a running program.
//!
//! A store is held by one process at a time, so while a program runs, a second process
//! cannot open its store. An engine on a store folder therefore serves a Unix socket in that
//! folder, `admin.sock` (readable and writable by its owner only), and answers inspection
//! requests on it: list, show, events, stats, progress, actors, cancel and delete. [`AdminClient`] is its
//! other end; the `workflow` command line uses it when it finds a store held.
//!
//! The protocol is one JSON request per connection, answered by JSON lines: a progress
//! request streams one `{"progress": ..}` line per change, then every request ends with
//! `{"ok": ..}` or `{"error": ".."}`.

mod client;
mod server;

pub use client::AdminClient;
pub(crate) use server::AdminServer;

use serde::{Deserialize, Serialize};

use crate::{ListQuery, Progress};

/// The name of the socket in a store folder.
pub const SOCKET: &str = "admin.sock";

/// A request to a running engine.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub(crate) enum Request {
    ListPage {
        query: ListQuery,
    },
    Show {
        id: String,
    },
    Events {
        id: String,
    },
    Stats,
    Progress {
        id: String,
    },
    /// The progress now, without following it.
    ProgressNow {
        id: String,
    },
    Actors {
        type_name: Option<String>,
        after: Option<String>,
        limit: usize,
    },
    Actor {
        id: String,
    },
    Cancel {
        id: String,
    },
    Delete {
        id: String,
    },
}

/// One line of an answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Reply {
    /// A change of progress, while a progress request runs.
    Progress(Progress),
    /// The answer.
    Ok(serde_json::Value),
    /// The engine's error, as text.
    Error(String),
    /// The engine knows no `what` named `id`.
    Missing { what: String, id: String },
    /// Workflow `id` runs, and cannot be changed so.
    StillRunning { id: String },
}
