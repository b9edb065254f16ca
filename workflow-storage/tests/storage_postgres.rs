//! The PostgreSQL backend against the machine's server: the behavioural suite, concurrent
//! conditional commits, persistence, the schema's version, a lost connection, and unreachable or
//! misconfigured servers. Each test works in a schema of its own, dropped afterwards.
//!
//! The server is `WORKFLOW_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/test`).
#![cfg(feature = "postgres")]

mod pg;
mod suite;

use pg::{url, Schema};
use suite::{concurrent_increments_are_not_lost, suite, RUNS};
use workflow_storage::{Batch, Durability, PgStore, Storage, StorageError};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_passes_the_suite() {
    let schema = Schema::new();
    suite(PgStore::connect(&url(), &schema.0).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_keeps_concurrent_increments() {
    let schema = Schema::new();
    let store = PgStore::connect(&url(), &schema.0).await.unwrap();
    let store = std::sync::Arc::new(store);
    concurrent_increments_are_not_lost(std::sync::Arc::clone(&store)).await;
    store.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_data_survives_close_and_reopen() {
    let schema = Schema::new();
    let store = PgStore::connect(&url(), &schema.0).await.unwrap();
    let mut batch = Batch::new();
    batch.put(RUNS, "kept", "yes");
    store.commit(batch, Durability::Sync).await.unwrap();
    store.close().await.unwrap();
    assert!(matches!(
        store.get(RUNS, b"kept").await,
        Err(StorageError::Closed)
    ));
    let again = PgStore::connect(&url(), &schema.0).await.unwrap();
    assert_eq!(
        again.get(RUNS, b"kept").await.unwrap(),
        Some(b"yes".to_vec())
    );
    again.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_of_a_newer_build_is_refused() {
    let schema = Schema::new();
    PgStore::connect(&url(), &schema.0)
        .await
        .unwrap()
        .close()
        .await
        .unwrap();
    let (client, connection) = tokio_postgres::connect(&url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .execute(
            &format!(
                "UPDATE \"{}\".meta SET value = '999' WHERE name = 'schema_version'",
                schema.0
            ),
            &[],
        )
        .await
        .unwrap();
    match PgStore::connect(&url(), &schema.0).await {
        Err(error @ StorageError::NewerSchema { found: 999, .. }) => {
            assert!(error.to_string().contains("upgrade"), "{error}");
        }
        other => panic!("a newer schema opened: {other:?}"),
    }
}

#[tokio::test]
async fn bad_urls_and_unreachable_servers_are_typed_errors() {
    for bad in ["not a url", "postgres://host:notaport/db", "mysql://x@y/z"] {
        assert!(
            matches!(
                PgStore::connect(bad, "workflow").await,
                Err(StorageError::InvalidConfig { .. })
            ),
            "{bad}"
        );
    }
    assert!(matches!(
        PgStore::connect(&url(), "Bad-Name").await,
        Err(StorageError::InvalidConfig { .. })
    ));
    // Nothing listens on port 1.
    match PgStore::connect("postgres://postgres:secret@127.0.0.1:1/test", "workflow").await {
        Err(error @ StorageError::Unreachable { .. }) => {
            let text = error.to_string();
            assert!(text.contains("127.0.0.1:1/test"), "{text}");
            assert!(!text.contains("secret"), "{text}");
        }
        other => panic!("a closed port connected: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn size_and_compaction_are_reported() {
    let schema = Schema::new();
    let store = PgStore::connect(&url(), &schema.0).await.unwrap();
    let mut batch = Batch::new();
    for n in 0..200_u32 {
        batch.put(RUNS, n.to_be_bytes(), vec![7_u8; 1_000]);
    }
    store.commit(batch, Durability::Buffered).await.unwrap();
    let size = store.disk_space().await.unwrap().expect("a size");
    assert!(size > 100_000, "{size} bytes for 200 kB of values");
    store.compact().await.unwrap();
    store.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_lost_its_connection_stops_writing() {
    let schema = Schema::new();
    let store = PgStore::connect(&url(), &schema.0).await.unwrap();
    let (admin, connection) = tokio_postgres::connect(&url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    // The server ends the worker's own connection (a restart, a network cut).
    let ended = admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks \
             WHERE locktype = 'advisory' AND objsubid = 2 \
             AND classid = ((hashtext($1)::bigint) & 4294967295)::oid",
            &[&schema.0],
        )
        .await
        .unwrap();
    assert_eq!(ended, 1, "one connection held the worker's lock");
    let mut refused = None;
    for _ in 0..100 {
        let mut batch = Batch::new();
        batch.put(RUNS, "late", "write");
        match store.commit(batch, Durability::Sync).await {
            Ok(()) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            Err(error) => {
                refused = Some(error);
                break;
            }
        }
    }
    match refused {
        Some(error @ StorageError::Unreachable { .. }) => {
            assert!(error.to_string().contains("was lost"), "{error}")
        }
        other => panic!("writes went on without the connection: {other:?}"),
    }
    // Reads still work; a new store joins the schema.
    assert!(store.get(RUNS, b"late").await.is_ok());
    store.close().await.unwrap();
    let again = PgStore::connect(&url(), &schema.0).await.unwrap();
    again.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_and_repeated_expectations_match_the_other_stores() {
    let schema = Schema::new();
    let store = PgStore::connect(&url(), &schema.0).await.unwrap();
    // A key too long for the database's index is refused before anything is written.
    let mut batch = Batch::new();
    batch.put(RUNS, "fine", "1");
    batch.put(RUNS, vec![b'k'; 3_000], "2");
    assert!(matches!(
        store.commit(batch, Durability::Sync).await,
        Err(StorageError::InvalidKey { .. })
    ));
    assert_eq!(store.get(RUNS, b"fine").await.unwrap(), None);
    // The same expectation twice is one; two that cannot both hold are a conflict.
    let mut batch = Batch::new();
    batch.expect(RUNS, "twice", None);
    batch.expect(RUNS, "twice", None);
    batch.put(RUNS, "twice", "1");
    store.commit(batch, Durability::Sync).await.unwrap();
    assert_eq!(
        store.get(RUNS, b"twice").await.unwrap(),
        Some(b"1".to_vec())
    );
    let mut batch = Batch::new();
    batch.expect(RUNS, "both", None);
    batch.expect(RUNS, "both", Some(Vec::new()));
    batch.put(RUNS, "both", "x");
    assert!(matches!(
        store.commit(batch, Durability::Sync).await,
        Err(StorageError::Conflict { .. })
    ));
    assert_eq!(store.get(RUNS, b"both").await.unwrap(), None);
    store.close().await.unwrap();
}
