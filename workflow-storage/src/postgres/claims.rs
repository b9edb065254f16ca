//! The fleet's claims and messages on PostgreSQL: a `claims` table whose rows name the
//! worker that may run each unit of work, or none while it waits for one.
//!
//! Taking a claim reads the taker's worker row `FOR KEY SHARE` in the same statement, so a
//! removed worker can take nothing; waiting claims are taken `FOR UPDATE SKIP LOCKED`, so
//! two workers taking at once never get the same one.

use async_trait::async_trait;
use tokio::sync::broadcast;

use super::{errors::map_pg_error, worker::channel, PgStore};
use crate::fleet::{Fleet, Holder, Offer, WorkerId, READY_MESSAGE};
use crate::{Keyspace, Result, StorageError};

#[async_trait]
impl Fleet for PgStore {
    fn worker(&self) -> WorkerId {
        self.member.id()
    }

    async fn claim(&self, name: &str) -> Result<Holder> {
        let client = self.client().await?;
        let schema = &self.schema;
        let me = self.member.id();
        let statement = client
            .prepare_cached(&format!(
                "INSERT INTO \"{schema}\".claims (name, worker)
                 SELECT $1, $2 WHERE EXISTS
                     (SELECT 1 FROM \"{schema}\".workers WHERE id = $2 FOR KEY SHARE)
                 ON CONFLICT (name) DO UPDATE SET worker = EXCLUDED.worker
                     WHERE claims.worker IS NULL OR claims.worker = EXCLUDED.worker
                 RETURNING worker"
            ))
            .await
            .map_err(|error| map_pg_error(&self.target, error))?;
        loop {
            let taken = client
                .query_opt(&statement, &[&name, &me])
                .await
                .map_err(|error| map_pg_error(&self.target, error))?;
            if taken.is_some() {
                return Ok(Holder::Me);
            }
            match self.holder(name).await? {
                Some(other @ (Holder::Other(_) | Holder::Waiting)) => return Ok(other),
                // Released by its holder between the two statements: take it again.
                None if !self.member.is_fenced() && self.member_present(&client).await? => continue,
                Some(Holder::Me) | None => return Err(self.fenced()),
            }
        }
    }

    async fn claim_waiting(&self, limit: usize) -> Result<Vec<String>> {
        let client = self.client().await?;
        let schema = &self.schema;
        let statement = client
            .prepare_cached(&format!(
                "UPDATE \"{schema}\".claims SET worker = $1
                 WHERE name IN (SELECT name FROM \"{schema}\".claims WHERE worker IS NULL
                                ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED)
                   AND EXISTS (SELECT 1 FROM \"{schema}\".workers WHERE id = $1 FOR KEY SHARE)
                 RETURNING name"
            ))
            .await
            .map_err(|error| map_pg_error(&self.target, error))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = client
            .query(&statement, &[&self.member.id(), &limit])
            .await
            .map_err(|error| map_pg_error(&self.target, error))?;
        Ok(rows.into_iter().map(|row| row.get(0)).collect())
    }

    async fn hand_over(&self, names: &[String]) -> Result<()> {
        if names.is_empty() {
            return Ok(());
        }
        let client = self.client().await?;
        let schema = &self.schema;
        client
            .execute(
                &format!(
                    "INSERT INTO \"{schema}\".claims (name, worker) SELECT unnest($1::text[]), NULL
                     ON CONFLICT (name) DO UPDATE SET worker = NULL WHERE claims.worker = $2"
                ),
                &[&names, &self.member.id()],
            )
            .await
            .map_err(|error| map_pg_error(&self.target, error))?;
        self.send(READY_MESSAGE).await
    }

    async fn ensure_claimed(&self, names: &[String]) -> Result<()> {
        if names.is_empty() {
            return Ok(());
        }
        let client = self.client().await?;
        let added = client
            .execute(
                &format!(
                    "INSERT INTO \"{}\".claims (name, worker) SELECT unnest($1::text[]), NULL
                     ON CONFLICT (name) DO NOTHING",
                    self.schema
                ),
                &[&names],
            )
            .await
            .map_err(|error| map_pg_error(&self.target, error))?;
        if added > 0 {
            self.send(READY_MESSAGE).await?;
        }
        Ok(())
    }

    async fn release(&self, names: &[String]) -> Result<()> {
        if names.is_empty() {
            return Ok(());
        }
        let client = self.client().await?;
        let statement = client
            .prepare_cached(&format!(
                "DELETE FROM \"{}\".claims WHERE name = ANY($1) AND worker = $2",
                self.schema
            ))
            .await
            .map_err(|error| map_pg_error(&self.target, error))?;
        client
            .execute(&statement, &[&names, &self.member.id()])
            .await
            .map_err(|error| map_pg_error(&self.target, error))?;
        Ok(())
    }

    async fn holder(&self, name: &str) -> Result<Option<Holder>> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(&format!(
                "SELECT worker FROM \"{}\".claims WHERE name = $1",
                self.schema
            ))
            .await
            .map_err(|error| map_pg_error(&self.target, error))?;
        let row = client
            .query_opt(&statement, &[&name])
            .await
            .map_err(|error| map_pg_error(&self.target, error))?;
        Ok(row.map(|row| match row.get::<_, Option<WorkerId>>(0) {
            None => Holder::Waiting,
            Some(worker) if worker == self.member.id() => Holder::Me,
            Some(worker) => Holder::Other(worker),
        }))
    }

    async fn send(&self, message: &str) -> Result<()> {
        let client = self.client().await?;
        client
            .execute(
                "SELECT pg_notify($1, $2)",
                &[&channel(&self.schema), &message],
            )
            .await
            .map_err(|error| map_pg_error(&self.target, error))?;
        Ok(())
    }

    fn messages(&self) -> broadcast::Receiver<String> {
        self.member.messages()
    }

    fn is_fenced(&self) -> bool {
        self.member.is_fenced()
    }

    fn peers(&self) -> usize {
        self.member.peers()
    }

    async fn offer(&self, offers: &[Offer]) -> Result<()> {
        self.put_offers(offers).await
    }

    async fn take_offers(&self, limit: usize, done_keyspace: Keyspace) -> Result<Vec<Offer>> {
        self.take_open_offers(limit, done_keyspace).await
    }

    async fn offered_steps(&self, workflow: &str) -> Result<Vec<u32>> {
        self.steps_on_offer(workflow).await
    }

    async fn withdraw_offers(&self, workflow: &str, steps: Option<&[u32]>) -> Result<()> {
        self.delete_offers(workflow, steps).await
    }

    async fn return_offers(&self, taken: &[(String, u32)]) -> Result<()> {
        self.untake_offers(taken).await
    }
}

impl PgStore {
    /// Whether this worker's row is still in the fleet.
    pub(crate) async fn member_present(&self, client: &deadpool_postgres::Object) -> Result<bool> {
        let statement = client
            .prepare_cached(&format!(
                "SELECT 1 FROM \"{}\".workers WHERE id = $1",
                self.schema
            ))
            .await
            .map_err(|error| map_pg_error(&self.target, error))?;
        let row = client
            .query_opt(&statement, &[&self.member.id()])
            .await
            .map_err(|error| map_pg_error(&self.target, error))?;
        Ok(row.is_some())
    }

    pub(crate) fn fenced(&self) -> StorageError {
        StorageError::Fenced {
            target: format!("{} (schema {})", self.target, self.schema),
        }
    }
}
