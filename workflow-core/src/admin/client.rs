//! The command line's end of the admin socket.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::UnixStream,
};

use super::{Reply, Request, SOCKET};
use crate::{
    ActorDetail, ActorPage, Error, ListQuery, Progress, Result, StoreStats, Waits, WorkflowInfo,
    WorkflowMetadata, WorkflowPage, WorkflowStatus, MAX_PAGE,
};

/// A connection to the engine of the running program that holds a store.
///
/// # Examples
///
/// ```
/// # use workflow::prelude::*;
/// # use workflow::admin::AdminClient;
/// # #[task] fn one() -> i64 { 1 }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> workflow::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// let engine = Engine::open(dir.path()).await?;
/// engine.run("w", one::bind()).await?;
/// // From another process (here, the same one), while `engine` holds the store:
/// let client = AdminClient::new(dir.path());
/// let listed = client.list(None).await?;
/// assert_eq!(listed[0].id, "w");
/// assert_eq!(client.show("w").await?.status, WorkflowStatus::Successful);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct AdminClient {
    socket: PathBuf,
}

impl AdminClient {
    /// A client of the engine holding the store in folder `store`.
    pub fn new(store: impl AsRef<Path>) -> AdminClient {
        AdminClient {
            socket: store.as_ref().join(SOCKET),
        }
    }

    /// The workflows, or those with status `status`, as [`Engine::list`](crate::Engine::list).
    ///
    /// # Errors
    ///
    /// [`Error::Admin`] if no engine answers on the socket, or with the engine's own error
    /// if it refused the request.
    pub async fn list(&self, status: Option<WorkflowStatus>) -> Result<Vec<WorkflowInfo>> {
        let mut query = ListQuery::new().limit(MAX_PAGE);
        query.status = status;
        let mut out = Vec::new();
        loop {
            let page = self.list_page(&query).await?;
            out.extend(page.workflows);
            match page.next {
                Some(next) => query = query.after(next),
                None => return Ok(out),
            }
        }
    }

    /// One page of the workflows, as [`Engine::list_page`](crate::Engine::list_page).
    ///
    /// # Errors
    ///
    /// As [`list`](AdminClient::list).
    pub async fn list_page(&self, query: &ListQuery) -> Result<WorkflowPage> {
        let query = query.clone();
        self.call(Request::ListPage { query }, |_| {}).await
    }

    /// A workflow's metadata, as [`Engine::metadata`](crate::Engine::metadata).
    pub async fn show(&self, id: &str) -> Result<WorkflowMetadata> {
        self.call(Request::Show { id: id.to_string() }, |_| {})
            .await
    }

    /// What a workflow waits for, as [`Engine::waits`](crate::Engine::waits).
    pub async fn waits(&self, id: &str) -> Result<Waits> {
        self.call(Request::Events { id: id.to_string() }, |_| {})
            .await
    }

    /// The store's counts, as [`Engine::stats`](crate::Engine::stats).
    pub async fn stats(&self) -> Result<StoreStats> {
        self.call(Request::Stats, |_| {}).await
    }

    /// Cancels a workflow, as [`Engine::cancel`](crate::Engine::cancel); its status after.
    pub async fn cancel(&self, id: &str) -> Result<WorkflowStatus> {
        self.call(Request::Cancel { id: id.to_string() }, |_| {})
            .await
    }

    /// A workflow's progress now, as [`Engine::progress`](crate::Engine::progress) holds
    /// it.
    pub async fn progress_now(&self, id: &str) -> Result<Progress> {
        self.call(Request::ProgressNow { id: id.to_string() }, |_| {})
            .await
    }

    /// A page of actors, as [`Engine::actors_page`](crate::Engine::actors_page).
    pub async fn actors_page(
        &self,
        type_name: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<ActorPage> {
        let request = Request::Actors {
            type_name: type_name.map(str::to_string),
            after: after.map(str::to_string),
            limit,
        };
        self.call(request, |_| {}).await
    }

    /// One actor, as [`Engine::actor_detail`](crate::Engine::actor_detail).
    pub async fn actor_detail(&self, id: &str) -> Result<ActorDetail> {
        self.call(Request::Actor { id: id.to_string() }, |_| {})
            .await
    }

    /// Deletes a finished workflow, as [`Engine::delete`](crate::Engine::delete).
    pub async fn delete(&self, id: &str) -> Result<()> {
        self.call(Request::Delete { id: id.to_string() }, |_| {})
            .await
    }

    /// Calls `each` with a workflow's progress as it changes, until its run in the engine
    /// ends; its status then.
    pub async fn watch(&self, id: &str, each: impl FnMut(Progress)) -> Result<WorkflowStatus> {
        self.call(Request::Progress { id: id.to_string() }, each)
            .await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        request: Request,
        mut progress: impl FnMut(Progress),
    ) -> Result<T> {
        let unreachable = |reason: String| Error::Admin {
            socket: self.socket.clone(),
            reason,
        };
        let mut stream = UnixStream::connect(&self.socket).await.map_err(|error| {
            unreachable(format!("no engine answers on the admin socket: {error}"))
        })?;
        let mut line = serde_json::to_vec(&request).map_err(|e| unreachable(e.to_string()))?;
        line.push(b'\n');
        stream
            .write_all(&line)
            .await
            .map_err(|error| unreachable(format!("the engine went away: {error}")))?;
        let mut lines = BufReader::new(stream).lines();
        loop {
            let line = lines
                .next_line()
                .await
                .map_err(|error| unreachable(format!("the engine went away: {error}")))?
                .ok_or_else(|| unreachable("the engine closed the connection".to_string()))?;
            let reply: Reply = serde_json::from_str(&line)
                .map_err(|error| unreachable(format!("not an answer: {error}")))?;
            match reply {
                Reply::Progress(now) => progress(now),
                Reply::Ok(value) => {
                    return serde_json::from_value(value)
                        .map_err(|error| unreachable(format!("not an answer: {error}")))
                }
                Reply::Error(message) => return Err(unreachable(message)),
                Reply::StillRunning { id } => return Err(Error::StillRunning { id }),
                Reply::Missing { what, id } => {
                    return Err(Error::NotFound {
                        what: known_kind(&what),
                        id,
                    })
                }
            }
        }
    }
}

/// The kind of a missing record the engine named, as [`Error::NotFound`] names it.
fn known_kind(what: &str) -> &'static str {
    const KINDS: [&str; 6] = [
        "workflow",
        "actor",
        "task",
        "checkpointed output of task",
        "event wait",
        "workflow or actor",
    ];
    KINDS
        .into_iter()
        .find(|kind| *kind == what)
        .unwrap_or("record")
}
