//! Damaged files of a fjall store: a journal cut short opens with a prefix of the writes; a
//! flipped byte in a journal or a table is a `Damaged` error naming the file or keyspace (or,
//! for a flip in a journal write's framing, the journal ends there), never a panic and never
//! a wrong value.

use std::path::{Path, PathBuf};

use workflow_storage::{
    Batch, Durability, FjallStore, KeyBuilder, Keyspace, Storage, StorageError,
};

const RUNS: Keyspace = Keyspace::new("runs");
const WRITES: u32 = 60;

fn key(n: u32) -> Vec<u8> {
    KeyBuilder::new().str("run").u32(n).build()
}

fn value(n: u32) -> Vec<u8> {
    format!(
        "value of write {n}, long enough to span bytes: {}",
        "v".repeat(40)
    )
    .into_bytes()
}

/// A store holding `WRITES` commits of one key each, still open, so they are in its journal
/// only; and a copy of its folder, as a crash would leave it.
async fn journal_snapshot(dir: &Path) -> (FjallStore, PathBuf) {
    let live = dir.join("live");
    let store = FjallStore::open(&live).unwrap();
    for n in 0..WRITES {
        let mut batch = Batch::new();
        batch.put(RUNS, key(n), value(n));
        store.commit(batch, Durability::Buffered).await.unwrap();
    }
    let copy = dir.join("snapshot");
    copy_folder(&live, &copy);
    (store, copy)
}

fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_folder(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn journal(folder: &Path) -> PathBuf {
    let journals: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jnl"))
        .collect();
    assert_eq!(journals.len(), 1, "{journals:?}");
    journals[0].clone()
}

/// The length of the journal's written part: preallocated space past it reads as zeros.
fn written_len(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .rposition(|b| *b != 0)
        .map_or(0, |last| last + 1)
}

/// Checks what a store opened from a damaged copy holds: the first writes, in order, each
/// with its right value, and nothing after a missing one. Returns how many it holds.
async fn holds_a_prefix(store: &FjallStore) -> Result<u32, StorageError> {
    let mut present = 0;
    for n in 0..WRITES {
        if let Some(found) = store.get(RUNS, &key(n)).await? {
            assert_eq!(found, value(n), "write {n} came back changed");
            assert_eq!(present, n, "write {n} is there but an earlier one is not");
            present += 1;
        }
    }
    Ok(present)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_cut_short_opens_with_the_writes_before_the_cut() {
    let dir = tempfile::tempdir().unwrap();
    let (live, snapshot) = journal_snapshot(dir.path()).await;
    let bytes = std::fs::read(journal(&snapshot)).unwrap();
    let written = written_len(&bytes);
    assert!(
        written > 60 * 40,
        "the journal holds the writes ({written} bytes)"
    );
    let mut counts = Vec::new();
    for cut in [
        0,
        1,
        17,
        written / 4,
        written / 2,
        written - 100,
        written - 1,
        written,
    ] {
        let copy = dir.path().join(format!("cut-{cut}"));
        copy_folder(&snapshot, &copy);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(journal(&copy))
            .unwrap();
        file.set_len(cut as u64).unwrap();
        drop(file);
        let store = FjallStore::open(&copy).unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        counts.push(holds_a_prefix(&store).await.unwrap());
        store.close().await.unwrap();
    }
    // More of the journal, more writes; all of it, all of them.
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
    assert_eq!(counts.first(), Some(&0));
    assert_eq!(counts.last(), Some(&WRITES));
    assert!(counts.iter().any(|&c| c > 0 && c < WRITES), "{counts:?}");
    live.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flipped_byte_in_the_journal_is_damage_named_by_file() {
    let dir = tempfile::tempdir().unwrap();
    let (live, snapshot) = journal_snapshot(dir.path()).await;
    let bytes = std::fs::read(journal(&snapshot)).unwrap();
    let written = written_len(&bytes);
    let mut damaged = 0;
    let mut cut_short = 0;
    let mut flips = 0;
    // Every 151st byte of the written part, one at a time.
    for at in (0..written - 64).step_by(151) {
        flips += 1;
        let copy = dir.path().join(format!("flip-{at}"));
        copy_folder(&snapshot, &copy);
        let path = journal(&copy);
        let mut flipped = bytes.clone();
        flipped[at] ^= 0x5a;
        std::fs::write(&path, &flipped).unwrap();
        match FjallStore::open(&copy) {
            Err(StorageError::Damaged {
                path: named, what, ..
            }) => {
                assert_eq!(named, path, "the damaged file is named");
                assert!(what.contains(".jnl"), "{what}");
                let message = StorageError::Damaged {
                    path: named,
                    what,
                    reason: String::new(),
                }
                .to_string();
                assert!(message.contains("backup"), "{message}");
                damaged += 1;
            }
            // A flip in a write's framing that fjall reads as the end of the journal
            // leaves a shorter, whole prefix: never a changed value.
            Ok(store) => {
                let held = holds_a_prefix(&store).await.unwrap();
                if held < WRITES {
                    cut_short += 1;
                }
                store.close().await.unwrap();
            }
            Err(other) => panic!("flip at {at}: {other:?}"),
        }
        std::fs::remove_dir_all(&copy).unwrap();
    }
    eprintln!("{flips} flips: {damaged} refused as damaged, {cut_short} read as an earlier end");
    // Most flips are caught by a checksum; those in a write's framing end the journal there
    // (fjall's recovery keeps the whole writes before them, and no error is raised).
    assert!(damaged * 4 >= flips * 3, "{damaged} of {flips} flips found");
    assert!(
        cut_short * 5 <= flips,
        "{cut_short} of {flips} flips cut the journal"
    );
    live.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flipped_byte_in_a_table_is_damage_named_by_keyspace() {
    let dir = tempfile::tempdir().unwrap();
    let (live, _) = journal_snapshot(dir.path()).await;
    // Closing writes the writes into a table.
    live.close().await.unwrap();
    let tables: Vec<PathBuf> = table_files(&dir.path().join("live"));
    assert!(!tables.is_empty(), "the close wrote a table");
    let mut damaged = 0;
    for table in &tables {
        let bytes = std::fs::read(table).unwrap();
        for at in (0..bytes.len()).step_by(bytes.len() / 25 + 1) {
            let copy = dir.path().join(format!("table-{at}"));
            copy_folder(&dir.path().join("live"), &copy);
            let relative = table.strip_prefix(dir.path().join("live")).unwrap();
            let mut flipped = bytes.clone();
            flipped[at] ^= 0x5a;
            std::fs::write(copy.join(relative), &flipped).unwrap();
            let outcome = match FjallStore::open(&copy) {
                Ok(store) => {
                    let read = holds_a_prefix(&store).await;
                    store.close().await.unwrap();
                    // The table held every write: all of them, or an error.
                    read.map(|held| assert_eq!(held, WRITES, "flip at {at}"))
                }
                Err(error) => Err(error),
            };
            match outcome {
                Ok(()) => {}
                Err(StorageError::Damaged { what, .. }) => {
                    assert!(what.contains("table") || what.contains("files"), "{what}");
                    damaged += 1;
                }
                Err(StorageError::Backend { message }) => {
                    panic!("flip at {at} of {}: untyped {message}", table.display())
                }
                Err(other) => panic!("flip at {at}: {other:?}"),
            }
            std::fs::remove_dir_all(&copy).unwrap();
        }
    }
    assert!(damaged > 0, "no flip was found");
}

fn table_files(folder: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(table_files(&path));
        } else if path.parent().is_some_and(|p| p.ends_with("tables")) {
            found.push(path);
        }
    }
    found
}
