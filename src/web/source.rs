//! Where the view reads and what it can change: an engine of this process, or the engine of
//! the running program that holds the store, through its admin socket.

use tokio::sync::watch;

use crate::{
    admin::AdminClient, ActorDetail, ActorPage, Engine, Error, ListQuery, Progress, Result,
    StoreStats, Waits, WorkflowMetadata, WorkflowPage, WorkflowStatus,
};

/// The engine behind the view.
#[derive(Clone)]
pub(crate) enum Source {
    /// An engine of this process. `embedded` when the program that runs the workflows
    /// serves the view: it links their task types, so it can resume them, show outputs
    /// and send events.
    Engine { engine: Engine, embedded: bool },
    /// The engine of another process, which holds the store.
    Admin(AdminClient),
}

impl Source {
    /// Whether the view links the workflows' task types.
    pub(crate) fn embedded(&self) -> bool {
        matches!(self, Source::Engine { embedded: true, .. })
    }

    /// The engine of this process, for what only the program's own binary can do.
    pub(crate) fn embedded_engine(&self) -> Option<&Engine> {
        match self {
            Source::Engine {
                engine,
                embedded: true,
            } => Some(engine),
            _ => None,
        }
    }

    pub(crate) async fn list_page(&self, query: &ListQuery) -> Result<WorkflowPage> {
        match self {
            Source::Engine { engine, .. } => engine.list_page(query).await,
            Source::Admin(client) => client.list_page(query).await,
        }
    }

    pub(crate) async fn stats(&self) -> Result<StoreStats> {
        match self {
            Source::Engine { engine, .. } => engine.stats().await,
            Source::Admin(client) => client.stats().await,
        }
    }

    pub(crate) async fn metadata(&self, id: &str) -> Result<WorkflowMetadata> {
        match self {
            Source::Engine { engine, .. } => engine.metadata(id).await,
            Source::Admin(client) => client.show(id).await,
        }
    }

    pub(crate) async fn waits(&self, id: &str) -> Result<Waits> {
        match self {
            Source::Engine { engine, .. } => engine.waits(id).await,
            Source::Admin(client) => client.waits(id).await,
        }
    }

    /// The progress of workflow `id` now.
    pub(crate) async fn progress_now(&self, id: &str) -> Result<Progress> {
        match self {
            Source::Engine { engine, .. } => Ok(*engine.progress(id).await?.borrow()),
            Source::Admin(client) => client.progress_now(id).await,
        }
    }

    /// The progress of workflow `id` as it changes; the watch closes when its run ends
    /// (at once for a workflow that does not run).
    pub(crate) async fn progress(&self, id: &str) -> Result<watch::Receiver<Progress>> {
        match self {
            Source::Engine { engine, .. } => engine.progress(id).await,
            Source::Admin(client) => {
                let first = client.progress_now(id).await?;
                let (send, receive) = watch::channel(first);
                let (client, id) = (client.clone(), id.to_string());
                tokio::spawn(async move {
                    // Ends when the run ends, the engine goes, or nobody follows it.
                    let watch = client.watch(&id, |now| {
                        let _ = send.send(now);
                    });
                    tokio::select! {
                        _ = watch => {}
                        _ = send.closed() => {}
                    }
                });
                Ok(receive)
            }
        }
    }

    pub(crate) async fn actors_page(
        &self,
        type_name: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<ActorPage> {
        match self {
            Source::Engine { engine, .. } => engine.actors_page(type_name, after, limit).await,
            Source::Admin(client) => client.actors_page(type_name, after, limit).await,
        }
    }

    pub(crate) async fn actor_detail(&self, id: &str) -> Result<ActorDetail> {
        match self {
            Source::Engine { engine, .. } => engine.actor_detail(id).await,
            Source::Admin(client) => client.actor_detail(id).await,
        }
    }

    /// Cancels workflow `id`; its status after.
    pub(crate) async fn cancel(&self, id: &str) -> Result<WorkflowStatus> {
        match self {
            Source::Engine { engine, .. } => {
                engine.cancel(id).await?;
                engine.status(id).await
            }
            Source::Admin(client) => client.cancel(id).await,
        }
    }

    pub(crate) async fn delete(&self, id: &str) -> Result<()> {
        match self {
            Source::Engine { engine, .. } => engine.delete(id).await,
            Source::Admin(client) => client.delete(id).await,
        }
    }

    /// The output of task `task_id` as JSON, where the view links its type.
    pub(crate) async fn task_output(&self, id: &str, task_id: &str) -> Result<serde_json::Value> {
        match self.embedded_engine() {
            Some(engine) => engine.task_output_json(id, task_id).await,
            None => Err(Error::Codec {
                message: "outputs show where the program that runs the workflows serves this \
                          view (workflow::web::router)"
                    .to_string(),
            }),
        }
    }
}
