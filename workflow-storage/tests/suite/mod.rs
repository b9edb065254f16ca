//! The behavioural suite every backend must pass: one model of keys, values, batches,
//! expectations, scans and pages, checked against each store.
#![allow(dead_code)]

use std::collections::BTreeMap;

use workflow_storage::{Batch, Durability, KeyBuilder, Keyspace, Order, Storage, StorageError};

pub const RUNS: Keyspace = Keyspace::new("runs");
pub const EVENTS: Keyspace = Keyspace::new("events");
pub const MODEL: Keyspace = Keyspace::new("model");

pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

async fn commit<S: Storage>(store: &S, batch: Batch) {
    store.commit(batch, Durability::Buffered).await.unwrap();
}

async fn put_get_delete<S: Storage>(store: &S) {
    assert_eq!(store.get(RUNS, b"missing").await.unwrap(), None);
    assert_eq!(
        store
            .get(Keyspace::new("never_written"), b"a")
            .await
            .unwrap(),
        None
    );
    assert!(store
        .scan_prefix(Keyspace::new("never_written"), b"")
        .await
        .unwrap()
        .is_empty());

    let mut batch = Batch::new();
    batch.put(RUNS, "run-1", "pending");
    commit(store, batch).await;
    assert_eq!(
        store.get(RUNS, b"run-1").await.unwrap(),
        Some(b"pending".to_vec())
    );
    // Keyspaces are independent.
    assert_eq!(store.get(EVENTS, b"run-1").await.unwrap(), None);

    let mut batch = Batch::new();
    batch.put(RUNS, "run-1", "done");
    commit(store, batch).await;
    assert_eq!(
        store.get(RUNS, b"run-1").await.unwrap(),
        Some(b"done".to_vec())
    );

    let mut batch = Batch::new();
    batch.delete(RUNS, "run-1");
    batch.delete(RUNS, "never-existed");
    commit(store, batch).await;
    assert_eq!(store.get(RUNS, b"run-1").await.unwrap(), None);

    // Empty values are values, not deletions.
    let mut batch = Batch::new();
    batch.put(RUNS, "empty", Vec::new());
    commit(store, batch).await;
    assert_eq!(store.get(RUNS, b"empty").await.unwrap(), Some(Vec::new()));
}

async fn batch_spans_keyspaces_atomically<S: Storage>(store: &S) {
    let mut batch = Batch::new();
    batch.put(RUNS, "run-2", "pending");
    batch.put(EVENTS, "run-2/0", "created");
    store.commit(batch, Durability::Sync).await.unwrap();
    assert_eq!(
        store.get(RUNS, b"run-2").await.unwrap(),
        Some(b"pending".to_vec())
    );
    assert_eq!(
        store.get(EVENTS, b"run-2/0").await.unwrap(),
        Some(b"created".to_vec())
    );

    // One invalid operation refuses the whole batch.
    let mut batch = Batch::new();
    batch.put(RUNS, "run-3", "pending");
    batch.put(EVENTS, "", "bad");
    assert!(matches!(
        store.commit(batch, Durability::Sync).await,
        Err(StorageError::InvalidKey {
            keyspace: "events",
            ..
        })
    ));
    assert_eq!(store.get(RUNS, b"run-3").await.unwrap(), None);
}

async fn later_operation_wins<S: Storage>(store: &S) {
    let mut batch = Batch::new();
    batch.put(RUNS, "w-1", "first");
    batch.put(RUNS, "w-1", "second");
    batch.put(RUNS, "w-2", "first");
    batch.delete(RUNS, "w-2");
    batch.delete(RUNS, "w-3");
    batch.put(RUNS, "w-3", "revived");
    let mut tail = Batch::new();
    tail.put(RUNS, "w-1", "appended");
    batch.append(tail);
    commit(store, batch).await;
    assert_eq!(
        store.get(RUNS, b"w-1").await.unwrap(),
        Some(b"appended".to_vec())
    );
    assert_eq!(store.get(RUNS, b"w-2").await.unwrap(), None);
    assert_eq!(
        store.get(RUNS, b"w-3").await.unwrap(),
        Some(b"revived".to_vec())
    );
}

async fn prefix_scan_is_ordered_and_exact<S: Storage>(store: &S) {
    let key = |id: &str, n: u32| KeyBuilder::new().str(id).u32(n).build();
    let mut batch = Batch::new();
    // Inserted out of order, including a longer id sharing the text prefix.
    for (id, n) in [
        ("ab", 0),
        ("a", 300),
        ("a", 2),
        ("b", 1),
        ("a", 1),
        ("ab", 7),
    ] {
        batch.put(EVENTS, key(id, n), format!("{id}:{n}"));
    }
    commit(store, batch).await;

    let prefix = KeyBuilder::new().str("a").build();
    let values: Vec<Vec<u8>> = store
        .scan_prefix(EVENTS, &prefix)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, value)| value)
        .collect();
    assert_eq!(
        values,
        [b"a:1".to_vec(), b"a:2".to_vec(), b"a:300".to_vec()]
    );

    let all = store.scan_prefix(EVENTS, b"").await.unwrap();
    assert!(
        all.windows(2).all(|pair| pair[0].0 < pair[1].0),
        "scan is not in key order"
    );
    assert!(all.iter().any(|(_, value)| value == b"ab:7"));
    assert!(store.scan_prefix(EVENTS, b"zzz").await.unwrap().is_empty());
}

async fn expectations_guard_the_batch<S: Storage>(store: &S) {
    // Absent expected absent: applies.
    let mut batch = Batch::new();
    batch.expect(RUNS, "lease", None);
    batch.put(RUNS, "lease", "worker-a");
    commit(store, batch).await;

    // Matching value expected: applies.
    let mut batch = Batch::new();
    batch.expect(RUNS, "lease", Some(b"worker-a".to_vec()));
    batch.put(RUNS, "lease", "worker-b");
    commit(store, batch).await;
    assert_eq!(
        store.get(RUNS, b"lease").await.unwrap(),
        Some(b"worker-b".to_vec())
    );

    // Stale value expected: refused, and nothing of the batch is written.
    let mut batch = Batch::new();
    batch.expect(RUNS, "lease", Some(b"worker-a".to_vec()));
    batch.put(RUNS, "lease", "worker-c");
    batch.put(EVENTS, "lease-taken", "c");
    let error = store.commit(batch, Durability::Sync).await.unwrap_err();
    assert!(matches!(&error, StorageError::Conflict { keyspace: "runs", key } if key == "lease"));
    assert_eq!(
        store.get(RUNS, b"lease").await.unwrap(),
        Some(b"worker-b".to_vec())
    );
    assert_eq!(store.get(EVENTS, b"lease-taken").await.unwrap(), None);

    // Expected absent but present: refused.
    let mut batch = Batch::new();
    batch.expect(RUNS, "lease", None);
    batch.delete(RUNS, "lease");
    assert!(matches!(
        store.commit(batch, Durability::Buffered).await,
        Err(StorageError::Conflict { .. })
    ));
    assert!(store.get(RUNS, b"lease").await.unwrap().is_some());

    // Expectations see the store before the batch, not the batch's own writes.
    let mut batch = Batch::new();
    batch.put(RUNS, "fresh", "x");
    batch.expect(RUNS, "fresh", Some(b"x".to_vec()));
    assert!(matches!(
        store.commit(batch, Durability::Buffered).await,
        Err(StorageError::Conflict { .. })
    ));
    assert_eq!(store.get(RUNS, b"fresh").await.unwrap(), None);

    // An expectation on a keyspace that does not exist sees an absent key.
    let mut batch = Batch::new();
    batch.expect(Keyspace::new("untouched"), "k", None);
    commit(store, batch).await;
}

/// Tiny xorshift generator: reproducible randomness without extra dependencies.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The small key space of the model test, so keys are overwritten and deleted often.
fn model_keys() -> Vec<Vec<u8>> {
    let mut keys: Vec<Vec<u8>> = ["x", "xy", "y"]
        .iter()
        .flat_map(|id| (0..6).map(move |n| KeyBuilder::new().str(id).u32(n).build()))
        .collect();
    // Keys at the top of the byte order, where a prefix has no successor.
    keys.extend([vec![0xff], vec![0xff, 0x00], vec![0xff, 0xff]]);
    keys
}

async fn matches_a_model<S: Storage>(store: &S, seed: u64) {
    let keys = model_keys();
    let x_prefix = KeyBuilder::new().str("x").build();
    let mut rng = XorShift(seed);
    let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    for round in 0..2_000u32 {
        let mut batch = Batch::new();
        let mut next = model.clone();
        for _ in 0..1 + rng.below(4) {
            let key = keys[rng.below(keys.len() as u64) as usize].clone();
            if rng.below(3) == 0 {
                batch.delete(MODEL, key.clone());
                next.remove(&key);
            } else {
                let value = format!("{round}:{}", rng.below(1000)).into_bytes();
                batch.put(MODEL, key.clone(), value.clone());
                next.insert(key, value);
            }
        }
        let durability = if round % 50 == 0 {
            Durability::Sync
        } else {
            Durability::Buffered
        };
        store.commit(batch, durability).await.unwrap();
        model = next;

        // Every key of the key space, after every commit.
        for key in &keys {
            assert_eq!(
                store.get(MODEL, key).await.unwrap().as_ref(),
                model.get(key),
                "key {key:?} after batch {round}"
            );
        }
        // Full scans walk every version still in fjall's memtable, which is slow in debug
        // builds, so order and exactness are compared on every tenth commit.
        if round % 10 == 9 {
            let expected: Entries = model.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            assert_eq!(
                store.scan_prefix(MODEL, b"").await.unwrap(),
                expected,
                "after batch {round}"
            );
            let expected: Entries = expected
                .into_iter()
                .filter(|(k, _)| k.starts_with(&x_prefix))
                .collect();
            assert_eq!(store.scan_prefix(MODEL, &x_prefix).await.unwrap(), expected);
        }
        if round % 100 == 99 {
            pages_walk_the_model(store, &model, &x_prefix, 1 + rng.below(5) as usize).await;
        }
    }
}

/// Walking `prefix` page by page, both ways, reads exactly the model's entries in order.
async fn pages_walk_the_model<S: Storage>(
    store: &S,
    model: &BTreeMap<Vec<u8>, Vec<u8>>,
    x_prefix: &[u8],
    limit: usize,
) {
    for prefix in [&b""[..], x_prefix, b"\xff"] {
        for order in [Order::Ascending, Order::Descending] {
            let mut expected: Entries = model
                .iter()
                .filter(|(k, _)| k.starts_with(prefix))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if order == Order::Descending {
                expected.reverse();
            }
            let mut walked: Entries = Vec::new();
            loop {
                let after = walked.last().map(|(key, _)| key.clone());
                let page = store
                    .scan_page(MODEL, prefix, after.as_deref(), order, limit)
                    .await
                    .unwrap();
                assert!(page.len() <= limit);
                let done = page.len() < limit;
                walked.extend(page);
                if done {
                    break;
                }
            }
            assert_eq!(walked, expected, "prefix {prefix:?} {order:?} by {limit}");
        }
    }
}

async fn closed_store_refuses_everything<S: Storage>(store: &S) {
    store.close().await.unwrap();
    assert!(matches!(
        store.get(RUNS, b"a").await,
        Err(StorageError::Closed)
    ));
    assert!(matches!(
        store.scan_prefix(RUNS, b"").await,
        Err(StorageError::Closed)
    ));
    assert!(matches!(
        store.scan_page(RUNS, b"", None, Order::Ascending, 10).await,
        Err(StorageError::Closed)
    ));
    for durability in [Durability::Sync, Durability::Buffered] {
        let mut batch = Batch::new();
        batch.put(RUNS, "a", "1");
        assert!(matches!(
            store.commit(batch, durability).await,
            Err(StorageError::Closed)
        ));
    }
    assert!(matches!(store.close().await, Err(StorageError::Closed)));
}

pub async fn suite<S: Storage>(store: S) {
    put_get_delete(&store).await;
    batch_spans_keyspaces_atomically(&store).await;
    later_operation_wins(&store).await;
    prefix_scan_is_ordered_and_exact(&store).await;
    expectations_guard_the_batch(&store).await;
    matches_a_model(&store, 0x2545_f491_4f6c_dd1d).await;
    closed_store_refuses_everything(&store).await;
}

pub async fn concurrent_increments_are_not_lost<S: Storage>(store: std::sync::Arc<S>) {
    const TASKS: u64 = 8;
    const INCREMENTS: u64 = 25;
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let store = std::sync::Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            for i in 0..INCREMENTS {
                loop {
                    let current = store.get(RUNS, b"counter").await.unwrap();
                    let n = current
                        .as_deref()
                        .map_or(0, |b| u64::from_be_bytes(b.try_into().unwrap()));
                    let mut batch = Batch::new();
                    batch.expect(RUNS, "counter", current);
                    batch.put(RUNS, "counter", (n + 1).to_be_bytes().to_vec());
                    let durability = if (task + i) % 4 == 0 {
                        Durability::Sync
                    } else {
                        Durability::Buffered
                    };
                    match store.commit(batch, durability).await {
                        Ok(()) => break,
                        Err(StorageError::Conflict { .. }) => {}
                        Err(error) => panic!("unexpected error: {error}"),
                    }
                    tokio::task::yield_now().await;
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let total = store.get(RUNS, b"counter").await.unwrap().unwrap();
    assert_eq!(
        u64::from_be_bytes(total.try_into().unwrap()),
        TASKS * INCREMENTS
    );
}
