//! The store's hold on its schema: a lease row with a fencing token, renewed by heartbeat,
//! and a PostgreSQL advisory lock that tells a live holder's session from a gone one.
//!
//! Every commit checks the lease's holder and fence inside its transaction (a `FOR SHARE`
//! read of the row), and taking the lease over updates that row: a takeover waits for the
//! commits under way, and afterwards the old holder's commits are refused. So an engine that
//! was paused past its lease can never write over its successor's work.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_postgres::{Client, Config, NoTls, Transaction};

use super::errors::map_pg_error;
use crate::{Result, StorageError};

/// The first key of the store's advisory locks, so they do not meet other applications'
/// single-key locks (`'wkfl'`).
const LOCK_SPACE: i32 = 0x776b_666c;

/// The name of the store's lease row.
const LEASE: &str = "store";

/// The holder and fence of the lease a store holds, checked by each of its commits.
#[derive(Clone, Debug)]
pub(crate) struct Fence {
    pub(crate) holder: String,
    pub(crate) fence: i64,
}

/// A connection that holds the schema's lease (and, while it can, its advisory lock).
pub(crate) struct SchemaLock {
    client: Arc<Client>,
    fence: Fence,
    lost: Arc<AtomicBool>,
    /// Set when a renewal found the lease taken over.
    fenced: Arc<AtomicBool>,
    heartbeat: JoinHandle<()>,
}

/// Connects for the lock; returns the connection (to migrate the schema on), whether it got
/// the advisory lock, and the flag its end sets.
pub(crate) async fn connect(
    config: &Config,
    schema: &str,
    target: &str,
) -> Result<(Client, bool, Arc<AtomicBool>)> {
    let mut config = config.clone();
    // The server learns of a dead client, and the client of a dead server, in seconds.
    config
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(5));
    let (client, connection) = config
        .connect(NoTls)
        .await
        .map_err(|error| map_pg_error(target, error))?;
    let lost = Arc::new(AtomicBool::new(false));
    let ended = Arc::clone(&lost);
    tokio::spawn(async move {
        let outcome = connection.await;
        // Without its connection the store stops writing (a store that closes or gives up
        // sets the flag first, so that is no news).
        if !ended.swap(true, Ordering::AcqRel) {
            tracing::warn!(?outcome, "the connection holding the store's lease ended");
        }
    });
    match try_advisory(&client, schema, target).await {
        Ok(locked) => Ok((client, locked, lost)),
        Err(error) => {
            lost.store(true, Ordering::Release);
            Err(error)
        }
    }
}

async fn try_advisory(client: &Client, schema: &str, target: &str) -> Result<bool> {
    Ok(client
        .query_one(
            "SELECT pg_try_advisory_lock($1, hashtext($2))",
            &[&LOCK_SPACE, &schema],
        )
        .await
        .map_err(|error| map_pg_error(target, error))?
        .get(0))
}

/// Takes the schema's lease for a new holder: when there is none, when its holder's lease
/// ran out, or when its holder held the advisory lock and that lock is free now (its
/// session is gone). Otherwise the schema is [`StorageError::Locked`].
pub(crate) async fn take_lease(
    client: &mut Client,
    schema: &str,
    target: &str,
    locked: bool,
    lease: Duration,
) -> Result<Fence> {
    let map = |error| map_pg_error(target, error);
    let holder = holder_name();
    let seconds = lease.as_secs_f64();
    let tx = client.transaction().await.map_err(map)?;
    let current = tx
        .query_opt(
            &format!(
                "SELECT fence, expires_at < now(), locked FROM \"{schema}\".leases \
                 WHERE name = $1 FOR UPDATE"
            ),
            &[&LEASE],
        )
        .await
        .map_err(map)?;
    let fence = match current {
        None => 1,
        Some(row) => {
            let (fence, expired, held_lock): (i64, bool, bool) =
                (row.get(0), row.get(1), row.get(2));
            if !(expired || (locked && held_lock)) {
                return Err(StorageError::Locked {
                    path: format!("{target} (schema {schema})").into(),
                });
            }
            fence + 1
        }
    };
    tx.execute(
        &format!(
            "INSERT INTO \"{schema}\".leases (name, holder, fence, expires_at, locked)
             VALUES ($1, $2, $3, now() + make_interval(secs => $4), $5)
             ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, fence = EXCLUDED.fence,
                 expires_at = EXCLUDED.expires_at, locked = EXCLUDED.locked"
        ),
        &[&LEASE, &holder, &fence, &seconds, &locked],
    )
    .await
    .map_err(map)?;
    tx.commit().await.map_err(map)?;
    Ok(Fence { holder, fence })
}

/// Refuses the commit of `tx` unless the store still holds the lease with its fence; the
/// row stays locked (shared) until the transaction ends, so no takeover comes in between.
pub(crate) async fn check_fence(
    tx: &Transaction<'_>,
    schema: &str,
    fence: &Fence,
) -> std::result::Result<bool, tokio_postgres::Error> {
    let row = tx
        .query_opt(
            &format!(
                "SELECT 1 FROM \"{schema}\".leases \
                 WHERE name = $1 AND holder = $2 AND fence = $3 FOR SHARE"
            ),
            &[&LEASE, &fence.holder, &fence.fence],
        )
        .await?;
    Ok(row.is_some())
}

impl SchemaLock {
    /// Holds the lease taken by [`take_lease`], renewing it every third of its length.
    pub(crate) fn hold(
        client: Client,
        schema: &str,
        fence: Fence,
        locked: bool,
        lost: Arc<AtomicBool>,
        lease: Duration,
    ) -> SchemaLock {
        let client = Arc::new(client);
        let fenced = Arc::new(AtomicBool::new(false));
        let renewing = Renewal {
            client: Arc::clone(&client),
            schema: schema.to_string(),
            fence: fence.clone(),
            locked,
            lost: Arc::clone(&lost),
            fenced: Arc::clone(&fenced),
            lease,
        };
        SchemaLock {
            client,
            fence,
            lost,
            fenced,
            heartbeat: tokio::spawn(renewing.run()),
        }
    }

    /// The holder and fence each commit checks.
    pub(crate) fn fence(&self) -> &Fence {
        &self.fence
    }

    /// Whether the lease may be lost: its connection ended, or a renewal failed.
    pub(crate) fn is_lost(&self) -> bool {
        self.lost.load(Ordering::Acquire)
    }

    /// Whether a renewal found the lease taken over by another holder.
    pub(crate) fn is_fenced(&self) -> bool {
        self.fenced.load(Ordering::Acquire)
    }

    /// Gives the lease up, so another engine may take the schema at once.
    pub(crate) async fn release(&self, schema: &str) {
        self.lost.store(true, Ordering::Release);
        self.heartbeat.abort();
        let released = self
            .client
            .execute(
                &format!(
                    "DELETE FROM \"{schema}\".leases WHERE name = $1 AND holder = $2 AND fence = $3"
                ),
                &[&LEASE, &self.fence.holder, &self.fence.fence],
            )
            .await;
        let unlocked = self
            .client
            .execute(
                "SELECT pg_advisory_unlock($1, hashtext($2))",
                &[&LOCK_SPACE, &schema],
            )
            .await;
        if let Err(error) = released.and(unlocked) {
            // The lease runs out, and ending the connection frees the lock, all the same.
            tracing::debug!(%error, "releasing the schema failed");
        }
    }
}

impl Drop for SchemaLock {
    fn drop(&mut self) {
        self.lost.store(true, Ordering::Release);
        self.heartbeat.abort();
    }
}

/// The heartbeat of a lease.
struct Renewal {
    client: Arc<Client>,
    schema: String,
    fence: Fence,
    /// Whether this session holds the advisory lock (a holder that took the lease over from
    /// a paused one gets it once that one's session ends).
    locked: bool,
    lost: Arc<AtomicBool>,
    fenced: Arc<AtomicBool>,
    lease: Duration,
}

impl Renewal {
    async fn run(mut self) {
        let every = self.lease / 3;
        loop {
            tokio::time::sleep(every).await;
            let renewed = tokio::time::timeout(every, self.renew()).await;
            if matches!(renewed, Ok(Ok(false))) {
                self.fenced.store(true, Ordering::Release);
            }
            if !matches!(renewed, Ok(Ok(true))) {
                if !self.lost.swap(true, Ordering::AcqRel) {
                    tracing::warn!(
                        ?renewed,
                        "the store's lease could not be renewed; it stops writing"
                    );
                }
                return;
            }
        }
    }

    /// Renews the lease; `false` if another holder took it.
    async fn renew(&mut self) -> std::result::Result<bool, tokio_postgres::Error> {
        if !self.locked {
            self.locked = self
                .client
                .query_one(
                    "SELECT pg_try_advisory_lock($1, hashtext($2))",
                    &[&LOCK_SPACE, &self.schema],
                )
                .await?
                .get(0);
        }
        let renewed = self
            .client
            .execute(
                &format!(
                    "UPDATE \"{}\".leases SET expires_at = now() + make_interval(secs => $4),
                         locked = $5
                     WHERE name = $1 AND holder = $2 AND fence = $3",
                    self.schema
                ),
                &[
                    &LEASE,
                    &self.fence.holder,
                    &self.fence.fence,
                    &self.lease.as_secs_f64(),
                    &self.locked,
                ],
            )
            .await?;
        Ok(renewed == 1)
    }
}

/// A name for this holder, unique enough among the engines of a schema.
fn holder_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{}-{}-{nanos}", hostname(), std::process::id())
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_string())
        .unwrap_or_else(|_| "host".to_string())
}
