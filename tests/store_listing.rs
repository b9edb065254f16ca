//! Listing a store page by page: by id or newest first, filtered by status and id prefix,
//! with cursors that survive changes to the store; and an older store without the creation
//! index gets one when it is opened.

mod support;

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use workflow::prelude::*;
use workflow::{
    storage::{Batch, Durability, FjallStore, Keyspace, Storage},
    WorkflowPage,
};

#[task]
fn echo(n: u64) -> u64 {
    n
}

#[task]
fn refuse(n: u64) -> Result<u64, String> {
    Err(format!("refused {n}"))
}

#[derive(Serialize, Deserialize)]
struct Tally {
    count: u64,
}

#[virtual_actor]
impl Tally {
    fn new() -> Self {
        Tally { count: 0 }
    }
    fn bump(&mut self) -> u64 {
        self.count += 1;
        self.count
    }
}

/// Runs `count` workflows `{prefix}{n:03}` in order of `n`; every third one fails.
async fn fill(engine: &Engine, prefix: &str, count: u64) -> workflow::Result<()> {
    for n in 0..count {
        let id = format!("{prefix}{n:03}");
        let dag = if n % 3 == 2 {
            refuse::bind(n)
        } else {
            echo::bind(n)
        };
        let _ = engine.run(&id, dag).await;
    }
    Ok(())
}

/// Every page of `query`, walked with the cursors; each page holds at most its limit.
async fn walk(engine: &Engine, mut query: ListQuery) -> workflow::Result<Vec<String>> {
    let mut ids = Vec::new();
    loop {
        let WorkflowPage {
            workflows, next, ..
        } = engine.list_page(&query).await?;
        assert!(workflows.len() <= query.limit);
        ids.extend(workflows.into_iter().map(|w| w.id));
        match next {
            Some(next) => query = query.after(next),
            None => return Ok(ids),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_walk_every_workflow_in_order() -> workflow::Result<()> {
    let engine = support::engine().await?;
    fill(&engine, "b-", 40).await?;
    fill(&engine, "a-", 25).await?;
    // Actor calls are workflows of the store, but not listed.
    let tally = Tally::get_or_create(&engine, "tally").await?;
    tally.bump().run().await?;

    let by_id = walk(&engine, ListQuery::new().limit(7)).await?;
    let mut expected: Vec<String> = (0..25)
        .map(|n| format!("a-{n:03}"))
        .chain((0..40).map(|n| format!("b-{n:03}")))
        .collect();
    assert_eq!(by_id, expected);

    // Newest first: `a-` ran after `b-`, and within each in order of `n`.
    let newest = walk(&engine, ListQuery::new().newest_first().limit(6)).await?;
    let mut by_creation: Vec<String> = (0..40)
        .map(|n| format!("b-{n:03}"))
        .chain((0..25).map(|n| format!("a-{n:03}")))
        .collect();
    by_creation.reverse();
    assert_eq!(newest, by_creation);

    // Filters, both ways.
    for newest_first in [false, true] {
        let mut query = ListQuery::new().id_prefix("b-").limit(4);
        query.newest_first = newest_first;
        let mut ids = walk(&engine, query.clone()).await?;
        ids.sort();
        expected = (0..40).map(|n| format!("b-{n:03}")).collect();
        assert_eq!(ids, expected);

        let failed = walk(&engine, query.status(WorkflowStatus::Failed)).await?;
        let failed: BTreeSet<String> = failed.into_iter().collect();
        let expected: BTreeSet<String> = (0..40)
            .filter(|n| n % 3 == 2)
            .map(|n| format!("b-{n:03}"))
            .collect();
        assert_eq!(failed, expected);
    }
    // `list` and the pages agree.
    assert_eq!(engine.list(None).await?.len(), 65);
    engine.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_survives_deletes_and_new_workflows() -> workflow::Result<()> {
    let engine = support::engine().await?;
    fill(&engine, "w-", 12).await?;
    let first = engine
        .list_page(&ListQuery::new().newest_first().limit(5))
        .await?;
    let ids: Vec<&str> = first.workflows.iter().map(|w| w.id.as_str()).collect();
    assert_eq!(ids, ["w-011", "w-010", "w-009", "w-008", "w-007"]);
    let next = first.next.expect("more pages");

    // The last workflow of the page and the first of the next are deleted, and a new one
    // arrives: the next page starts right after the deleted one and skips the new one.
    engine.delete("w-007").await?;
    engine.delete("w-006").await?;
    engine.run("w-new", echo::bind(1)).await?;
    let rest = walk(
        &engine,
        ListQuery::new().newest_first().limit(5).after(next),
    )
    .await?;
    assert_eq!(rest, ["w-005", "w-004", "w-003", "w-002", "w-001", "w-000"]);
    let newest = engine
        .list_page(&ListQuery::new().newest_first().limit(1))
        .await?;
    assert_eq!(newest.workflows[0].id, "w-new");
    engine.close().await
}

#[tokio::test]
async fn a_foreign_cursor_is_a_typed_error() -> workflow::Result<()> {
    let engine = support::engine().await?;
    fill(&engine, "w-", 3).await?;
    let by_id = engine.list_page(&ListQuery::new().limit(1)).await?;
    let cursor = by_id.next.expect("more pages");
    // A cursor of the id order does not fit the creation order, nor does made-up text.
    for bad in [cursor.as_str(), "", "c", "cxyz", "../etc"] {
        let query = ListQuery::new().newest_first().after(bad);
        match engine.list_page(&query).await {
            Err(Error::InvalidId { reason, .. }) => assert!(reason.contains("cursor")),
            other => panic!("cursor {bad:?} gave {other:?}"),
        }
    }
    engine.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_store_gets_its_creation_index_on_open() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    {
        let engine = Engine::open(&path).await?;
        fill(&engine, "w-", 9).await?;
        engine.close().await?;
    }
    // Make it a store of a build that had no creation index.
    {
        let store = FjallStore::open(&path)?;
        let mut batch = Batch::new();
        for keyspace in [Keyspace::new("created"), Keyspace::new("meta")] {
            for (key, _) in store.scan_prefix(keyspace, b"").await? {
                batch.delete(keyspace, key);
            }
        }
        store.commit(batch, Durability::Sync).await?;
        assert!(store
            .scan_prefix(Keyspace::new("created"), b"")
            .await?
            .is_empty());
        store.close().await?;
    }
    let engine = Engine::open(&path).await?;
    let newest = walk(&engine, ListQuery::new().newest_first().limit(4)).await?;
    let expected: Vec<String> = (0..9).rev().map(|n| format!("w-{n:03}")).collect();
    assert_eq!(newest, expected);
    engine.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compaction_returns_the_space_of_deleted_workflows() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path().join("store")).await?;
    #[task]
    fn length(bytes: Vec<u8>) -> u64 {
        bytes.len() as u64
    }
    // Bytes that do not compress, so the store's size follows what it holds.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    for n in 0..200 {
        let payload: Vec<u8> = (0..20_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        engine.run(&format!("w-{n}"), length::bind(payload)).await?;
    }
    engine.compact().await?;
    let tables = dir.path().join("store").join("keyspaces");
    let full_tables = allocated(&tables);
    let full = engine
        .stats()
        .await?
        .disk_bytes
        .expect("fjall knows its size");
    for n in 0..200 {
        engine.delete(&format!("w-{n}")).await?;
    }
    engine.compact().await?;
    let emptied_tables = allocated(&tables);
    let emptied = engine
        .stats()
        .await?
        .disk_bytes
        .expect("fjall knows its size");
    // 200 workflows of 20 kB arguments take at least 4 MB of tables; deleting them gives
    // nearly all of it back. The journal keeps its bytes until it rotates (at 64 MB).
    assert!(full_tables > 4_000_000, "{full_tables} bytes of tables");
    assert!(
        emptied_tables < full_tables / 10,
        "{emptied_tables} of {full_tables} bytes of tables left after compaction"
    );
    assert!(emptied < full, "{emptied} of {full} bytes left");
    assert!(engine.list(None).await?.is_empty());
    engine.close().await
}

/// The bytes allocated to the files under `folder`.
fn allocated(folder: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    for entry in std::fs::read_dir(folder).unwrap() {
        let entry = entry.unwrap();
        let metadata = entry.metadata().unwrap();
        total += if metadata.is_dir() {
            allocated(&entry.path())
        } else {
            metadata.blocks() * 512
        };
    }
    total
}
