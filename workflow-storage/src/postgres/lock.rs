//! The store's hold on its schema: a PostgreSQL advisory lock on a connection of its own,
//! watched so that a lost connection is noticed within seconds.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_postgres::{Client, Config, NoTls};

use super::errors::map_pg_error;
use crate::{Result, StorageError};

/// The first key of the store's advisory locks, so they do not meet other applications'
/// single-key locks (`'wkfl'`).
const LOCK_SPACE: i32 = 0x776b_666c;

/// How often the lock's connection is checked; a connection that does not answer within a
/// check is taken as lost.
const HEARTBEAT: Duration = Duration::from_secs(2);

/// A connection that holds the schema's lock.
pub(crate) struct SchemaLock {
    client: Arc<Client>,
    lost: Arc<AtomicBool>,
    heartbeat: JoinHandle<()>,
}

/// Connects and takes the lock of `schema`; returns the connection, to migrate the schema
/// on, and the flag its end sets.
pub(crate) async fn acquire(
    config: &Config,
    schema: &str,
    target: &str,
) -> Result<(Client, Arc<AtomicBool>)> {
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
        // Without its connection the lock is free for another store (a store that closes
        // or gives up sets the flag first, so that is no news).
        if !ended.swap(true, Ordering::AcqRel) {
            tracing::warn!(?outcome, "the connection holding the store's lock ended");
        }
    });
    let held = client
        .query_one(
            "SELECT pg_try_advisory_lock($1, hashtext($2))",
            &[&LOCK_SPACE, &schema],
        )
        .await
        .map_err(|error| map_pg_error(target, error));
    match held.map(|row| row.get::<_, bool>(0)) {
        Ok(true) => Ok((client, lost)),
        Ok(false) => {
            lost.store(true, Ordering::Release);
            Err(StorageError::Locked {
                path: format!("{target} (schema {schema})").into(),
            })
        }
        Err(error) => {
            lost.store(true, Ordering::Release);
            Err(error)
        }
    }
}

impl SchemaLock {
    /// Holds the lock taken by [`acquire`], checking its connection every few seconds.
    pub(crate) fn hold(client: Client, lost: Arc<AtomicBool>) -> SchemaLock {
        let client = Arc::new(client);
        let (checked, flag) = (Arc::clone(&client), Arc::clone(&lost));
        let heartbeat = tokio::spawn(async move {
            loop {
                tokio::time::sleep(HEARTBEAT).await;
                let answered = tokio::time::timeout(HEARTBEAT, checked.simple_query("SELECT 1"));
                if !matches!(answered.await, Ok(Ok(_))) {
                    if !flag.swap(true, Ordering::AcqRel) {
                        tracing::warn!("the connection holding the store's lock does not answer");
                    }
                    return;
                }
            }
        });
        SchemaLock {
            client,
            lost,
            heartbeat,
        }
    }

    /// Whether the lock may be lost: its connection ended or stopped answering.
    pub(crate) fn is_lost(&self) -> bool {
        self.lost.load(Ordering::Acquire)
    }

    /// Releases the lock (its connection ends when the store drops it).
    pub(crate) async fn release(&self, schema: &str) {
        self.lost.store(true, Ordering::Release);
        self.heartbeat.abort();
        let unlocked = self
            .client
            .execute(
                "SELECT pg_advisory_unlock($1, hashtext($2))",
                &[&LOCK_SPACE, &schema],
            )
            .await;
        if let Err(error) = unlocked {
            // Ending the connection releases it all the same.
            tracing::debug!(%error, "unlocking the schema failed");
        }
    }
}

impl Drop for SchemaLock {
    fn drop(&mut self) {
        self.lost.store(true, Ordering::Release);
        self.heartbeat.abort();
    }
}
