//! One batch as one transaction: expectations checked under row locks, then every put in
//! one statement and every delete in another.

use tokio_postgres::Transaction;

use super::errors::map_pg_error;
use crate::{
    batch::last_writes, error::render_key, Durability, Expectation, Operation, Result, StorageError,
};

/// Applies `operations` if `expectations` hold, within `tx`; the caller commits.
pub(crate) async fn apply(
    tx: &Transaction<'_>,
    schema: &str,
    target: &str,
    operations: Vec<Operation>,
    expectations: &[Expectation],
    durability: Durability,
) -> Result<std::result::Result<(), tokio_postgres::Error>> {
    let run = async {
        // Whatever the server's or role's default: `Sync` waits for the server's flush;
        // `Buffered` does not (the server may lose it only if the server itself crashes).
        tx.batch_execute(match durability {
            Durability::Sync => "SET LOCAL synchronous_commit = on",
            Durability::Buffered => "SET LOCAL synchronous_commit = off",
        })
        .await?;
        let placeholders = match check(tx, schema, expectations).await? {
            Ok(placeholders) => placeholders,
            Err(conflict) => return Ok(Err(conflict)),
        };
        write(tx, schema, operations, placeholders).await?;
        Ok(Ok(()))
    };
    match run.await {
        Ok(Ok(())) => Ok(Ok(())),
        Ok(Err(conflict)) => Err(conflict),
        Err(error) if super::errors::is_transient(&error) => Ok(Err(error)),
        Err(error) => Err(map_pg_error(target, error)),
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

/// Writes the last operation on each key: puts in one upsert, deletes in one statement.
async fn write(
    tx: &Transaction<'_>,
    schema: &str,
    operations: Vec<Operation>,
    placeholders: Vec<(String, Vec<u8>)>,
) -> std::result::Result<(), tokio_postgres::Error> {
    let keep = last_writes(&operations);
    let mut puts: Vec<(&'static str, Vec<u8>, Vec<u8>)> = Vec::new();
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
    // A placeholder the batch writes is overwritten by the upsert, which comes after.
    if !deletes.is_empty() {
        let keyspaces: Vec<&str> = deletes.iter().map(|(k, _)| k.as_str()).collect();
        let keys: Vec<&[u8]> = deletes.iter().map(|(_, key)| key.as_slice()).collect();
        tx.execute(
            &format!(
                "DELETE FROM \"{schema}\".records AS r \
                 USING UNNEST($1::text[], $2::bytea[]) AS d(keyspace, key) \
                 WHERE r.keyspace = d.keyspace AND r.key = d.key"
            ),
            &[&keyspaces, &keys],
        )
        .await?;
    }
    if !puts.is_empty() {
        // In key order, so that concurrent batches lock rows in one order.
        puts.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        let keyspaces: Vec<&str> = puts.iter().map(|(k, _, _)| *k).collect();
        let keys: Vec<&[u8]> = puts.iter().map(|(_, key, _)| key.as_slice()).collect();
        let values: Vec<&[u8]> = puts.iter().map(|(_, _, value)| value.as_slice()).collect();
        tx.execute(
            &format!(
                "INSERT INTO \"{schema}\".records (keyspace, key, value) \
                 SELECT * FROM UNNEST($1::text[], $2::bytea[], $3::bytea[]) \
                 ON CONFLICT (keyspace, key) DO UPDATE SET value = EXCLUDED.value"
            ),
            &[&keyspaces, &keys, &values],
        )
        .await?;
    }
    Ok(())
}
