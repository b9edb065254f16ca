//! Offers on PostgreSQL: an `offers` table of steps a workflow's worker lets any worker of
//! the fleet run. Taking offers sets their `taker` in one statement that reads the taker's
//! worker row `FOR KEY SHARE` and skips rows other takers lock, so an offer has one live taker;
//! removing a worker clears its `taker`s (see `worker::remove`).

use crate::fleet::{Offer, OFFERED_MESSAGE};
use crate::{Keyspace, Result};

use super::{errors::map_pg_error, PgStore};

impl PgStore {
    pub(super) async fn put_offers(&self, offers: &[Offer]) -> Result<()> {
        if offers.is_empty() {
            return Ok(());
        }
        let mut workflows = Vec::with_capacity(offers.len());
        let mut steps = Vec::with_capacity(offers.len());
        let mut payloads = Vec::with_capacity(offers.len());
        let mut done_keys = Vec::with_capacity(offers.len());
        for offer in offers {
            workflows.push(offer.workflow.as_str());
            steps.push(step_number(offer.step));
            payloads.push(offer.payload.as_slice());
            done_keys.push(offer.done_key.as_slice());
        }
        let client = self.client().await?;
        let statement = client
            .prepare_cached(&format!(
                "INSERT INTO \"{schema}\".offers (workflow, step, owner, payload, done_key)
                 SELECT w, s, $5, p, d
                 FROM unnest($1::text[], $2::int4[], $3::bytea[], $4::bytea[]) AS o(w, s, p, d)
                 WHERE EXISTS (SELECT 1 FROM \"{schema}\".workers WHERE id = $5 FOR KEY SHARE)
                 ON CONFLICT (workflow, step) DO UPDATE
                     SET owner = EXCLUDED.owner, payload = EXCLUDED.payload,
                         done_key = EXCLUDED.done_key
                     WHERE offers.taker IS NULL",
                schema = self.schema
            ))
            .await
            .map_err(|error| map_pg_error(&self.target, error))?;
        let written = client
            .execute(
                &statement,
                &[&workflows, &steps, &payloads, &done_keys, &self.member.id()],
            )
            .await
            .map_err(|error| map_pg_error(&self.target, error))?;
        if written == 0 {
            self.check_member(&client).await?;
        }
        crate::Fleet::send(self, OFFERED_MESSAGE).await
    }

    pub(super) async fn take_open_offers(
        &self,
        limit: usize,
        done_keyspace: Keyspace,
    ) -> Result<Vec<Offer>> {
        let client = self.client().await?;
        let schema = &self.schema;
        let statement = client
            .prepare_cached(&format!(
                "UPDATE \"{schema}\".offers SET taker = $1
                 WHERE (workflow, step) IN (
                     SELECT workflow, step FROM \"{schema}\".offers o
                     WHERE taker IS NULL AND NOT EXISTS (
                         SELECT 1 FROM \"{schema}\".records r
                         WHERE r.keyspace = $3 AND r.key = o.done_key)
                     ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED)
                   AND EXISTS (SELECT 1 FROM \"{schema}\".workers WHERE id = $1 FOR KEY SHARE)
                 RETURNING workflow, step, payload, done_key"
            ))
            .await
            .map_err(|error| map_pg_error(&self.target, error))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = client
            .query(
                &statement,
                &[&self.member.id(), &limit, &done_keyspace.name()],
            )
            .await
            .map_err(|error| map_pg_error(&self.target, error))?;
        Ok(rows
            .into_iter()
            .map(|row| Offer {
                workflow: row.get(0),
                step: row.get::<_, i32>(1) as u32,
                payload: row.get(2),
                done_key: row.get(3),
            })
            .collect())
    }

    pub(super) async fn steps_on_offer(&self, workflow: &str) -> Result<Vec<u32>> {
        let client = self.client().await?;
        let schema = &self.schema;
        let rows = client
            .query(
                &format!(
                    "UPDATE \"{schema}\".offers SET owner = $2 WHERE workflow = $1
                       AND EXISTS (SELECT 1 FROM \"{schema}\".workers WHERE id = $2 FOR KEY SHARE)
                     RETURNING step"
                ),
                &[&workflow, &self.member.id()],
            )
            .await
            .map_err(|error| map_pg_error(&self.target, error))?;
        if rows.is_empty() {
            self.check_member(&client).await?;
        }
        let mut steps: Vec<u32> = rows
            .into_iter()
            .map(|row| row.get::<_, i32>(0) as u32)
            .collect();
        steps.sort_unstable();
        Ok(steps)
    }

    pub(super) async fn delete_offers(&self, workflow: &str, steps: Option<&[u32]>) -> Result<()> {
        let client = self.client().await?;
        let schema = &self.schema;
        let result = match steps {
            Some([]) => return Ok(()),
            Some(steps) => {
                let steps: Vec<i32> = steps.iter().map(|&step| step_number(step)).collect();
                let statement = client
                    .prepare_cached(&format!(
                        "DELETE FROM \"{schema}\".offers WHERE workflow = $1 AND step = ANY($2)
                           AND EXISTS (SELECT 1 FROM \"{schema}\".workers WHERE id = $3 FOR KEY SHARE)"
                    ))
                    .await
                    .map_err(|error| map_pg_error(&self.target, error))?;
                client
                    .execute(&statement, &[&workflow, &steps, &self.member.id()])
                    .await
            }
            None => {
                client
                    .execute(
                        &format!(
                            "DELETE FROM \"{schema}\".offers WHERE workflow = $1
                               AND EXISTS (SELECT 1 FROM \"{schema}\".workers
                                           WHERE id = $2 FOR KEY SHARE)"
                        ),
                        &[&workflow, &self.member.id()],
                    )
                    .await
            }
        };
        let deleted = result.map_err(|error| map_pg_error(&self.target, error))?;
        if deleted == 0 {
            self.check_member(&client).await?;
        }
        Ok(())
    }

    /// `Fenced` if the fleet removed this worker (its offers, withdrawals and adoptions are
    /// refused): asked when a statement changed nothing.
    async fn check_member(&self, client: &deadpool_postgres::Object) -> Result<()> {
        if self.member_present(client).await? {
            Ok(())
        } else {
            Err(self.fenced())
        }
    }

    pub(super) async fn untake_offers(&self, taken: &[(String, u32)]) -> Result<()> {
        if taken.is_empty() {
            return Ok(());
        }
        let workflows: Vec<&str> = taken
            .iter()
            .map(|(workflow, _)| workflow.as_str())
            .collect();
        let steps: Vec<i32> = taken.iter().map(|&(_, step)| step_number(step)).collect();
        let client = self.client().await?;
        client
            .execute(
                &format!(
                    "UPDATE \"{}\".offers o SET taker = NULL
                     FROM unnest($1::text[], $2::int4[]) AS t(w, s)
                     WHERE o.workflow = t.w AND o.step = t.s AND o.taker = $3",
                    self.schema
                ),
                &[&workflows, &steps, &self.member.id()],
            )
            .await
            .map_err(|error| map_pg_error(&self.target, error))?;
        crate::Fleet::send(self, OFFERED_MESSAGE).await
    }
}

/// A step number as PostgreSQL's `integer` holds it (steps are numbered from 0 up, far
/// below 2^31; a larger one wraps into the negatives and back on reading).
fn step_number(step: u32) -> i32 {
    step as i32
}
