//! The store's tables in its PostgreSQL schema, created and migrated by the store itself.

use tokio_postgres::Client;

use super::errors::map_pg_error;
use super::worker::LOCK_SPACE;
use crate::{Result, StorageError};

/// The newest version of the tables this build knows.
pub(crate) const SCHEMA_VERSION: u32 = 4;

/// The migrations, in order: entry `n` brings the tables from version `n` to `n + 1`.
/// `{schema}` is replaced by the quoted schema name.
const MIGRATIONS: [&str; SCHEMA_VERSION as usize] = [
    // 1: one table of records, keyed by keyspace and key; keys compare as bytes, so a prefix
    // of a key is a range of the primary key's index.
    "CREATE TABLE {schema}.records (
        keyspace text NOT NULL,
        key bytea NOT NULL,
        value bytea NOT NULL,
        PRIMARY KEY (keyspace, key)
    )",
    // 2: the lease of the store's holder: who, with which fence, until when, and whether it
    // holds the advisory lock that tells a live session from a gone one.
    "CREATE TABLE {schema}.leases (
        name text PRIMARY KEY,
        holder text NOT NULL,
        fence bigint NOT NULL,
        expires_at timestamptz NOT NULL,
        locked boolean NOT NULL
    )",
    // 3: many engines on one schema. Each is a worker with a lease (its number is the
    // fencing token its commits check); a claim names the one worker that may run a unit
    // of work, or none while it waits, in the order the claims were made.
    "DROP TABLE {schema}.leases;
     CREATE TABLE {schema}.workers (
        id bigserial PRIMARY KEY,
        name text NOT NULL,
        started_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        locked boolean NOT NULL
     );
     CREATE TABLE {schema}.claims (
        name text PRIMARY KEY,
        worker bigint,
        seq bigserial NOT NULL
     );
     CREATE INDEX claims_waiting ON {schema}.claims (seq) WHERE worker IS NULL;
     CREATE INDEX claims_worker ON {schema}.claims (worker);",
    // 4: steps a workflow's worker offers to the fleet: taken by one worker at a time
    // (`taker`), and done once the record `done_key` exists.
    "CREATE TABLE {schema}.offers (
        workflow text NOT NULL,
        step integer NOT NULL,
        owner bigint NOT NULL,
        taker bigint,
        payload bytea NOT NULL,
        done_key bytea NOT NULL,
        seq bigserial NOT NULL,
        PRIMARY KEY (workflow, step)
     );
     CREATE INDEX offers_open ON {schema}.offers (seq) WHERE taker IS NULL;
     CREATE INDEX offers_taker ON {schema}.offers (taker);",
];

/// Checks that `name` is a schema name used as is, without quoting surprises: 1 to 63
/// lowercase ASCII letters, digits and `_`, not starting with a digit.
pub(crate) fn validate_schema_name(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit()
        && !name.starts_with("pg_");
    if valid {
        Ok(())
    } else {
        Err(StorageError::InvalidConfig {
            reason: format!(
                "schema name `{}` is not 1 to 63 lowercase letters, digits and `_` starting with \
                 a letter or `_` (and not `pg_`, which PostgreSQL keeps for itself)",
                name.escape_debug()
            ),
        })
    }
}

/// Creates the schema and its tables, or brings them to [`SCHEMA_VERSION`], in one
/// transaction, under an advisory lock of the schema so that workers starting together
/// migrate it once.
pub(crate) async fn migrate(client: &mut Client, schema: &str, target: &str) -> Result<()> {
    let map = |error| map_pg_error(target, error);
    let tx = client.transaction().await.map_err(map)?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext($2))",
        &[&LOCK_SPACE, &schema],
    )
    .await
    .map_err(map)?;
    tx.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS \"{schema}\";
         CREATE TABLE IF NOT EXISTS \"{schema}\".meta (name text PRIMARY KEY, value text NOT NULL);"
    ))
    .await
    .map_err(map)?;
    let found: u32 = match tx
        .query_opt(
            &format!("SELECT value FROM \"{schema}\".meta WHERE name = 'schema_version'"),
            &[],
        )
        .await
        .map_err(map)?
    {
        Some(row) => {
            let text: String = row.get(0);
            text.parse().map_err(|_| StorageError::Corrupt {
                keyspace: "meta",
                key: "schema_version".to_string(),
                reason: format!("`{text}` is not a version number"),
            })?
        }
        None => 0,
    };
    if found > SCHEMA_VERSION {
        return Err(StorageError::NewerSchema {
            schema: schema.to_string(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for migration in &MIGRATIONS[found as usize..] {
        let sql = migration.replace("{schema}", &format!("\"{schema}\""));
        tx.batch_execute(&sql).await.map_err(map)?;
    }
    if found < SCHEMA_VERSION {
        tx.execute(
            &format!(
                "INSERT INTO \"{schema}\".meta (name, value) VALUES ('schema_version', $1)
                 ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value"
            ),
            &[&SCHEMA_VERSION.to_string()],
        )
        .await
        .map_err(map)?;
        tracing::info!(
            schema,
            from = found,
            to = SCHEMA_VERSION,
            "migrated store schema"
        );
    }
    tx.commit().await.map_err(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_plain_identifiers() {
        for good in ["workflow", "w_1", "_x", &"a".repeat(63)] {
            assert!(validate_schema_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "1a",
            "A",
            "a-b",
            "a\"b",
            "a b",
            "é",
            "pg_x",
            &"a".repeat(64),
        ] {
            assert!(
                matches!(
                    validate_schema_name(bad),
                    Err(StorageError::InvalidConfig { .. })
                ),
                "{bad:?}"
            );
        }
    }
}
