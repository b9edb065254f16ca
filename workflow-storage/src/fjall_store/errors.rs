//! fjall's errors as [`StorageError`]s that say what happened and what to do.

use std::path::{Path, PathBuf};

use crate::{Keyspace, StorageError};

pub(super) fn map_error(path: &Path, error: fjall::Error) -> StorageError {
    map_error_in(path, None, error)
}

/// Maps an error of fjall, met while reading `keyspace` if it is given.
pub(super) fn map_error_in(
    path: &Path,
    keyspace: Option<Keyspace>,
    error: fjall::Error,
) -> StorageError {
    use fjall::LsmError;
    let damaged = |what: String, reason: String| StorageError::Damaged {
        path: path.to_path_buf(),
        what,
        reason,
    };
    let table = || match keyspace {
        Some(keyspace) => format!("a table of keyspace `{}`", keyspace.name()),
        None => "a table".to_string(),
    };
    match error {
        fjall::Error::JournalRecovery(recovery) => {
            let (path, what) = journal_named(path);
            StorageError::Damaged {
                path,
                what,
                reason: format!("holds a write that is not whole ({recovery:?})"),
            }
        }
        fjall::Error::InvalidTrailer | fjall::Error::InvalidTag(_) => {
            let (path, what) = journal_named(path);
            StorageError::Damaged {
                path,
                what,
                reason: format!("cannot be parsed ({error:?})"),
            }
        }
        fjall::Error::Decompress(_)
        | fjall::Error::Storage(
            LsmError::Decompress(_)
            | LsmError::ChecksumMismatch { .. }
            | LsmError::InvalidTag(_)
            | LsmError::InvalidTrailer
            | LsmError::InvalidHeader(_)
            | LsmError::Unrecoverable,
        ) => damaged(table(), format!("fails its check ({error:?})")),
        fjall::Error::Unrecoverable => damaged(
            "its files".to_string(),
            "cannot be recovered (a required file is missing or unreadable)".to_string(),
        ),
        error => map_other_error(path, error),
    }
}

/// The error of an open that panicked in fjall, which happens on some damaged journals.
pub(super) fn panicked_on_open(path: &Path, panic: &(dyn std::any::Any + Send)) -> StorageError {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("no message");
    let (path, what) = journal_named(path);
    StorageError::Damaged {
        path,
        what,
        reason: format!("stopped the storage engine while it was read ({message})"),
    }
}

/// The journal file to name in an error, or the folder if there is not exactly one.
fn journal_named(folder: &Path) -> (PathBuf, String) {
    match journal_files(folder).as_slice() {
        [only] => (
            only.clone(),
            format!(
                "the journal file `{}`",
                only.file_name().unwrap_or_default().to_string_lossy()
            ),
        ),
        _ => (folder.to_path_buf(), "a journal file".to_string()),
    }
}

/// The journal files in the store's folder.
fn journal_files(folder: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "jnl"))
        .collect();
    files.sort();
    files
}

fn map_other_error(path: &Path, error: fjall::Error) -> StorageError {
    match error {
        fjall::Error::Locked => StorageError::Locked {
            path: path.to_path_buf(),
        },
        fjall::Error::Io(source) | fjall::Error::Storage(fjall::LsmError::Io(source)) => {
            StorageError::Io {
                path: Some(path.to_path_buf()),
                source,
            }
        }
        // fjall's Display only wraps its Debug output.
        other => StorageError::Backend {
            message: format!("{other:?}"),
        },
    }
}
