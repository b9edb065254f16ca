//! The PostgreSQL backend: the store's records in one table of a schema of the user's
//! database, reached through a pool of connections.

mod claims;
mod commit;
mod errors;
mod offers;
mod queries;
mod schema;
mod worker;

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

use crate::batch::check_limits;
use crate::error::render_key;
use crate::scan::page_bounds;
use crate::{
    Batch, Durability, Expectation, Keyspace, Operation, Order, Result, Storage, StorageError,
};
use errors::{map_pg_error, map_pool_error};
use queries::RangeQuery;
use worker::Membership;

/// How long a store's hold on its schema lasts without renewal, unless set.
const DEFAULT_LEASE: Duration = Duration::from_secs(5);

/// Connections a store keeps open at most.
const POOL_SIZE: usize = 16;

/// How long connecting may take before the server counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Attempts of a transaction that ran into a concurrent one (a deadlock or serialization
/// failure), before the error is returned.
const TRANSIENT_ATTEMPTS: usize = 5;

/// A store in a schema of a PostgreSQL database (feature `postgres`).
///
/// The schema (`workflow` unless another is given) is created on first use and its tables
/// are migrated to this build's version; a schema of a newer build is refused with
/// [`StorageError::NewerSchema`]. Any number of stores share a schema as the workers of a
/// fleet ([`Fleet`](crate::Fleet), from [`Storage::fleet`]): each has a lease renewed every
/// few seconds; a worker whose process ends (noticed through an advisory lock on its own
/// connection) or whose lease runs out (a paused or cut-off process) is removed by the
/// others, who take its claims. Every commit checks its worker's row in its transaction, so
/// a removed worker can never write over the work of those that took its claims: its
/// commits are [`StorageError::Fenced`].
///
/// Commits are transactions: expectations are checked under row locks, and the batch's
/// writes apply atomically. Under [`Durability::Buffered`] a commit does not wait for the
/// server's own disk flush (`synchronous_commit = off`): a crash of the server, not of this
/// process, may lose the last ones.
///
/// # Examples
///
/// ```no_run
/// use workflow_storage::{Batch, Durability, Keyspace, PgStore, Storage};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> workflow_storage::Result<()> {
/// let store = PgStore::connect("postgres://postgres@127.0.0.1:5432/test", "workflow").await?;
/// let mut batch = Batch::new();
/// batch.put(Keyspace::new("runs"), "run-1", "done");
/// store.commit(batch, Durability::Sync).await?;
/// store.close().await?;
/// # Ok(())
/// # }
/// ```
pub struct PgStore {
    pool: Pool,
    schema: String,
    /// The server and database, without credentials, for messages.
    target: String,
    /// This store's worker in the schema's fleet.
    member: Membership,
    /// Whether the server flushes commits by default (`synchronous_commit` is not `off`).
    server_syncs: bool,
    closed: AtomicBool,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("target", &self.target)
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`)
    /// and opens the store in schema `schema`, creating or migrating its tables.
    ///
    /// # Errors
    ///
    /// - [`StorageError::InvalidConfig`] for a malformed URL or schema name;
    /// - [`StorageError::Unreachable`] if the server cannot be reached;
    /// - [`StorageError::NewerSchema`] if a newer build made the schema's tables.
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow_storage::{PgStore, StorageError};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let refused = PgStore::connect("not a url", "workflow").await;
    /// assert!(matches!(refused, Err(StorageError::InvalidConfig { .. })));
    /// # }
    /// ```
    pub async fn connect(url: &str, schema: &str) -> Result<PgStore> {
        PgStore::connect_with_lease(url, schema, DEFAULT_LEASE).await
    }

    /// As [`connect`](PgStore::connect), with a lease of `lease` (5 seconds by default): how
    /// long the store may go without renewing its lease before the fleet removes it and
    /// others take its claims over. It is renewed every third of that; a longer lease rides
    /// out longer pauses of the process, a shorter one hands the work over sooner when a
    /// process hangs. (A process that ends is noticed at once, whatever the lease.)
    ///
    /// # Errors
    ///
    /// As [`connect`](PgStore::connect), and [`StorageError::InvalidConfig`] for a lease
    /// under 300 ms.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow_storage::Result<()> {
    /// use std::time::Duration;
    /// let store = workflow_storage::PgStore::connect_with_lease(
    ///     "postgres://127.0.0.1/test",
    ///     "workflow",
    ///     Duration::from_secs(30),
    /// )
    /// .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect_with_lease(url: &str, schema: &str, lease: Duration) -> Result<PgStore> {
        schema::validate_schema_name(schema)?;
        if lease < Duration::from_millis(300) {
            return Err(StorageError::InvalidConfig {
                reason: format!("a lease of {lease:?} is too short: give it at least 300 ms"),
            });
        }
        let mut config =
            tokio_postgres::Config::from_str(url).map_err(|error| StorageError::InvalidConfig {
                reason: format!("`{}` is not a PostgreSQL URL: {error}", redact(url)),
            })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let target = describe_target(&config);
        let mut connected = worker::connect(&config, &target).await?;
        let joined = async {
            schema::migrate(&mut connected.client, schema, &target).await?;
            let setting: String = connected
                .client
                .query_one("SELECT current_setting('synchronous_commit')", &[])
                .await
                .map_err(|error| map_pg_error(&target, error))?
                .get(0);
            let (id, locked, peers) =
                worker::register(&connected.client, schema, &target, lease).await?;
            Ok::<_, StorageError>((id, locked, peers, setting != "off"))
        };
        let (id, locked, peers, server_syncs) = match joined.await {
            Ok(joined) => joined,
            Err(error) => {
                connected.lost.store(true, Ordering::Release);
                return Err(error);
            }
        };
        let member = Membership::hold(connected, schema, id, locked, peers, lease);
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|error| StorageError::InvalidConfig {
                reason: format!("the connection pool cannot be built: {error}"),
            })?;
        tracing::debug!(target = %target, schema, "opened PostgreSQL store");
        Ok(PgStore {
            pool,
            schema: schema.to_string(),
            target,
            member,
            server_syncs,
            closed: AtomicBool::new(false),
        })
    }

    /// Whether the database at `url` holds a store in schema `schema`, without creating
    /// anything (for tools that must not make a store by looking for one).
    ///
    /// # Errors
    ///
    /// As [`connect`](PgStore::connect): a malformed URL or schema name, or an unreachable
    /// server.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow_storage::Result<()> {
    /// let url = "postgres://127.0.0.1/test";
    /// if !workflow_storage::PgStore::exists(url, "nightly").await? {
    ///     eprintln!("no store in schema `nightly`");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn exists(url: &str, schema: &str) -> Result<bool> {
        schema::validate_schema_name(schema)?;
        let mut config =
            tokio_postgres::Config::from_str(url).map_err(|error| StorageError::InvalidConfig {
                reason: format!("`{}` is not a PostgreSQL URL: {error}", redact(url)),
            })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let target = describe_target(&config);
        let map = |error| map_pg_error(&target, error);
        let (client, connection) = config.connect(NoTls).await.map_err(map)?;
        let connection = tokio::spawn(connection);
        let found = client
            .query_one(
                "SELECT to_regclass(format('%I.records', $1::text)) IS NOT NULL",
                &[&schema],
            )
            .await
            .map_err(map)?
            .get(0);
        drop(client);
        let _ = connection.await;
        Ok(found)
    }

    /// The schema the store lives in.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow_storage::Result<()> {
    /// let store = workflow_storage::PgStore::connect("postgres://127.0.0.1/test", "jobs").await?;
    /// assert_eq!(store.schema(), "jobs");
    /// # Ok(())
    /// # }
    /// ```
    pub fn schema(&self) -> &str {
        &self.schema
    }

    async fn client(&self) -> Result<Object> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StorageError::Closed);
        }
        self.pool
            .get()
            .await
            .map_err(|error| map_pool_error(&self.target, error))
    }

    async fn range(
        &self,
        keyspace: Keyspace,
        prefix: &[u8],
        after: Option<&[u8]>,
        order: Order,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let client = self.client().await?;
        let Some(range) = page_bounds(prefix, after, order) else {
            return Ok(Vec::new());
        };
        let query = RangeQuery::new(&self.schema, keyspace, range, order, limit);
        let map = |error| map_pg_error(&self.target, error);
        let statement = client.prepare_cached(&query.sql).await.map_err(map)?;
        let rows = client
            .query(&statement, &query.params())
            .await
            .map_err(map)?;
        Ok(rows
            .into_iter()
            .map(|row| (row.get::<_, Vec<u8>>(0), row.get::<_, Vec<u8>>(1)))
            .collect())
    }
}

#[async_trait]
impl Storage for PgStore {
    async fn get(&self, keyspace: Keyspace, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let client = self.client().await?;
        let map = |error| map_pg_error(&self.target, error);
        let statement = client
            .prepare_cached(&format!(
                "SELECT value FROM \"{}\".records WHERE keyspace = $1 AND key = $2",
                self.schema
            ))
            .await
            .map_err(map)?;
        let row = client
            .query_opt(&statement, &[&keyspace.name(), &key])
            .await
            .map_err(map)?;
        Ok(row.map(|row| row.get(0)))
    }

    async fn scan_prefix(
        &self,
        keyspace: Keyspace,
        prefix: &[u8],
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.range(keyspace, prefix, None, Order::Ascending, usize::MAX)
            .await
    }

    async fn scan_page(
        &self,
        keyspace: Keyspace,
        prefix: &[u8],
        after: Option<&[u8]>,
        order: Order,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.range(keyspace, prefix, after, order, limit).await
    }

    async fn commit(&self, batch: Batch, durability: Durability) -> Result<()> {
        let (operations, expectations) = batch.into_parts();
        check_limits(&operations)?;
        check_pg_limits(&operations, &expectations)?;
        let mut client = self.client().await?;
        if self.member.is_fenced() {
            return Err(self.fenced());
        }
        if self.member.is_lost() {
            return Err(StorageError::Unreachable {
                target: self.target.clone(),
                reason: "the connection of this store's worker was lost, so the fleet may have \
                         given its work to others; open the store again"
                    .to_string(),
            });
        }
        let map = |error| map_pg_error(&self.target, error);
        for attempt in 1..=TRANSIENT_ATTEMPTS {
            let tx = client.transaction().await.map_err(map)?;
            let context = commit::Context {
                schema: &self.schema,
                target: &self.target,
                worker: self.member.id(),
                setting: match (durability, self.server_syncs) {
                    (Durability::Sync, true) | (Durability::Buffered, false) => None,
                    (Durability::Sync, false) => Some("SET LOCAL synchronous_commit = on"),
                    (Durability::Buffered, true) => Some("SET LOCAL synchronous_commit = off"),
                },
            };
            let applied = commit::apply(&tx, &context, operations.clone(), &expectations).await?;
            match applied {
                Ok(()) => match tx.commit().await {
                    Ok(()) => return Ok(()),
                    Err(error) if errors::is_transient(&error) && attempt < TRANSIENT_ATTEMPTS => {}
                    Err(error) => return Err(map(error)),
                },
                Err(error) if attempt < TRANSIENT_ATTEMPTS => {
                    tracing::debug!(%error, attempt, "retrying a commit that met another");
                }
                Err(error) => return Err(map(error)),
            }
        }
        unreachable!("the last attempt returns")
    }

    /// Reclaims the space of deleted records (`VACUUM` of the store's table).
    async fn compact(&self) -> Result<()> {
        let client = self.client().await?;
        client
            .batch_execute(&format!("VACUUM \"{}\".records", self.schema))
            .await
            .map_err(|error| map_pg_error(&self.target, error))
    }

    /// The bytes of the store's table and its index.
    async fn disk_space(&self) -> Result<Option<u64>> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "SELECT pg_total_relation_size(format('%I.records', $1::text)::regclass)",
                &[&self.schema],
            )
            .await
            .map_err(|error| map_pg_error(&self.target, error))?;
        Ok(u64::try_from(row.get::<_, i64>(0)).ok())
    }

    /// Leaves the fleet and closes the pool's connections.
    async fn close(&self) -> Result<()> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return Err(StorageError::Closed);
        }
        self.pool.close();
        self.member.leave(&self.schema).await;
        Ok(())
    }

    fn fleet(&self) -> Option<&dyn crate::Fleet> {
        Some(self)
    }
}

/// Keys longer than this do not fit PostgreSQL's index entries (about 2.7 kB).
const MAX_PG_KEY: usize = 2_048;

/// Values from this size on exceed what one PostgreSQL field holds (1 GB).
const MAX_PG_VALUE: usize = 1 << 30;

/// Refuses, as [`StorageError::InvalidKey`] and before anything is written, keys and values
/// that PostgreSQL cannot store though the embedded store can.
fn check_pg_limits(operations: &[Operation], expectations: &[Expectation]) -> Result<()> {
    let refuse = |keyspace: Keyspace, key: &[u8], reason: String| {
        Err(StorageError::InvalidKey {
            keyspace: keyspace.name(),
            key: render_key(key),
            reason,
        })
    };
    let long_key = || format!("keys of the PostgreSQL store have at most {MAX_PG_KEY} bytes");
    for expectation in expectations {
        if expectation.key.len() > MAX_PG_KEY {
            return refuse(expectation.keyspace, &expectation.key, long_key());
        }
    }
    for operation in operations {
        let (keyspace, key, value) = match operation {
            Operation::Put {
                keyspace,
                key,
                value,
            } => (*keyspace, key, Some(value)),
            Operation::Delete { keyspace, key } => (*keyspace, key, None),
        };
        if key.len() > MAX_PG_KEY {
            return refuse(keyspace, key, long_key());
        }
        if value.is_some_and(|value| value.len() >= MAX_PG_VALUE) {
            return refuse(
                keyspace,
                key,
                "values of the PostgreSQL store are smaller than 1 GiB".to_string(),
            );
        }
    }
    Ok(())
}

/// `host:port/database` of a configuration, never its password.
fn describe_target(config: &tokio_postgres::Config) -> String {
    let host = config
        .get_hosts()
        .first()
        .map(|host| match host {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".to_string());
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let database = config.get_dbname().unwrap_or("");
    format!("{host}:{port}/{database}")
}

/// A connection string with any password replaced, for messages: the password of a URL's
/// user, a `password=` query parameter, or a `password=` key of a key-value string.
fn redact(url: &str) -> String {
    let mut shown = url.to_string();
    if let (Some(scheme), Some(at)) = (shown.find("://"), shown.rfind('@')) {
        if at > scheme {
            if let Some(colon) = shown[scheme + 3..at].find(':') {
                shown.replace_range(scheme + 3 + colon + 1..at, "***");
            }
        }
    }
    let mut from = 0;
    while let Some(found) = shown[from..].find("password=") {
        let start = from + found + "password=".len();
        let end = shown[start..]
            .find(|c: char| c == '&' || c.is_whitespace())
            .map_or(shown.len(), |end| start + end);
        shown.replace_range(start..end, "***");
        from = start + 3;
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/jobs"),
            "postgres://app:***@db:5432/jobs"
        );
        assert_eq!(redact("postgres://app@db/jobs"), "postgres://app@db/jobs");
        assert_eq!(
            redact("postgres://db/jobs?user=app&password=s3cret&sslmode=disable"),
            "postgres://db/jobs?user=app&password=***&sslmode=disable"
        );
        assert_eq!(
            redact("host=db user=app password=s3cret dbname=jobs"),
            "host=db user=app password=*** dbname=jobs"
        );
        let config =
            tokio_postgres::Config::from_str("postgres://app:s3cret@db:6543/jobs").unwrap();
        assert_eq!(describe_target(&config), "db:6543/jobs");
    }
}
