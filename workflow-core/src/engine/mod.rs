//! `Engine`: runs workflows durably on a store.

mod actor_inbox;
mod actor_list;
mod actors;
mod builder;
mod events;
mod fleet;
mod inspect;
mod json;
mod listing;
mod manage;
mod messages;
mod queries;
mod running;
mod state;
mod stored;
mod submit;
mod taker;
mod timers;

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

pub use builder::EngineBuilder;
use workflow_storage::{Batch, FjallStore, Order, Storage, StorageError};

use crate::{
    actor::{records::parse_call_id, ActorSpace},
    admin::AdminServer,
    committer::Committer,
    object::ObjectSpace,
    records::{
        created_key, decode, encode, WorkflowRecord, CREATED, CREATED_INDEX_BUILT, META, WORKFLOWS,
    },
    registry::Registry,
    wait::EventHub,
    Dag, Result, TaskValue, WorkflowHandle, WorkflowStatus,
};
pub(crate) use state::EngineState;

/// Runs workflows and keeps their checkpoints in a store.
///
/// `Engine` is a cheap handle: clones share one engine. Dropping the last handle, or
/// [`close`](Engine::close), stops its workflows, which stay `Resumable` in the store.
///
/// # Examples
///
/// ```
/// use workflow::prelude::*;
///
/// #[task]
/// fn one() -> i64 { 1 }
///
/// #[task]
/// fn add(a: i64, b: i64) -> i64 { a + b }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> workflow::Result<()> {
/// let engine = Engine::temporary().await?;
/// let out: i64 = engine.run("run_1", add::bind(100, one::bind())).await?;
/// assert_eq!(out, 101);
/// assert_eq!(engine.status("run_1").await?, WorkflowStatus::Successful);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Engine {
    handle: Arc<EngineHandle>,
}

/// The user's handles share one of these; dropping it stops the engine.
struct EngineHandle {
    shared: Arc<Shared>,
    /// The admin socket, served while the engine is open.
    admin: Mutex<Option<AdminServer>>,
}

/// An engine that does not keep it open: its admin socket's.
#[derive(Clone)]
pub(crate) struct WeakEngine(std::sync::Weak<EngineHandle>);

impl WeakEngine {
    pub(crate) fn upgrade(&self) -> Option<Engine> {
        self.0.upgrade().map(|handle| Engine { handle })
    }
}

/// What the engine's handles, drivers and queries share.
pub(crate) struct Shared {
    pub(crate) store: Arc<dyn Storage>,
    pub(crate) registry: &'static Registry,
    pub(crate) committer: Committer,
    pub(crate) objects: Arc<ObjectSpace>,
    pub(crate) events: Arc<EventHub>,
    pub(crate) actors: Arc<ActorSpace>,
    pub(crate) state: Mutex<EngineState>,
    pub(crate) max_running: usize,
    pub(crate) max_pending: usize,
    /// Whether it takes up the fleet's waiting workflows.
    pub(crate) takes_fleet_work: bool,
    /// On a fleet: the steps of one workflow run here at once before others are offered,
    /// and the offered steps run here at once.
    pub(crate) fleet_task_slots: usize,
    pub(crate) path: Option<PathBuf>,
    pub(crate) temp_dir: Mutex<Option<tempfile::TempDir>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("path", &self.shared().path)
            .finish_non_exhaustive()
    }
}

impl Drop for EngineHandle {
    fn drop(&mut self) {
        self.shared.shut_down();
    }
}

impl Engine {
    /// Opens (or creates) the embedded store in folder `path`.
    ///
    /// Workflows that were running when the store's last process stopped become `Resumable`;
    /// `Pending` ones start again in arrival order.
    ///
    /// # Errors
    ///
    /// [`Error::Locked`](crate::Error::Locked) at once if another process holds the store.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("workflow-data");
    /// let engine = workflow::Engine::open(&path).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn open(path: impl AsRef<Path>) -> Result<Engine> {
        Engine::builder().path(path.as_ref()).build().await
    }

    /// Opens a fresh store in a temporary folder, removed when the engine is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// let engine = workflow::Engine::temporary().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn temporary() -> Result<Engine> {
        Engine::builder().build().await
    }

    /// Settings beyond the path: durability and queue limits.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// let engine = workflow::Engine::builder().max_running_workflows(4).build().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }

    pub(crate) async fn start(settings: EngineBuilder) -> Result<Engine> {
        let registry = Registry::global();
        #[cfg(feature = "postgres")]
        let settings = {
            let mut settings = settings;
            if let Some(postgres) = settings.postgres.take() {
                if postgres.url.is_empty() {
                    return Err(StorageError::InvalidConfig {
                        reason: "a PostgreSQL schema is set but no URL: call \
                                 EngineBuilder::postgres(url)"
                            .to_string(),
                    }
                    .into());
                }
                let store = workflow_storage::PgStore::connect_with_lease(
                    &postgres.url,
                    &postgres.schema,
                    postgres.lease,
                )
                .await?;
                settings.storage = Some(Arc::new(store));
            }
            settings
        };
        let (store, path, temp_dir) = match (settings.storage.clone(), settings.path.clone()) {
            (Some(store), path) => (store, path, None),
            (None, path) => {
                let (path, temp_dir) = match path {
                    Some(path) => (path, None),
                    None => {
                        let dir = tempfile::Builder::new()
                            .prefix("workflow-")
                            .tempdir()
                            .map_err(|source| StorageError::Io { path: None, source })?;
                        (dir.path().join("store"), Some(dir))
                    }
                };
                let open_path = path.clone();
                let store = tokio::task::spawn_blocking(move || FjallStore::open(open_path))
                    .await
                    .map_err(|e| StorageError::Backend {
                        message: format!("opening the store panicked: {e}"),
                    })??;
                let store: Arc<dyn Storage> = Arc::new(store);
                (store, Some(path), temp_dir)
            }
        };
        let committer = Committer::start(store.clone(), settings.durability);
        let objects = Arc::new(ObjectSpace::new(
            store.clone(),
            committer.clone(),
            settings.object_cache_bytes,
        ));
        let events = Arc::new(EventHub::new(store.clone()));
        let actors = Arc::new(ActorSpace::new(store.clone()));
        let shared = Arc::new(Shared {
            store,
            registry,
            committer,
            objects,
            events,
            actors,
            state: Mutex::new(EngineState::default()),
            max_running: settings.max_running,
            max_pending: settings.max_pending,
            takes_fleet_work: settings.takes_fleet_work,
            fleet_task_slots: settings.fleet_task_slots,
            path,
            temp_dir: Mutex::new(temp_dir),
        });
        shared.recover().await?;
        fleet::start(&shared);
        let engine = Engine {
            handle: Arc::new(EngineHandle {
                shared,
                admin: Mutex::new(None),
            }),
        };
        if let (true, None, Some(folder)) = (
            settings.admin_socket,
            &settings.storage,
            &engine.shared().path,
        ) {
            let weak = WeakEngine(Arc::downgrade(&engine.handle));
            match AdminServer::start(folder, weak) {
                Ok(server) => {
                    *engine
                        .handle
                        .admin
                        .lock()
                        .unwrap_or_else(|p| p.into_inner()) = Some(server)
                }
                Err(error) => tracing::warn!(
                    folder = %folder.display(),
                    %error,
                    "cannot serve the admin socket; the command line cannot reach this engine"
                ),
            }
        }
        Ok(engine)
    }

    /// Stops serving the admin socket.
    pub(crate) fn stop_admin(&self) {
        let server = self
            .handle
            .admin
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        drop(server);
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.handle.shared
    }

    /// Runs `dag` as workflow `id` and returns its output.
    ///
    /// If `id` exists already: with the same DAG, a finished workflow returns its stored output
    /// and runs nothing, a `Resumable` one resumes, a running one is waited for; a `Failed`
    /// one is [`Error::TaskFailed`](crate::Error::TaskFailed) and a `Canceled` one
    /// [`Error::Canceled`](crate::Error::Canceled). A different DAG under the same id is
    /// [`Error::AlreadyExists`](crate::Error::AlreadyExists).
    ///
    /// # Durability
    ///
    /// Every task's output is checkpointed before any task that depends on it starts.
    ///
    /// # Examples
    ///
    /// ```
    /// # use workflow::prelude::*;
    /// # #[task] fn one() -> i64 { 1 }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// let engine = Engine::temporary().await?;
    /// assert_eq!(engine.run("w1", one::bind()).await?, 1);
    /// assert_eq!(engine.run("w1", one::bind()).await?, 1); // stored, not run again
    /// # Ok(())
    /// # }
    /// ```
    pub async fn run<T: TaskValue>(&self, id: &str, dag: Dag<T>) -> Result<T> {
        self.spawn_with(id, &dag, None).await?.output().await
    }

    /// Starts `dag` as workflow `id` and returns at once with a handle to its output.
    ///
    /// # Durability
    ///
    /// When this returns, the workflow is stored: a new process can resume it.
    ///
    /// # Examples
    ///
    /// ```
    /// # use workflow::prelude::*;
    /// # #[task] fn one() -> i64 { 1 }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// let engine = Engine::temporary().await?;
    /// let handle = engine.spawn("w2", one::bind()).await?;
    /// assert_eq!(handle.id(), "w2");
    /// assert_eq!(handle.output().await?, 1);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn spawn<T: TaskValue>(&self, id: &str, dag: Dag<T>) -> Result<WorkflowHandle<T>> {
        self.spawn_with(id, &dag, None).await
    }

    pub(crate) async fn spawn_with<T: TaskValue>(
        &self,
        id: &str,
        dag: &Dag<T>,
        metadata: Option<serde_json::Value>,
    ) -> Result<WorkflowHandle<T>> {
        let finish = self.shared().submit(id, dag, metadata).await?;
        Ok(WorkflowHandle::new(self.clone(), id.to_string()).watching(finish))
    }
}

impl Shared {
    /// Marks workflows left `Running` by a stopped process `Resumable`, and queues `Pending`
    /// ones again in arrival order. On a fleet, where other workers may be running them,
    /// it only makes sure each has a claim, which a worker takes.
    async fn recover(self: &Arc<Self>) -> Result<()> {
        let in_fleet = self.fleet().is_some();
        let mut batch = Batch::new();
        let mut pending: Vec<(u64, String, u64)> = Vec::new();
        let mut unfinished: Vec<String> = Vec::new();
        // Actors with unfinished calls, claimed once each.
        let mut served = std::collections::HashSet::new();
        let mut next_seq = 0;
        let index_built = self.store.get(META, CREATED_INDEX_BUILT).await?.is_some();
        let mut after: Option<Vec<u8>> = None;
        loop {
            // Page by page, so opening a large store never holds every head record at once.
            let page = self
                .store
                .scan_page(WORKFLOWS, &[], after.as_deref(), Order::Ascending, 1024)
                .await?;
            let last_page = page.len() < 1024;
            for (key, bytes) in page {
                let record: WorkflowRecord = match decode(WORKFLOWS, &key, &bytes) {
                    Ok(record) => record,
                    Err(error) => {
                        tracing::warn!(%error, "skipping a workflow record that cannot be decoded");
                        if !index_built {
                            // Listed (as the oldest), so listings name it too.
                            let id = String::from_utf8_lossy(&key);
                            batch.put(CREATED, created_key(0, &id), []);
                        }
                        after = Some(key);
                        continue;
                    }
                };
                next_seq = next_seq.max(record.queue_seq + 1);
                if in_fleet {
                    if matches!(
                        record.status,
                        WorkflowStatus::Running | WorkflowStatus::Pending
                    ) {
                        let id = String::from_utf8_lossy(&key).into_owned();
                        // A call runs where its actor is served: the actor gets the claim.
                        match parse_call_id(&id) {
                            Some((actor, _)) => {
                                if served.insert(actor.to_string()) {
                                    unfinished.push(format!("actor {actor}"));
                                }
                            }
                            None => unfinished.push(id),
                        }
                    }
                    if !index_built {
                        let id = String::from_utf8_lossy(&key);
                        if parse_call_id(&id).is_none() {
                            batch.put(CREATED, created_key(record.created_us, &id), []);
                        }
                    }
                } else {
                    recover_one(&key, record, index_built, &mut batch, &mut pending)?;
                }
                after = Some(key);
            }
            if last_page {
                break;
            }
        }
        if !index_built {
            batch.put(META, CREATED_INDEX_BUILT, []);
        }
        if !batch.is_empty() {
            self.committer
                .commit(batch)
                .await
                .map_err(crate::Error::from_storage)?;
        }
        self.claim_orphans(unfinished).await?;
        pending.sort();
        {
            let mut state = self.lock();
            state.next_queue_seq = next_seq;
            for (_, id, dag_hash) in pending {
                state.enqueue_stored(id.into(), dag_hash);
            }
        }
        self.pump();
        Ok(())
    }
}

/// What opening the store does for one stored workflow: one left `Running` becomes
/// `Resumable`, a `Pending` one is queued again, and a store older than the creation index
/// gets its entry.
fn recover_one(
    key: &[u8],
    mut record: WorkflowRecord,
    index_built: bool,
    batch: &mut Batch,
    pending: &mut Vec<(u64, String, u64)>,
) -> Result<()> {
    let id = String::from_utf8_lossy(key);
    if !index_built && parse_call_id(&id).is_none() {
        batch.put(CREATED, created_key(record.created_us, &id), []);
    }
    match record.status {
        WorkflowStatus::Running => {
            record.status = WorkflowStatus::Resumable;
            batch.put(WORKFLOWS, key.to_vec(), encode(&record)?);
        }
        WorkflowStatus::Pending => {
            pending.push((record.queue_seq, id.into_owned(), record.dag_hash))
        }
        _ => {}
    }
    Ok(())
}
