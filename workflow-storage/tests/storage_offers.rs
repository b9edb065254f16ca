//! Offers on a PostgreSQL fleet: each goes to one taker at a time, oldest first; an offer
//! whose done marker is stored is never taken; a gone taker's offers are taken again; and
//! offers are withdrawn by step or by workflow.
#![cfg(feature = "postgres")]

mod pg;

use std::collections::HashSet;
use std::time::Duration;

use pg::{url, Schema};
use workflow_storage::{
    Batch, Durability, Fleet, Keyspace, Offer, PgStore, Storage, OFFERED_MESSAGE,
};

const DONE: Keyspace = Keyspace::new("done");

fn fleet(store: &PgStore) -> &dyn Fleet {
    store
        .fleet()
        .expect("a PostgreSQL store is a fleet's member")
}

fn offers(workflow: &str, steps: std::ops::Range<u32>) -> Vec<Offer> {
    steps
        .map(|step| {
            Offer::new(
                workflow,
                step,
                format!("task {step}").into_bytes(),
                format!("{workflow}/{step}").into_bytes(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offers_go_to_one_taker_each_and_never_once_done() {
    let schema = Schema::new();
    let owner = PgStore::connect(&url(), &schema.0).await.unwrap();
    let taker = PgStore::connect(&url(), &schema.0).await.unwrap();
    let mut messages = fleet(&taker).messages();
    fleet(&owner).offer(&offers("w", 0..300)).await.unwrap();
    let heard = tokio::time::timeout(Duration::from_secs(10), async {
        while messages.recv().await.unwrap() != OFFERED_MESSAGE {}
    })
    .await;
    assert!(heard.is_ok(), "the fleet was not told of the offers");

    // Step 0 is done already: nobody takes it.
    let mut batch = Batch::new();
    batch.put(DONE, b"w/0".to_vec(), Vec::new());
    owner.commit(batch, Durability::Sync).await.unwrap();
    let first = fleet(&taker).take_offers(3, DONE).await.unwrap();
    let steps: Vec<u32> = first.iter().map(|offer| offer.step).collect();
    assert_eq!(steps, [1, 2, 3], "oldest first, the done one skipped");
    assert_eq!(first[0].payload, b"task 1");
    assert_eq!(first[0].done_key, b"w/1");

    let mut takers = Vec::new();
    for store in [&owner, &taker] {
        let fleet = fleet(store);
        takers.push(async move {
            let mut taken = Vec::new();
            loop {
                let batch = fleet.take_offers(11, DONE).await.unwrap();
                if batch.is_empty() {
                    return taken;
                }
                taken.extend(batch.into_iter().map(|offer| offer.step));
            }
        });
    }
    let (a, b) = tokio::join!(takers.remove(0), takers.remove(0));
    let all: Vec<u32> = a.iter().chain(&b).copied().collect();
    let distinct: HashSet<u32> = all.iter().copied().collect();
    assert_eq!(distinct.len(), all.len(), "an offer went to two takers");
    assert_eq!(distinct, (4..300).collect::<HashSet<u32>>());

    // Given back, an offer is taken again.
    fleet(&taker)
        .return_offers(&[("w".to_string(), 2)])
        .await
        .unwrap();
    let again = fleet(&owner).take_offers(10, DONE).await.unwrap();
    assert_eq!(again.iter().map(|o| o.step).collect::<Vec<_>>(), [2]);

    // Withdrawn by step, then the rest by workflow.
    fleet(&owner)
        .withdraw_offers("w", Some(&[0, 1]))
        .await
        .unwrap();
    let left = fleet(&owner).offered_steps("w").await.unwrap();
    assert_eq!(left.len(), 298);
    assert_eq!(left[0], 2);
    fleet(&owner).withdraw_offers("w", None).await.unwrap();
    assert!(fleet(&owner).offered_steps("w").await.unwrap().is_empty());
    owner.close().await.unwrap();
    taker.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gone_takers_offers_are_taken_again() {
    let schema = Schema::new();
    let survivor = PgStore::connect_with_lease(&url(), &schema.0, Duration::from_millis(600))
        .await
        .unwrap();
    let gone = PgStore::connect(&url(), &schema.0).await.unwrap();
    fleet(&survivor).offer(&offers("w", 0..4)).await.unwrap();
    assert_eq!(fleet(&gone).take_offers(10, DONE).await.unwrap().len(), 4);
    assert!(fleet(&survivor)
        .take_offers(10, DONE)
        .await
        .unwrap()
        .is_empty());
    // Step 3 was done before its taker died.
    let mut batch = Batch::new();
    batch.put(DONE, b"w/3".to_vec(), Vec::new());
    gone.commit(batch, Durability::Sync).await.unwrap();
    drop(gone);
    let taken = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let taken = fleet(&survivor).take_offers(10, DONE).await.unwrap();
            if !taken.is_empty() {
                return taken;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the gone taker's offers were not freed");
    let mut steps: Vec<u32> = taken.iter().map(|offer| offer.step).collect();
    steps.sort();
    assert_eq!(steps, [0, 1, 2]);
    survivor.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_offer_stays_taken_and_a_removed_worker_changes_no_offer() {
    let schema = Schema::new();
    let owner = PgStore::connect(&url(), &schema.0).await.unwrap();
    let taker = PgStore::connect(&url(), &schema.0).await.unwrap();
    fleet(&owner).offer(&offers("w", 0..2)).await.unwrap();
    assert_eq!(fleet(&taker).take_offers(1, DONE).await.unwrap().len(), 1);
    // Offered again (a stale owner's late offer): the taken one is not reopened.
    fleet(&owner).offer(&offers("w", 0..2)).await.unwrap();
    let open = fleet(&owner).take_offers(10, DONE).await.unwrap();
    assert_eq!(open.iter().map(|o| o.step).collect::<Vec<_>>(), [1]);

    // Removed from the fleet, the owner can neither offer nor withdraw nor adopt.
    let (admin, connection) = tokio_postgres::connect(&url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    admin
        .execute(
            &format!("DELETE FROM \"{}\".workers WHERE id = $1", schema.0),
            &[&fleet(&owner).worker()],
        )
        .await
        .unwrap();
    let refused = |what: &str, result: workflow_storage::Result<()>| {
        assert!(
            matches!(result, Err(workflow_storage::StorageError::Fenced { .. })),
            "{what}: {result:?}"
        );
    };
    refused("offer", fleet(&owner).offer(&offers("x", 0..1)).await);
    refused("withdraw", fleet(&owner).withdraw_offers("w", None).await);
    assert!(fleet(&owner).offered_steps("w").await.is_err());
    assert_eq!(fleet(&taker).offered_steps("w").await.unwrap(), [0, 1]);
    assert!(fleet(&taker).offered_steps("x").await.unwrap().is_empty());
    taker.close().await.unwrap();
}
