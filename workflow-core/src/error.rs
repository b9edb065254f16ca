//! The error type of `workflow`.

use std::{path::PathBuf, sync::Arc};

use workflow_storage::StorageError;

use crate::{TaskError, WorkflowStatus};

/// The result type of `workflow`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong when running or inspecting workflows.
///
/// # Examples
///
/// ```
/// use workflow::prelude::*;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> workflow::Result<()> {
/// let engine = Engine::temporary().await?;
/// match engine.status("no-such-workflow").await {
///     Err(Error::NotFound { .. }) => {}
///     other => panic!("unexpected {other:?}"),
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No workflow, task or actor has this id.
    #[error("no {what} `{id}` in this store")]
    NotFound {
        /// What was looked for: "workflow", "task", ...
        what: &'static str,
        /// The id that was not found.
        id: String,
    },
    /// A writer call of an actor waited, in its own workflow, for another writer call of the
    /// same actor, which can only run after it: a wait that would never end.
    #[error("a writer call of actor `{actor}` cannot call its writer `{method}`: that call would run only after the caller finished; call a `&self` method, or change the state in the caller itself")]
    WriterWaitsForItself {
        /// The actor's id.
        actor: String,
        /// The durable name of the method called.
        method: String,
    },
    /// A call was run or spawned through a handle that only builds steps of workflows.
    #[error("actor `{actor}`'s handle has no engine: run its calls through a handle from `get_actor(&engine, id)`, or use `.bind()` in a workflow")]
    Unbound {
        /// The actor's id.
        actor: String,
    },
    /// An actor id is taken by an actor of another type.
    #[error("actor `{id}` is a `{stored}`, not a `{requested}`; open it with its own type or pick another id")]
    ActorTypeMismatch {
        /// The actor's id.
        id: String,
        /// The durable name of the stored actor's type.
        stored: String,
        /// The durable name of the type it was opened as.
        requested: String,
    },
    /// On a store shared by a fleet, another live worker serves the actor, so this process
    /// cannot run the call asked for (`resume` of one of its calls): an actor's calls run in
    /// the one worker that serves it. Calls made with `.run()`, `.spawn()` and `.bind()` go
    /// to that worker by themselves.
    #[error("actor `{id}` is served by worker {worker} of the fleet; its calls run there (call it, or wait for the call's output, from any process)")]
    ActorElsewhere {
        /// The actor's id.
        id: String,
        /// The number of the worker that serves it.
        worker: i64,
    },
    /// The workflow id is taken by a workflow with a different DAG.
    #[error("workflow `{id}` already exists with a different DAG; pick a new id or delete the old workflow")]
    AlreadyExists {
        /// The workflow id.
        id: String,
    },
    /// A task failed after all its attempts, and so did its workflow.
    #[error("task `{task_id}` of workflow `{workflow_id}` {error}")]
    TaskFailed {
        /// The workflow id.
        workflow_id: String,
        /// The id of the task that failed.
        task_id: String,
        /// The task's failure.
        error: TaskError,
    },
    /// The workflow was canceled.
    #[error("workflow `{id}` was canceled")]
    Canceled {
        /// The workflow id.
        id: String,
    },
    /// The workflow has not finished and is not running here: resume it first.
    #[error("workflow `{id}` is {status:?}, not finished; resume it to get its output")]
    NotFinished {
        /// The workflow id.
        id: String,
        /// Its status.
        status: WorkflowStatus,
    },
    /// The workflow's run in this process stopped unexpectedly; it stays in the store and can
    /// be resumed.
    #[error("workflow `{id}` was interrupted: {reason}; resume it to continue")]
    Interrupted {
        /// The workflow id.
        id: String,
        /// What stopped it.
        reason: String,
    },
    /// An id is malformed.
    #[error("invalid id `{id}`: {reason}")]
    InvalidId {
        /// The id as given (possibly shortened).
        id: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The store failed; the message is the store's, which says what to do.
    #[error(transparent)]
    Storage(Arc<StorageError>),
    /// A value could not be encoded, decoded, or was read as another type.
    #[error("{message}")]
    Codec {
        /// What failed, naming the types involved.
        message: String,
    },
    /// A stored step's task is missing from this program or changed its version or signature.
    #[error("task `{task}` of the stored workflow does not match this program: {reason}; run the workflow with the code that started it, or delete it")]
    IncompatibleTask {
        /// The task's durable name.
        task: String,
        /// What differs: stored and current version or signature.
        reason: String,
    },
    /// The store is held by another process.
    #[error("the store at `{}` is locked by another process; stop that process or use another folder", path.display())]
    Locked {
        /// The store's folder.
        path: PathBuf,
    },
    /// Too many workflows are waiting to run.
    #[error("{limit} workflows are already pending; retry later or raise max_pending_workflows")]
    QueueFull {
        /// The configured `max_pending_workflows`.
        limit: usize,
    },
    /// The workflow is running or pending, so it cannot be deleted.
    #[error("workflow `{id}` is still running; cancel it or wait for it first")]
    StillRunning {
        /// The workflow id.
        id: String,
    },
    /// A stored record cannot be decoded.
    #[error("record `{key}` in `{keyspace}` is corrupt: {reason}")]
    Corrupt {
        /// The keyspace of the record.
        keyspace: &'static str,
        /// The record's key, readable.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A stored step names a task that two tasks of this program share, so its code is
    /// ambiguous.
    #[error("two tasks of this program are named `{name}`; give them distinct names with `#[task(name = \"...\")]`")]
    DuplicateTask {
        /// The shared name.
        name: String,
    },
    /// The engine was closed.
    #[error("the engine is closed")]
    Closed,
    /// A request through a store's [admin socket](crate::admin) failed: no engine answers
    /// (no program holds the store, or it stopped answering), or it refused the request.
    #[error("admin socket {}: {reason}", socket.display())]
    Admin {
        /// The socket.
        socket: std::path::PathBuf,
        /// What went wrong, or the engine's own error.
        reason: String,
    },
}

impl From<StorageError> for Error {
    fn from(error: StorageError) -> Self {
        Error::from_storage(Arc::new(error))
    }
}

impl Error {
    pub(crate) fn from_storage(error: Arc<StorageError>) -> Self {
        match &*error {
            StorageError::Locked { path } => Error::Locked { path: path.clone() },
            StorageError::Corrupt {
                keyspace,
                key,
                reason,
            } => Error::Corrupt {
                keyspace,
                key: key.clone(),
                reason: reason.clone(),
            },
            StorageError::Closed => Error::Closed,
            _ => Error::Storage(error),
        }
    }
}
