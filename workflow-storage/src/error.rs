use std::fmt::Write as _;
use std::path::PathBuf;

/// The result type of this crate: `Result<T, StorageError>` unless another error is given.
///
/// # Examples
///
/// ```
/// use workflow_storage::{Result, StorageError};
///
/// fn closed() -> Result<u32> {
///     Err(StorageError::Closed)
/// }
/// assert!(matches!(closed(), Err(StorageError::Closed)));
/// ```
pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// Why a storage operation failed.
///
/// Messages are written for the person running the program: they say what happened and
/// what to do. The underlying cause, when there is one, is available through
/// [`std::error::Error::source`] and is not repeated in the message.
///
/// # Examples
///
/// ```
/// use workflow_storage::StorageError;
///
/// let error = StorageError::Conflict { keyspace: "runs", key: "run-1".into() };
/// assert!(error.to_string().contains("`run-1`"));
/// assert!(matches!(error, StorageError::Conflict { .. }));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// Another process (or another open store in this process) holds the store's lock.
    #[error(
        "the store at `{}` is locked by another process; stop that process or open another folder",
        path.display()
    )]
    Locked {
        /// The folder of the store.
        path: PathBuf,
    },

    /// Reading or writing a file failed.
    #[error(
        "storage I/O failed{}; check that the path is a folder this process may write to and \
         that the disk has free space",
        at_path(path)
    )]
    Io {
        /// The file or folder involved, when known.
        path: Option<PathBuf>,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// The storage engine failed for a reason other than I/O, for example after an earlier
    /// failed disk write made it refuse further writes.
    #[error(
        "the storage engine failed: {message}; restart the program, and if this repeats, \
         check the disk"
    )]
    Backend {
        /// The engine's description of the failure.
        message: String,
    },

    /// A stored record cannot be decoded: it is damaged, or was written by a newer or
    /// incompatible build.
    #[error("record `{key}` in keyspace `{keyspace}` cannot be decoded: {reason}")]
    Corrupt {
        /// The keyspace holding the record.
        keyspace: &'static str,
        /// The record's key, rendered by [`render_key`].
        key: String,
        /// What is wrong with the bytes.
        reason: String,
    },

    /// A file of the store is damaged: a journal entry or a table block fails its checksum
    /// or cannot be parsed. Reads that do not touch the damaged part still work.
    ///
    /// A journal whose last write was cut short by a crash is not damaged: the store drops
    /// that incomplete write when it opens, as if the crash came just before it. Damage
    /// before the end of a journal, or in a table, is what this error reports: the store
    /// refuses to skip it, because skipping one write would break the atomicity of the ones
    /// around it.
    #[error(
        "the store at `{}` is damaged: {what} {reason}; restore the folder from a backup, \
         or delete the store and start the workflows again",
        path.display()
    )]
    Damaged {
        /// The damaged file, or the store's folder when the file is not known.
        path: PathBuf,
        /// Which part is damaged, such as "the journal file `0.jnl`" or "a table of
        /// keyspace `results`".
        what: String,
        /// What is wrong, as the storage engine found it.
        reason: String,
    },

    /// The database server cannot be reached, or the connection to it was lost. Once it is
    /// back, open the store again: nothing committed is lost.
    #[error(
        "cannot reach the database at `{target}`: {reason}; check the URL and that the \
         server is running and accepts connections"
    )]
    Unreachable {
        /// The server and database, without credentials.
        target: String,
        /// What failed.
        reason: String,
    },

    /// Another engine took the store over (this one did not renew its lease in time, for
    /// example while its process was paused), so this one may no longer write to it.
    #[error(
        "another engine took over the store at `{target}`, so this engine's writes are \
         refused; close this engine (its work goes on in the other one)"
    )]
    Fenced {
        /// The server, database and schema.
        target: String,
    },

    /// The store's tables were made by a newer build of `workflow`.
    #[error(
        "schema `{schema}` holds store version {found}, newer than this build supports \
         ({supported}); upgrade workflow, or use another schema"
    )]
    NewerSchema {
        /// The database schema of the store.
        schema: String,
        /// The version found.
        found: u32,
        /// The newest version this build knows.
        supported: u32,
    },

    /// The store's configuration is not valid: a malformed URL or schema name.
    #[error("invalid store configuration: {reason}")]
    InvalidConfig {
        /// What is wrong, and what is expected.
        reason: String,
    },

    /// A value cannot be encoded, for example because it uses a serde feature the record
    /// format does not support (such as `#[serde(flatten)]` or untagged enums).
    #[error("a value cannot be encoded: {reason}; change its type so it serializes as a plain structure")]
    Encode {
        /// Why encoding failed.
        reason: String,
    },

    /// A batch holds a key or value the store cannot accept: an empty key, a key longer
    /// than 65,535 bytes, or a value of 4 GiB or more.
    #[error("key `{key}` in keyspace `{keyspace}` cannot be stored: {reason}")]
    InvalidKey {
        /// The keyspace of the refused operation.
        keyspace: &'static str,
        /// The key, rendered by [`render_key`].
        key: String,
        /// Which limit it breaks.
        reason: String,
    },

    /// An [expectation](crate::Batch::expect) of a batch did not hold, so nothing of the
    /// batch was applied.
    #[error(
        "record `{key}` in keyspace `{keyspace}` changed concurrently, so the batch was not \
         applied; read the record again and retry"
    )]
    Conflict {
        /// The keyspace of the failed expectation.
        keyspace: &'static str,
        /// The key of the failed expectation, rendered by [`render_key`].
        key: String,
    },

    /// The store was [closed](crate::Storage::close).
    #[error("the store was closed; open it again to keep using it")]
    Closed,
}

fn at_path(path: &Option<PathBuf>) -> String {
    match path {
        Some(path) => format!(" at `{}`", path.display()),
        None => String::new(),
    }
}

/// Keys longer than this are shortened by [`render_key`], so an error message stays readable.
const RENDER_LIMIT: usize = 256;

/// Renders a binary key readably for error messages and logs.
///
/// Printable ASCII is kept as is, except `\` which becomes `\\`; every other byte becomes
/// `\xNN`. Keys built with [`KeyBuilder`](crate::KeyBuilder) therefore show their string
/// segments as text and their `0x00` terminators as `\x00`. Keys longer than 256 bytes are
/// cut there and end with `…` and the total length.
///
/// # Examples
///
/// ```
/// use workflow_storage::render_key;
///
/// assert_eq!(render_key(b"run\x00\x01"), r"run\x00\x01");
/// assert_eq!(render_key(br"a\b"), r"a\\b");
/// ```
#[must_use]
pub fn render_key(key: &[u8]) -> String {
    let shown = &key[..key.len().min(RENDER_LIMIT)];
    let mut out = String::with_capacity(shown.len() + 16);
    for &byte in shown {
        match byte {
            b'\\' => out.push_str(r"\\"),
            0x20..=0x7e => out.push(char::from(byte)),
            // Writing to a String cannot fail.
            _ => {
                let _ = write!(out, "\\x{byte:02x}");
            }
        }
    }
    if key.len() > RENDER_LIMIT {
        let _ = write!(out, "… ({} bytes)", key.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_key_escapes_non_printable_bytes() {
        assert_eq!(render_key(b""), "");
        assert_eq!(render_key(b"abc"), "abc");
        assert_eq!(render_key(&[0, 0x7f, 0xff, b' ']), r"\x00\x7f\xff ");
        assert_eq!(render_key(b"\\"), r"\\");
    }

    #[test]
    fn render_key_shortens_long_keys() {
        let rendered = render_key(&[b'k'; 1000]);
        assert!(rendered.starts_with(&"k".repeat(256)));
        assert!(rendered.ends_with("… (1000 bytes)"));
    }

    #[test]
    fn messages_name_the_path_and_hide_the_source() {
        let error = StorageError::Io {
            path: Some(PathBuf::from("/data/store")),
            source: std::io::Error::other("disk on fire"),
        };
        let message = error.to_string();
        assert!(message.contains("`/data/store`"));
        assert!(!message.contains("disk on fire"));
        assert!(std::error::Error::source(&error).is_some());

        let error = StorageError::Io {
            path: None,
            source: std::io::Error::other("x"),
        };
        assert!(error.to_string().starts_with("storage I/O failed;"));
    }

    #[test]
    fn locked_message_says_what_to_do() {
        let error = StorageError::Locked {
            path: PathBuf::from("/data/store"),
        };
        assert_eq!(
            error.to_string(),
            "the store at `/data/store` is locked by another process; stop that process or \
             open another folder"
        );
    }
}
