//! One behavioural suite run against every backend, plus the fjall-only guarantees
//! (persistence, locking, folder errors).

mod suite;

use std::path::Path;

use async_trait::async_trait;
use suite::{concurrent_increments_are_not_lost, suite, Entries, EVENTS, RUNS};
use workflow_storage::{
    Batch, Durability, FjallStore, Keyspace, MemoryStore, Storage, StorageError,
};

#[tokio::test]
async fn memory_store_passes_the_suite() {
    suite(MemoryStore::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fjall_store_passes_the_suite() {
    let folder = tempfile::tempdir().unwrap();
    suite(FjallStore::open(folder.path().join("store")).unwrap()).await;
}

/// A store that implements only what the trait requires, to run its default methods.
struct RequiredOnly(MemoryStore);

#[async_trait]
impl Storage for RequiredOnly {
    async fn get(
        &self,
        keyspace: Keyspace,
        key: &[u8],
    ) -> workflow_storage::Result<Option<Vec<u8>>> {
        self.0.get(keyspace, key).await
    }
    async fn scan_prefix(
        &self,
        keyspace: Keyspace,
        prefix: &[u8],
    ) -> workflow_storage::Result<Entries> {
        self.0.scan_prefix(keyspace, prefix).await
    }
    async fn commit(&self, batch: Batch, durability: Durability) -> workflow_storage::Result<()> {
        self.0.commit(batch, durability).await
    }
    async fn close(&self) -> workflow_storage::Result<()> {
        self.0.close().await
    }
}

#[tokio::test]
async fn default_methods_pass_the_suite() {
    suite(RequiredOnly(MemoryStore::new())).await;
}

#[tokio::test]
async fn stores_work_as_trait_objects() {
    let folder = tempfile::tempdir().unwrap();
    let stores: Vec<Box<dyn Storage>> = vec![
        Box::new(MemoryStore::new()),
        Box::new(FjallStore::open(folder.path()).unwrap()),
    ];
    for store in &stores {
        let mut batch = Batch::new();
        batch.put(RUNS, "a", "1");
        store.commit(batch, Durability::Sync).await.unwrap();
        assert_eq!(store.get(RUNS, b"a").await.unwrap(), Some(b"1".to_vec()));
        store.close().await.unwrap();
    }
}

/// Tasks increment one counter with compare-and-set batches, retrying on conflict. If
/// expectations were not checked atomically with the write, increments would be lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_keeps_concurrent_increments() {
    concurrent_increments_are_not_lost(std::sync::Arc::new(MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fjall_store_keeps_concurrent_increments() {
    let folder = tempfile::tempdir().unwrap();
    concurrent_increments_are_not_lost(std::sync::Arc::new(
        FjallStore::open(folder.path()).unwrap(),
    ))
    .await;
}

async fn write_sample(store: &FjallStore) {
    for (key, durability) in [
        ("sync", Durability::Sync),
        ("buffered", Durability::Buffered),
    ] {
        let mut batch = Batch::new();
        batch.put(RUNS, key, key);
        batch.put(EVENTS, key, "event");
        store.commit(batch, durability).await.unwrap();
    }
}

async fn assert_sample(store: &FjallStore) {
    for key in ["sync", "buffered"] {
        assert_eq!(
            store.get(RUNS, key.as_bytes()).await.unwrap(),
            Some(key.as_bytes().to_vec())
        );
        assert_eq!(
            store.get(EVENTS, key.as_bytes()).await.unwrap(),
            Some(b"event".to_vec())
        );
    }
}

/// Whether the lock file of the store in `folder` is free at this instant. Unlike
/// `FjallStore::open`, which retries a held lock for a while, this does not wait. The file
/// name is fjall's.
// `File::try_lock` is newer than the workspace's declared minimum Rust version, but fjall
// already needs a newer compiler (it uses the same call).
#[allow(clippy::incompatible_msrv)]
fn lock_is_free(folder: &Path) -> bool {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(folder.join("lock"))
        .unwrap();
    match file.try_lock() {
        Ok(()) => true,
        Err(std::fs::TryLockError::WouldBlock) => false,
        Err(std::fs::TryLockError::Error(error)) => panic!("cannot probe the lock: {error}"),
    }
}

#[tokio::test]
async fn fjall_data_survives_close_and_reopen() {
    let folder = tempfile::tempdir().unwrap();
    let store = FjallStore::open(folder.path()).unwrap();
    write_sample(&store).await;
    assert!(!lock_is_free(folder.path()));
    store.close().await.unwrap();
    // Released by the time `close` returns, not some time later.
    assert!(lock_is_free(folder.path()));

    // `close` released the lock: the same process can open the folder again at once.
    let store = FjallStore::open(folder.path()).unwrap();
    assert_sample(&store).await;
    store.close().await.unwrap();
}

#[tokio::test]
async fn fjall_drop_releases_the_lock() {
    let folder = tempfile::tempdir().unwrap();
    let store = FjallStore::open(folder.path()).unwrap();
    write_sample(&store).await;
    assert!(!lock_is_free(folder.path()));
    drop(store);
    assert!(lock_is_free(folder.path()));

    let store = FjallStore::open(folder.path()).unwrap();
    assert_sample(&store).await;
}

#[tokio::test]
async fn fjall_empty_sync_commit_is_a_barrier() {
    let folder = tempfile::tempdir().unwrap();
    let store = FjallStore::open(folder.path()).unwrap();
    let mut batch = Batch::new();
    batch.put(RUNS, "a", "1");
    store.commit(batch, Durability::Buffered).await.unwrap();
    store.commit(Batch::new(), Durability::Sync).await.unwrap();
    assert_eq!(store.get(RUNS, b"a").await.unwrap(), Some(b"1".to_vec()));
}

#[tokio::test]
async fn fjall_refuses_a_folder_in_use() {
    let folder = tempfile::tempdir().unwrap();
    let store = FjallStore::open(folder.path()).unwrap();
    let error = FjallStore::open(folder.path()).unwrap_err();
    assert!(matches!(&error, StorageError::Locked { path } if path == folder.path()));
    assert!(error.to_string().contains("locked by another process"));
    // The refused open did not disturb the live store.
    write_sample(&store).await;
    assert_sample(&store).await;
}

#[test]
fn fjall_refuses_a_file_where_the_folder_should_be() {
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("store");
    std::fs::write(&file, b"not a store").unwrap();
    let error = FjallStore::open(&file).unwrap_err();
    assert!(
        matches!(&error, StorageError::Io { path: Some(path), source } if path == &file
            && source.kind() == std::io::ErrorKind::NotADirectory),
        "{error:?}"
    );
    assert!(error.to_string().contains(&format!("`{}`", file.display())));
    // The file was left alone.
    assert_eq!(std::fs::read(&file).unwrap(), b"not a store");
}

#[test]
fn fjall_creates_missing_folders() {
    let folder = tempfile::tempdir().unwrap();
    let nested = folder.path().join("a/b/c");
    drop(FjallStore::open(&nested).unwrap());
    assert!(Path::new(&nested).is_dir());
}
