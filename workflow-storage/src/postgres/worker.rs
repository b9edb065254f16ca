//! A store's membership in its schema's fleet: a worker row with a lease renewed by
//! heartbeat, an advisory lock that tells a live worker's connection from a gone one, the
//! removal of dead workers, and the connection that hears the fleet's messages.
//!
//! Every commit reads its worker's row `FOR KEY SHARE` inside its transaction, and removing a
//! worker deletes that row: a removal waits for the commits under way, and afterwards the
//! removed worker's commits are refused. So a worker that was paused past its lease can
//! never write over the work of the one that took its claims.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_postgres::{AsyncMessage, Client, Config, NoTls, Transaction};

use super::errors::map_pg_error;
use crate::fleet::{WorkerId, READY_MESSAGE};
use crate::Result;

/// The first key of the advisory lock that serializes migrations of a schema (`'wkfl'`).
pub(crate) const LOCK_SPACE: i32 = 0x776b_666c;

/// Messages kept for a receiver that is behind.
const MESSAGE_BACKLOG: usize = 4096;

/// The channel of a schema's messages (PostgreSQL cuts identifiers at 63 bytes).
pub(crate) fn channel(schema: &str) -> String {
    let mut name = format!("workflow_{schema}");
    name.truncate(63);
    name
}

/// The connection of a worker: heartbeat, reaping and the fleet's messages.
pub(crate) struct Membership {
    client: Arc<Client>,
    id: WorkerId,
    lost: Arc<AtomicBool>,
    /// Set when the fleet removed this worker.
    fenced: Arc<AtomicBool>,
    /// The other live workers, as the last look for dead ones counted them.
    peers: Arc<AtomicUsize>,
    messages: broadcast::Sender<String>,
    heartbeat: JoinHandle<()>,
}

/// A connection that forwards the notifications it receives.
pub(crate) struct Connected {
    pub(crate) client: Client,
    pub(crate) lost: Arc<AtomicBool>,
    pub(crate) messages: broadcast::Sender<String>,
}

/// Connects the worker's own connection, whose end sets `lost` and whose notifications go
/// to `messages`.
pub(crate) async fn connect(config: &Config, target: &str) -> Result<Connected> {
    let mut config = config.clone();
    // The server learns of a dead client, and the client of a dead server, in seconds.
    config
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(5));
    let (client, mut connection) = config
        .connect(NoTls)
        .await
        .map_err(|error| map_pg_error(target, error))?;
    let lost = Arc::new(AtomicBool::new(false));
    let (messages, _) = broadcast::channel(MESSAGE_BACKLOG);
    let ended = Arc::clone(&lost);
    let forward = messages.clone();
    tokio::spawn(async move {
        let outcome = loop {
            match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(AsyncMessage::Notification(note))) => {
                    let _ = forward.send(note.payload().to_string());
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => break Err(error),
                None => break Ok(()),
            }
        };
        // Without its connection the worker stops writing (a store that closes sets the
        // flag first, so that is no news).
        if !ended.swap(true, Ordering::AcqRel) {
            tracing::warn!(?outcome, "the connection of the store's worker ended");
        }
    });
    Ok(Connected {
        client,
        lost,
        messages,
    })
}

/// Adds a worker to the schema's fleet, listening to its messages and holding its advisory
/// lock; returns its number, whether it got the lock, and how many other workers are live.
pub(crate) async fn register(
    client: &Client,
    schema: &str,
    target: &str,
    lease: Duration,
) -> Result<(WorkerId, bool, usize)> {
    let map = |error| map_pg_error(target, error);
    client
        .batch_execute(&format!("LISTEN \"{}\"", channel(schema)))
        .await
        .map_err(map)?;
    let id: WorkerId = client
        .query_one(
            &format!(
                "INSERT INTO \"{schema}\".workers (name, expires_at, locked)
                 VALUES ($1, now() + make_interval(secs => $2), false) RETURNING id"
            ),
            &[&worker_name(), &lease.as_secs_f64()],
        )
        .await
        .map_err(map)?
        .get(0);
    let locked: bool = client
        .query_one(
            "SELECT pg_try_advisory_lock(hashtext($1), $2::int4)",
            &[&schema, &(id as i32)],
        )
        .await
        .map_err(map)?
        .get(0);
    let peers: i64 = client
        .query_one(
            &format!(
                "SELECT count(*) FROM \"{schema}\".workers WHERE id <> $1 AND expires_at > now()"
            ),
            &[&id],
        )
        .await
        .map_err(map)?
        .get(0);
    Ok((id, locked, peers as usize))
}

/// Refuses the commit of `tx` unless worker `id` is still in the fleet; its row stays
/// locked (`FOR KEY SHARE`) until the transaction ends, so no removal comes in between, while
/// the renewals of its lease (which change no key) do not wait for commits.
pub(crate) async fn check_fence(
    tx: &Transaction<'_>,
    schema: &str,
    id: WorkerId,
) -> std::result::Result<bool, tokio_postgres::Error> {
    let row = tx
        .query_opt(
            &format!("SELECT 1 FROM \"{schema}\".workers WHERE id = $1 FOR KEY SHARE"),
            &[&id],
        )
        .await?;
    Ok(row.is_some())
}

impl Membership {
    /// Keeps worker `id` in the fleet, renewing its lease every third of its length and
    /// removing dead workers.
    pub(crate) fn hold(
        connected: Connected,
        schema: &str,
        id: WorkerId,
        locked: bool,
        peers: usize,
        lease: Duration,
    ) -> Membership {
        let client = Arc::new(connected.client);
        let fenced = Arc::new(AtomicBool::new(false));
        let peers = Arc::new(AtomicUsize::new(peers));
        let heartbeat = Heartbeat {
            client: Arc::clone(&client),
            schema: schema.to_string(),
            id,
            locked,
            lost: Arc::clone(&connected.lost),
            fenced: Arc::clone(&fenced),
            peers: Arc::clone(&peers),
            lease,
        };
        Membership {
            client,
            id,
            lost: connected.lost,
            fenced,
            peers,
            messages: connected.messages,
            heartbeat: tokio::spawn(heartbeat.run()),
        }
    }

    pub(crate) fn id(&self) -> WorkerId {
        self.id
    }

    /// Whether the membership may be lost: its connection ended, or a renewal failed.
    pub(crate) fn is_lost(&self) -> bool {
        self.lost.load(Ordering::Acquire)
    }

    /// Whether the fleet removed this worker.
    pub(crate) fn is_fenced(&self) -> bool {
        self.fenced.load(Ordering::Acquire)
    }

    pub(crate) fn peers(&self) -> usize {
        self.peers.load(Ordering::Relaxed)
    }

    pub(crate) fn messages(&self) -> broadcast::Receiver<String> {
        self.messages.subscribe()
    }

    /// Leaves the fleet. The caller released or handed over its claims first; any left
    /// wait for other workers.
    pub(crate) async fn leave(&self, schema: &str) {
        self.lost.store(true, Ordering::Release);
        self.heartbeat.abort();
        let left = remove(&self.client, schema, &[self.id]).await;
        if let Err(error) = left {
            // The lease runs out, and ending the connection frees the lock, all the same.
            tracing::debug!(%error, "leaving the fleet failed");
        }
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        self.lost.store(true, Ordering::Release);
        self.heartbeat.abort();
    }
}

/// Removes workers `ids` from the fleet and lets their claims wait for others; tells the
/// fleet if any claim was freed.
async fn remove(
    client: &Client,
    schema: &str,
    ids: &[WorkerId],
) -> std::result::Result<u64, tokio_postgres::Error> {
    let freed = client
        .query_one(
            &format!(
                "WITH gone AS (DELETE FROM \"{schema}\".workers WHERE id = ANY($1) RETURNING id),
                      freed AS (UPDATE \"{schema}\".claims SET worker = NULL
                                WHERE worker IN (SELECT id FROM gone) RETURNING 1),
                      untaken AS (UPDATE \"{schema}\".offers SET taker = NULL
                                  WHERE taker IN (SELECT id FROM gone) RETURNING 1)
                 SELECT (SELECT count(*) FROM freed) + (SELECT count(*) FROM untaken)"
            ),
            &[&ids],
        )
        .await?
        .get::<_, i64>(0);
    if freed > 0 {
        client
            .execute(
                "SELECT pg_notify($1, $2)",
                &[&channel(schema), &READY_MESSAGE],
            )
            .await?;
    }
    Ok(freed as u64)
}

/// The heartbeat of a worker.
struct Heartbeat {
    client: Arc<Client>,
    schema: String,
    id: WorkerId,
    /// Whether this connection holds the worker's advisory lock.
    locked: bool,
    lost: Arc<AtomicBool>,
    fenced: Arc<AtomicBool>,
    peers: Arc<AtomicUsize>,
    lease: Duration,
}

impl Heartbeat {
    async fn run(mut self) {
        let every = self.lease / 3;
        let mut renewed_at = std::time::Instant::now();
        loop {
            let renewed = tokio::time::timeout(every, self.renew()).await;
            if matches!(renewed, Ok(Ok(false))) {
                self.fenced.store(true, Ordering::Release);
            }
            match renewed {
                Ok(Ok(true)) => renewed_at = std::time::Instant::now(),
                // Slow or failed, with time left on the lease: try again.
                Ok(Err(_)) | Err(_) if renewed_at.elapsed() + every < self.lease => {
                    tracing::debug!(?renewed, "renewing the lease failed; trying again");
                    continue;
                }
                _ => {
                    if !self.lost.swap(true, Ordering::AcqRel) {
                        tracing::warn!(
                            ?renewed,
                            "the store's worker could not renew its lease; it stops writing"
                        );
                    }
                    return;
                }
            }
            if let Ok(Err(error)) = tokio::time::timeout(every, self.reap()).await {
                tracing::debug!(%error, "looking for dead workers failed");
            }
            tokio::time::sleep(every).await;
        }
    }

    /// Renews the lease; `false` if the fleet removed this worker.
    async fn renew(&mut self) -> std::result::Result<bool, tokio_postgres::Error> {
        if !self.locked {
            self.locked = self
                .client
                .query_one(
                    "SELECT pg_try_advisory_lock(hashtext($1), $2::int4)",
                    &[&self.schema, &(self.id as i32)],
                )
                .await?
                .get(0);
        }
        let renewed = self
            .client
            .execute(
                &format!(
                    "UPDATE \"{}\".workers SET expires_at = now() + make_interval(secs => $2),
                         locked = $3
                     WHERE id = $1",
                    self.schema
                ),
                &[&self.id, &self.lease.as_secs_f64(), &self.locked],
            )
            .await?;
        Ok(renewed == 1)
    }

    /// Removes the workers whose lease ran out, or whose connection is gone (their advisory
    /// lock is free).
    async fn reap(&self) -> std::result::Result<(), tokio_postgres::Error> {
        let rows = self
            .client
            .query(
                &format!(
                    "SELECT id, expires_at < now(), locked FROM \"{}\".workers WHERE id <> $1",
                    self.schema
                ),
                &[&self.id],
            )
            .await?;
        let mut dead = Vec::new();
        let listed = rows.len();
        for row in rows {
            let (id, expired, locked): (WorkerId, bool, bool) =
                (row.get(0), row.get(1), row.get(2));
            if expired || (locked && self.connection_gone(id).await?) {
                dead.push(id);
            }
        }
        self.peers.store(listed - dead.len(), Ordering::Relaxed);
        if !dead.is_empty() {
            let freed = remove(&self.client, &self.schema, &dead).await?;
            tracing::info!(workers = ?dead, freed, "removed dead workers from the fleet");
        }
        Ok(())
    }

    /// Whether worker `id`'s connection ended: its advisory lock can be taken (and is let go).
    async fn connection_gone(
        &self,
        id: WorkerId,
    ) -> std::result::Result<bool, tokio_postgres::Error> {
        let taken: bool = self
            .client
            .query_one(
                "SELECT pg_try_advisory_lock(hashtext($1), $2::int4)",
                &[&self.schema, &(id as i32)],
            )
            .await?
            .get(0);
        if taken {
            self.client
                .execute(
                    "SELECT pg_advisory_unlock(hashtext($1), $2::int4)",
                    &[&self.schema, &(id as i32)],
                )
                .await?;
        }
        Ok(taken)
    }
}

/// A name for this worker, for people reading the table.
fn worker_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_string())
        .unwrap_or_else(|_| "host".to_string());
    format!("{host}:{}", std::process::id())
}
