//! Many PostgreSQL stores on one schema as a fleet: each claim goes to one worker, waiting
//! claims are shared out without overlap, a gone worker's claims wait for others, a removed
//! worker's commits are refused, and messages reach every worker.
#![cfg(feature = "postgres")]

mod pg;

use std::collections::HashSet;
use std::time::Duration;

use pg::{url, Schema};
use workflow_storage::{
    Batch, Durability, Fleet, Holder, Keyspace, PgStore, Storage, StorageError, READY_MESSAGE,
};

const RUNS: Keyspace = Keyspace::new("runs");

fn fleet(store: &PgStore) -> &dyn Fleet {
    store
        .fleet()
        .expect("a PostgreSQL store is a fleet's member")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_on_one_schema_share_it_and_each_claim_has_one_holder() {
    let schema = Schema::new();
    let a = PgStore::connect(&url(), &schema.0).await.unwrap();
    let b = PgStore::connect(&url(), &schema.0).await.unwrap();
    assert_ne!(fleet(&a).worker(), fleet(&b).worker());

    // Both write to the schema.
    for (store, key) in [(&a, "from-a"), (&b, "from-b")] {
        let mut batch = Batch::new();
        batch.put(RUNS, key, "x");
        store.commit(batch, Durability::Sync).await.unwrap();
    }
    assert!(b.get(RUNS, b"from-a").await.unwrap().is_some());

    assert_eq!(fleet(&a).claim("w1").await.unwrap(), Holder::Me);
    assert_eq!(fleet(&a).claim("w1").await.unwrap(), Holder::Me);
    assert_eq!(
        fleet(&b).claim("w1").await.unwrap(),
        Holder::Other(fleet(&a).worker())
    );
    assert_eq!(
        fleet(&b).holder("w1").await.unwrap(),
        Some(Holder::Other(fleet(&a).worker()))
    );
    assert_eq!(fleet(&b).holder("w2").await.unwrap(), None);

    // Handed over, it waits; then the other takes it.
    fleet(&a).hand_over(&["w1".to_string()]).await.unwrap();
    assert_eq!(fleet(&b).holder("w1").await.unwrap(), Some(Holder::Waiting));
    assert_eq!(fleet(&b).claim("w1").await.unwrap(), Holder::Me);
    // Releasing another's claim does nothing; its holder's release drops it.
    fleet(&a).release(&["w1".to_string()]).await.unwrap();
    assert_eq!(
        fleet(&a).holder("w1").await.unwrap(),
        Some(Holder::Other(fleet(&b).worker()))
    );
    fleet(&b).release(&["w1".to_string()]).await.unwrap();
    assert_eq!(fleet(&a).holder("w1").await.unwrap(), None);
    a.close().await.unwrap();
    b.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_claims_are_shared_out_in_order_without_overlap() {
    let schema = Schema::new();
    let a = PgStore::connect(&url(), &schema.0).await.unwrap();
    let b = PgStore::connect(&url(), &schema.0).await.unwrap();
    let names: Vec<String> = (0..300).map(|i| format!("job-{i:03}")).collect();
    fleet(&a).ensure_claimed(&names).await.unwrap();
    // Claimed already: ensuring again changes nothing.
    fleet(&a).ensure_claimed(&names[..10]).await.unwrap();
    assert_eq!(
        fleet(&a).claim_waiting(5).await.unwrap(),
        names[..5].to_vec()
    );

    let mut takers = Vec::new();
    for store in [&a, &b] {
        let fleet = fleet(store);
        takers.push(async move {
            let mut taken = Vec::new();
            loop {
                let batch = fleet.claim_waiting(7).await.unwrap();
                if batch.is_empty() {
                    return taken;
                }
                taken.extend(batch);
            }
        });
    }
    let (from_a, from_b) = tokio::join!(takers.remove(0), takers.remove(0));
    let mut all: Vec<String> = from_a.iter().chain(&from_b).cloned().collect();
    let distinct: HashSet<&String> = all.iter().collect();
    assert_eq!(distinct.len(), all.len(), "a claim went to two workers");
    all.sort();
    assert_eq!(all, names[5..].to_vec());
    for name in &from_b {
        assert_eq!(
            fleet(&a).holder(name).await.unwrap(),
            Some(Holder::Other(fleet(&b).worker()))
        );
    }
    a.close().await.unwrap();
    b.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gone_workers_claims_wait_for_the_others_and_they_hear_of_it() {
    let schema = Schema::new();
    let survivor = PgStore::connect_with_lease(&url(), &schema.0, Duration::from_millis(600))
        .await
        .unwrap();
    let mut messages = fleet(&survivor).messages();
    let gone = PgStore::connect(&url(), &schema.0).await.unwrap();
    for name in ["a", "b"] {
        assert_eq!(fleet(&gone).claim(name).await.unwrap(), Holder::Me);
    }
    // Dropped without closing: its connection ends, as when its process dies.
    drop(gone);
    let heard = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if messages.recv().await.unwrap() == READY_MESSAGE {
                return;
            }
        }
    })
    .await;
    assert!(heard.is_ok(), "the fleet was not told that claims wait");
    let mut taken = fleet(&survivor).claim_waiting(10).await.unwrap();
    taken.sort();
    assert_eq!(taken, ["a", "b"]);
    survivor.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_worker_can_neither_commit_nor_claim() {
    let schema = Schema::new();
    let store = PgStore::connect_with_lease(&url(), &schema.0, Duration::from_millis(600))
        .await
        .unwrap();
    let fleet = fleet(&store);
    assert_eq!(fleet.claim("mine").await.unwrap(), Holder::Me);
    let (admin, connection) = tokio_postgres::connect(&url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    // As another worker does when this one's lease ran out.
    let removed = admin
        .execute(
            &format!("DELETE FROM \"{}\".workers WHERE id = $1", schema.0),
            &[&fleet.worker()],
        )
        .await
        .unwrap();
    assert_eq!(removed, 1);
    let mut batch = Batch::new();
    batch.put(RUNS, "late", "write");
    match store.commit(batch, Durability::Sync).await {
        Err(StorageError::Fenced { target }) => assert!(target.contains(&schema.0), "{target}"),
        other => panic!("a removed worker committed: {other:?}"),
    }
    assert!(store.get(RUNS, b"late").await.unwrap().is_none());
    assert!(matches!(
        fleet.claim("another").await,
        Err(StorageError::Fenced { .. })
    ));
    assert!(fleet.claim_waiting(10).await.unwrap().is_empty());
    // Its heartbeat finds out too.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(fleet.is_fenced());
    store.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_reach_every_worker() {
    let schema = Schema::new();
    let a = PgStore::connect(&url(), &schema.0).await.unwrap();
    let b = PgStore::connect(&url(), &schema.0).await.unwrap();
    let mut at_a = fleet(&a).messages();
    let mut at_b = fleet(&b).messages();
    fleet(&a).send("cancel w7").await.unwrap();
    for receiver in [&mut at_a, &mut at_b] {
        let got = tokio::time::timeout(Duration::from_secs(5), receiver.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got, "cancel w7");
    }
    a.close().await.unwrap();
    b.close().await.unwrap();
}
