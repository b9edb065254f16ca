//! `EngineBuilder`: the settings of an engine.

use std::{path::PathBuf, sync::Arc};

use workflow_storage::{Durability, MemoryStore, Storage};

use crate::{Engine, Result};

/// The default of [`EngineBuilder::fleet_task_slots`].
const DEFAULT_FLEET_TASK_SLOTS: usize = 256;

/// Settings for [`Engine::builder`].
///
/// # Examples
///
/// ```
/// use workflow::prelude::*;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> workflow::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// let engine = Engine::builder()
///     .path(dir.path().join("store"))
///     .durability(Durability::Buffered)
///     .max_running_workflows(64)
///     .max_pending_workflows(10_000)
///     .build()
///     .await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct EngineBuilder {
    pub(crate) path: Option<PathBuf>,
    pub(crate) storage: Option<Arc<dyn Storage>>,
    pub(crate) durability: Durability,
    pub(crate) max_running: usize,
    pub(crate) max_pending: usize,
    pub(crate) object_cache_bytes: u64,
    pub(crate) admin_socket: bool,
    pub(crate) takes_fleet_work: bool,
    pub(crate) fleet_task_slots: usize,
    /// The URL, schema and lease of a PostgreSQL store.
    #[cfg(feature = "postgres")]
    pub(crate) postgres: Option<PostgresSettings>,
}

impl Default for EngineBuilder {
    fn default() -> Self {
        EngineBuilder {
            path: None,
            storage: None,
            durability: Durability::Sync,
            max_running: 1_000,
            max_pending: 100_000,
            object_cache_bytes: 512 << 20,
            admin_socket: true,
            takes_fleet_work: true,
            fleet_task_slots: DEFAULT_FLEET_TASK_SLOTS,
            #[cfg(feature = "postgres")]
            postgres: None,
        }
    }
}

impl EngineBuilder {
    /// The folder of the embedded store; without it, a temporary store removed on drop.
    pub fn path(mut self, path: impl Into<PathBuf>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Runs on `storage` instead of an embedded fjall store: another backend of the
    /// [`Storage`] trait, or a wrapper around one.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// let store = workflow::storage::MemoryStore::new();
    /// let engine = workflow::Engine::builder().storage(store).build().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn storage(mut self, storage: impl Storage) -> Self {
        self.storage = Some(Arc::new(storage));
        self
    }

    /// Runs on a PostgreSQL database (feature `postgres`): `url` is
    /// `postgres://user:password@host:port/database`, and the store lives in schema
    /// `workflow` unless [`postgres_schema`](EngineBuilder::postgres_schema) names another.
    /// The schema and its tables are created, or migrated, when the engine is built.
    ///
    /// Any number of engines, in any processes, share a schema as a fleet: each workflow runs
    /// in one of them at a time, and the workflows of one that dies are taken over by the
    /// others (see `docs/scale-out.md`). It takes the place of
    /// [`path`](EngineBuilder::path) and [`storage`](EngineBuilder::storage). Connections are
    /// not encrypted: reach the server over a private network or a tunnel.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// let engine = workflow::Engine::builder()
    ///     .postgres("postgres://app@db.internal:5432/jobs")
    ///     .postgres_schema("nightly")
    ///     .build()
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "postgres")]
    pub fn postgres(mut self, url: impl Into<String>) -> Self {
        self.postgres.get_or_insert_with(Default::default).url = url.into();
        self
    }

    /// The schema of the PostgreSQL store (`workflow` by default): 1 to 63 lowercase
    /// letters, digits and `_`. Several stores can share a database in schemas of their own.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = workflow::Engine::builder()
    ///     .postgres("postgres://127.0.0.1/test")
    ///     .postgres_schema("nightly");
    /// assert!(format!("{builder:?}").contains("nightly"));
    /// ```
    #[cfg(feature = "postgres")]
    pub fn postgres_schema(mut self, schema: impl Into<String>) -> Self {
        self.postgres.get_or_insert_with(Default::default).schema = schema.into();
        self
    }

    /// How long the engine stays a worker of its PostgreSQL fleet without renewing its lease
    /// (5 seconds by default; renewed every third of that): past it, the other workers take
    /// its workflows over, and this one's writes are refused from then on
    /// ([`StorageError::Fenced`](workflow_storage::StorageError::Fenced)). A process that ends
    /// is noticed at once, whatever the lease (the advisory lock its connection held is freed).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = workflow::Engine::builder()
    ///     .postgres("postgres://127.0.0.1/test")
    ///     .postgres_lease(Duration::from_secs(30));
    /// # let _ = builder;
    /// ```
    #[cfg(feature = "postgres")]
    pub fn postgres_lease(mut self, lease: std::time::Duration) -> Self {
        self.postgres.get_or_insert_with(Default::default).lease = lease;
        self
    }

    /// Whether the engine takes up workflows that other workers of its fleet hand over or
    /// leave behind (default `true`). On a store shared by a fleet (PostgreSQL), a process
    /// that only starts, cancels and watches workflows (a web front end, the command line)
    /// sets `false`: it still runs the workflows it submits while it has free slots, and
    /// hands the others to the fleet. Without a fleet it changes nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = workflow::Engine::builder().takes_fleet_work(false);
    /// # let _ = builder;
    /// ```
    pub fn takes_fleet_work(mut self, takes: bool) -> Self {
        self.takes_fleet_work = takes;
        self
    }

    /// On a store shared by a fleet (PostgreSQL): how many steps of one workflow the engine
    /// runs at once before it offers the workflow's other ready steps to every worker of the
    /// fleet, and how many offered steps it runs at once for other workers (default 256).
    /// A wide fan-out thus spreads over the fleet while a chain runs where its workflow
    /// does. Without a fleet it changes nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// // Steps are heavy: run 8 per workflow here, offer the rest.
    /// let builder = workflow::Engine::builder().fleet_task_slots(8);
    /// # let _ = builder;
    /// ```
    pub fn fleet_task_slots(mut self, slots: usize) -> Self {
        self.fleet_task_slots = slots.max(1);
        self
    }

    /// Keeps everything in memory: nothing survives the engine, which suits tests.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// let engine = workflow::Engine::builder().in_memory().build().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn in_memory(self) -> Self {
        self.storage(MemoryStore::new())
    }

    /// When a checkpoint counts as written: [`Durability::Sync`] (default, fsynced before
    /// dependents start) or [`Durability::Buffered`] (written to the OS, not fsynced).
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// How many workflows with work to do run at once (default 1,000); the rest wait as
    /// `Pending`, in FIFO order.
    ///
    /// A workflow whose running steps all wait (sleeps, events, retry backoffs) gives its slot
    /// back, and gets one again, before any pending workflow, when it has work.
    pub fn max_running_workflows(mut self, limit: usize) -> Self {
        self.max_running = limit.max(1);
        self
    }

    /// How many workflows may wait as `Pending` (default 100,000); beyond that a new one is
    /// refused with [`Error::QueueFull`](crate::Error::QueueFull).
    pub fn max_pending_workflows(mut self, limit: usize) -> Self {
        self.max_pending = limit;
        self
    }

    /// How many bytes of decoded objects the shared object cache keeps (default 512 MiB,
    /// counted by their encoded size); the least recently used go first.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// let engine = workflow::Engine::builder().object_cache_bytes(1 << 30).build().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn object_cache_bytes(mut self, bytes: u64) -> Self {
        self.object_cache_bytes = bytes;
        self
    }

    /// Whether an engine on a store folder serves the admin socket there (default `true`),
    /// through which the `workflow` command line inspects a store that this process holds;
    /// see [`admin`](crate::admin).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// let engine = workflow::Engine::builder().path(dir.path()).admin_socket(false).build().await?;
    /// assert!(!dir.path().join("admin.sock").exists());
    /// # Ok(())
    /// # }
    /// ```
    pub fn admin_socket(mut self, serve: bool) -> Self {
        self.admin_socket = serve;
        self
    }

    /// Opens the store and starts the engine.
    ///
    /// The embedded store goes in [`path`](Self::path); without a path (or a
    /// [`storage`](Self::storage)), in a temporary folder removed when the engine is dropped.
    ///
    /// # Errors
    ///
    /// [`Error::Locked`](crate::Error::Locked) if another process holds the embedded store;
    /// [`Error::Storage`](crate::Error::Storage) if it cannot be opened.
    pub async fn build(self) -> Result<Engine> {
        Engine::start(self).await
    }
}

impl EngineBuilder {
    /// The schema of a PostgreSQL store, if one is set; never its URL (it may hold a password).
    fn postgres_schema_name(&self) -> Option<&str> {
        #[cfg(feature = "postgres")]
        if let Some(settings) = &self.postgres {
            return Some(&settings.schema);
        }
        None
    }
}

impl std::fmt::Debug for EngineBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineBuilder")
            .field("path", &self.path)
            .field("custom_storage", &self.storage.is_some())
            .field("durability", &self.durability)
            .field("max_running", &self.max_running)
            .field("max_pending", &self.max_pending)
            .field("object_cache_bytes", &self.object_cache_bytes)
            .field("admin_socket", &self.admin_socket)
            .field("postgres_schema", &self.postgres_schema_name())
            .finish()
    }
}

/// The settings of a PostgreSQL store.
#[cfg(feature = "postgres")]
#[derive(Clone, Debug)]
pub(crate) struct PostgresSettings {
    pub(crate) url: String,
    pub(crate) schema: String,
    pub(crate) lease: std::time::Duration,
}

#[cfg(feature = "postgres")]
impl Default for PostgresSettings {
    fn default() -> Self {
        PostgresSettings {
            url: String::new(),
            schema: "workflow".to_string(),
            lease: std::time::Duration::from_secs(5),
        }
    }
}
