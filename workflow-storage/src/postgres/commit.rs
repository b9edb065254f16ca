//! One batch as one transaction: expectations checked under row locks, then every put in
//! one statement and every delete in another.

use tokio_postgres::Transaction;

use super::errors::map_pg_error;
use super::worker::check_fence;
use crate::fleet::WorkerId;
use crate::{batch::last_writes, error::render_key, Expectation, Operation, Result, StorageError};

/// What a commit needs besides its batch.
pub(crate) struct Context<'a> {
    pub(crate) schema: &'a str,
    pub(crate) target: &'a str,
    /// The worker that must still be in the fleet.
    pub(crate) worker: WorkerId,
    /// The `SET LOCAL synchronous_commit` the durability needs, if the server's default
    /// does not already give it.
    pub(crate) setting: Option<&'static str>,
}

/// Applies `operations` within `tx` if the store still holds its lease and `expectations`
/// hold; the caller commits. Without expectations, the lease check and the writes are sent
/// at once, so a commit costs few round trips whatever its size (their order does not
/// matter: a takeover either waits for this transaction's lock on the lease, or is seen by
/// it). If the lease or an expectation fails, the caller drops `tx` and nothing is written.
pub(crate) async fn apply(
    tx: &Transaction<'_>,
    context: &Context<'_>,
    operations: Vec<Operation>,
    expectations: &[Expectation],
) -> Result<std::result::Result<(), tokio_postgres::Error>> {
    let run = async {
        let setting = async {
            match context.setting {
                Some(sql) => tx.batch_execute(sql).await,
                None => Ok(()),
            }
        };
        let fence = check_fence(tx, context.schema, context.worker);
        if expectations.is_empty() {
            let (_, held, ()) = tokio::try_join!(
                setting,
                fence,
                write(tx, context.schema, operations, Vec::new())
            )?;
            return Ok(if held { Ok(()) } else { Err(fenced(context)) });
        }
        let (_, held) = tokio::try_join!(setting, fence)?;
        if !held {
            return Ok(Err(fenced(context)));
        }
        let placeholders = match check(tx, context.schema, expectations).await? {
            Ok(placeholders) => placeholders,
            Err(conflict) => return Ok(Err(conflict)),
        };
        write(tx, context.schema, operations, placeholders).await?;
        Ok(Ok(()))
    };
    match run.await {
        Ok(Ok(())) => Ok(Ok(())),
        Ok(Err(refused)) => Err(refused),
        Err(error) if super::errors::is_transient(&error) => Ok(Err(error)),
        Err(error) => Err(map_pg_error(context.target, error)),
    }
}

fn fenced(context: &Context<'_>) -> StorageError {
    StorageError::Fenced {
        target: format!("{} (schema {})", context.target, context.schema),
    }
}

/// Checks the expectations, in key order so that concurrent batches lock in one order.
/// A key expected absent is held by inserting a placeholder row, which makes a concurrent
/// writer of that key wait for this transaction; the placeholders are returned to be
/// removed unless the batch writes them.
async fn check(
    tx: &Transaction<'_>,
    schema: &str,
    expectations: &[Expectation],
) -> std::result::Result<
    std::result::Result<Vec<(String, Vec<u8>)>, StorageError>,
    tokio_postgres::Error,
> {
    let mut sorted: Vec<&Expectation> = expectations.iter().collect();
    sorted.sort_by(|a, b| (a.keyspace.name(), &a.key).cmp(&(b.keyspace.name(), &b.key)));
    // One check per key: the same expectation twice is one, two different ones on a key
    // cannot both hold.
    sorted.dedup_by(|later, earlier| later == earlier);
    if let Some(pair) = sorted
        .windows(2)
        .find(|pair| (pair[0].keyspace, &pair[0].key) == (pair[1].keyspace, &pair[1].key))
    {
        return Ok(Err(StorageError::Conflict {
            keyspace: pair[0].keyspace.name(),
            key: render_key(&pair[0].key),
        }));
    }
    let mut placeholders = Vec::new();
    for expectation in sorted {
        let keyspace = expectation.keyspace.name();
        let holds = match &expectation.value {
            Some(expected) => {
                let row = tx
                    .query_opt(
                        &format!(
                            "SELECT value FROM \"{schema}\".records \
                             WHERE keyspace = $1 AND key = $2 FOR UPDATE"
                        ),
                        &[&keyspace, &expectation.key],
                    )
                    .await?;
                row.is_some_and(|row| row.get::<_, &[u8]>(0) == expected.as_slice())
            }
            None => {
                let inserted = tx
                    .execute(
                        &format!(
                            "INSERT INTO \"{schema}\".records (keyspace, key, value) \
                             VALUES ($1, $2, '') ON CONFLICT DO NOTHING"
                        ),
                        &[&keyspace, &expectation.key],
                    )
                    .await?;
                if inserted == 1 {
                    placeholders.push((keyspace.to_string(), expectation.key.clone()));
                }
                inserted == 1
            }
        };
        if !holds {
            return Ok(Err(StorageError::Conflict {
                keyspace: expectation.keyspace.name(),
                key: render_key(&expectation.key),
            }));
        }
    }
    Ok(Ok(placeholders))
}

/// Writes the last operation on each key: deletes in one statement and puts in one upsert,
/// sent at once unless a placeholder must go before a put of its key.
async fn write(
    tx: &Transaction<'_>,
    schema: &str,
    operations: Vec<Operation>,
    placeholders: Vec<(String, Vec<u8>)>,
) -> std::result::Result<(), tokio_postgres::Error> {
    let keep = last_writes(&operations);
    let mut puts: Vec<(&'static str, Vec<u8>, Vec<u8>)> = Vec::new();
    // Keys of the batch's own operations are distinct; a placeholder may share one with a
    // put, and must then be deleted before the put runs.
    let sequential = !placeholders.is_empty();
    let mut deletes: Vec<(String, Vec<u8>)> = placeholders;
    for (operation, keep) in operations.into_iter().zip(keep) {
        if !keep {
            continue;
        }
        match operation {
            Operation::Put {
                keyspace,
                key,
                value,
            } => puts.push((keyspace.name(), key, value)),
            Operation::Delete { keyspace, key } => deletes.push((keyspace.name().to_string(), key)),
        }
    }
    // In key order, so that concurrent batches lock rows in one order.
    puts.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let delete_keyspaces: Vec<&str> = deletes.iter().map(|(k, _)| k.as_str()).collect();
    let delete_keys: Vec<&[u8]> = deletes.iter().map(|(_, key)| key.as_slice()).collect();
    let put_keyspaces: Vec<&str> = puts.iter().map(|(k, _, _)| *k).collect();
    let put_keys: Vec<&[u8]> = puts.iter().map(|(_, key, _)| key.as_slice()).collect();
    let put_values: Vec<&[u8]> = puts.iter().map(|(_, _, value)| value.as_slice()).collect();
    let delete_sql = format!(
        "DELETE FROM \"{schema}\".records AS r \
         USING UNNEST($1::text[], $2::bytea[]) AS d(keyspace, key) \
         WHERE r.keyspace = d.keyspace AND r.key = d.key"
    );
    let put_sql = format!(
        "INSERT INTO \"{schema}\".records (keyspace, key, value) \
         SELECT * FROM UNNEST($1::text[], $2::bytea[], $3::bytea[]) \
         ON CONFLICT (keyspace, key) DO UPDATE SET value = EXCLUDED.value"
    );
    // A placeholder the batch writes is deleted, then written by the upsert after it.
    let delete = async {
        if deletes.is_empty() {
            return Ok(0);
        }
        tx.execute(&delete_sql, &[&delete_keyspaces, &delete_keys])
            .await
    };
    let put = async {
        if puts.is_empty() {
            return Ok(0);
        }
        tx.execute(&put_sql, &[&put_keyspaces, &put_keys, &put_values])
            .await
    };
    if sequential {
        delete.await?;
        put.await?;
    } else {
        // Statements are prepared and run concurrently: their order on the server is not
        // fixed, which is harmless for distinct keys.
        tokio::try_join!(delete, put)?;
    }
    Ok(())
}
