//! The record codec: how typed values become stored bytes.
//!
//! A record is one format-version byte followed by the value in postcard's compact binary
//! encoding. The version byte lets a build refuse records written by a newer, incompatible
//! format instead of misreading them.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::render_key;
use crate::{Keyspace, Result, StorageError};

/// The record format written by this build, stored as the first byte of every record.
///
/// # Examples
///
/// ```
/// use workflow_storage::{encode_record, FORMAT_VERSION};
///
/// let bytes = encode_record(&7u8).unwrap();
/// assert_eq!(bytes[0], FORMAT_VERSION);
/// ```
pub const FORMAT_VERSION: u8 = 1;

/// Encodes `value` as a record: [`FORMAT_VERSION`] followed by its postcard encoding.
///
/// # Errors
///
/// [`StorageError::Encode`] if postcard cannot encode the value, for example because its
/// type relies on serde features postcard does not support (`#[serde(flatten)]`, untagged
/// enums, sequences of unknown length).
///
/// # Examples
///
/// ```
/// use workflow_storage::{decode_record, encode_record, Keyspace};
///
/// let bytes = encode_record(&("run-1", 3u32))?;
/// let value: (String, u32) = decode_record(Keyspace::new("runs"), b"run-1", &bytes)?;
/// assert_eq!(value, ("run-1".to_owned(), 3));
/// # Ok::<(), workflow_storage::StorageError>(())
/// ```
pub fn encode_record<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    // Encode straight behind the version byte: one buffer, no copy.
    let mut buffer = Vec::with_capacity(64);
    buffer.push(FORMAT_VERSION);
    postcard::to_extend(value, buffer).map_err(|error| StorageError::Encode {
        reason: error.to_string(),
    })
}

/// Decodes a record written by [`encode_record`]. `keyspace` and `key` only serve the error
/// message.
///
/// Never panics, whatever `bytes` holds.
///
/// # Errors
///
/// [`StorageError::Corrupt`] if `bytes` is empty, carries an unknown or newer format
/// version, is not a valid encoding of `T`, or has bytes left over after the value.
///
/// # Examples
///
/// ```
/// use workflow_storage::{decode_record, encode_record, Keyspace, StorageError};
///
/// const RUNS: Keyspace = Keyspace::new("runs");
/// let bytes = encode_record(&42u64)?;
/// assert_eq!(decode_record::<u64>(RUNS, b"run-1", &bytes)?, 42);
///
/// let damaged = decode_record::<u64>(RUNS, b"run-1", &bytes[..1]);
/// assert!(matches!(damaged, Err(StorageError::Corrupt { .. })));
/// # Ok::<(), StorageError>(())
/// ```
pub fn decode_record<T: DeserializeOwned>(
    keyspace: Keyspace,
    key: &[u8],
    bytes: &[u8],
) -> Result<T> {
    let corrupt = |reason: String| StorageError::Corrupt {
        keyspace: keyspace.name(),
        key: render_key(key),
        reason,
    };
    let Some((&version, payload)) = bytes.split_first() else {
        return Err(corrupt("empty record".to_owned()));
    };
    if version == 0 {
        return Err(corrupt("unknown format version 0".to_owned()));
    }
    if version > FORMAT_VERSION {
        return Err(corrupt(format!(
            "format version {version} is newer than this build supports ({FORMAT_VERSION}): \
             upgrade workflow"
        )));
    }
    let (value, rest) =
        postcard::take_from_bytes::<T>(payload).map_err(|error| corrupt(error.to_string()))?;
    if !rest.is_empty() {
        return Err(corrupt(format!("{} trailing bytes", rest.len())));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    const KS: Keyspace = Keyspace::new("records");

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    enum State {
        Pending,
        Done { output: Vec<u8>, attempts: u32 },
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Record {
        id: String,
        state: State,
        tags: BTreeMap<String, i64>,
        parent: Option<u64>,
    }

    fn sample() -> Record {
        Record {
            id: "run-1".into(),
            state: State::Done {
                output: vec![1, 2, 3],
                attempts: 2,
            },
            tags: [("a".to_owned(), -1), ("b".to_owned(), 1 << 40)].into(),
            parent: Some(9),
        }
    }

    fn reason(result: Result<Record>) -> String {
        match result {
            Err(StorageError::Corrupt {
                reason, keyspace, ..
            }) => {
                assert_eq!(keyspace, "records");
                reason
            }
            other => panic!("expected a corrupt error, got {other:?}"),
        }
    }

    #[test]
    fn round_trips() {
        let bytes = encode_record(&sample()).unwrap();
        assert_eq!(bytes[0], FORMAT_VERSION);
        assert_eq!(decode_record::<Record>(KS, b"k", &bytes).unwrap(), sample());

        let pending = encode_record(&State::Pending).unwrap();
        assert_eq!(
            decode_record::<State>(KS, b"k", &pending).unwrap(),
            State::Pending
        );
    }

    #[test]
    fn encodes_unsized_values() {
        let bytes = encode_record("text").unwrap();
        assert_eq!(decode_record::<String>(KS, b"k", &bytes).unwrap(), "text");
        let bytes = encode_record(&[1u16, 2][..]).unwrap();
        assert_eq!(
            decode_record::<Vec<u16>>(KS, b"k", &bytes).unwrap(),
            vec![1, 2]
        );
    }

    #[test]
    fn refuses_empty_and_unknown_versions() {
        assert_eq!(reason(decode_record(KS, b"k", &[])), "empty record");

        let mut bytes = encode_record(&sample()).unwrap();
        bytes[0] = 0;
        assert_eq!(
            reason(decode_record(KS, b"k", &bytes)),
            "unknown format version 0"
        );

        bytes[0] = FORMAT_VERSION + 1;
        assert_eq!(
            reason(decode_record(KS, b"k", &bytes)),
            format!(
                "format version {} is newer than this build supports ({FORMAT_VERSION}): upgrade workflow",
                FORMAT_VERSION + 1
            )
        );
    }

    #[test]
    fn refuses_trailing_bytes() {
        let mut bytes = encode_record(&sample()).unwrap();
        bytes.extend_from_slice(&[0, 0, 0]);
        assert_eq!(reason(decode_record(KS, b"k", &bytes)), "3 trailing bytes");
    }

    #[test]
    fn corrupt_error_renders_the_key() {
        let error = decode_record::<u32>(KS, b"run\x00\x01", &[]).unwrap_err();
        assert_eq!(
            error.to_string(),
            r"record `run\x00\x01` in keyspace `records` cannot be decoded: empty record"
        );
    }

    #[test]
    fn every_truncation_is_refused() {
        let bytes = encode_record(&sample()).unwrap();
        for len in 0..bytes.len() {
            let result = decode_record::<Record>(KS, b"k", &bytes[..len]);
            assert!(
                matches!(result, Err(StorageError::Corrupt { .. })),
                "prefix of {len} bytes decoded: {result:?}"
            );
        }
    }

    /// Tiny xorshift generator: reproducible noise without extra dependencies.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let valid = encode_record(&sample()).unwrap();
        for round in 0..20_000 {
            let bytes: Vec<u8> = if round % 2 == 0 {
                // Pure noise, usually with a valid version byte so the payload decoder runs.
                let len = (rng.next() % 48) as usize;
                let mut noise: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                if let Some(first) = noise.first_mut() {
                    if round % 8 != 0 {
                        *first = FORMAT_VERSION;
                    }
                }
                noise
            } else {
                // A valid record with a few flipped bytes, possibly truncated.
                let mut mutated = valid.clone();
                for _ in 0..1 + rng.next() % 3 {
                    let at = (rng.next() as usize) % mutated.len();
                    mutated[at] ^= (rng.next() as u8) | 1;
                }
                mutated.truncate((rng.next() as usize) % (valid.len() + 1));
                mutated
            };
            let result = std::panic::catch_unwind(|| {
                (
                    decode_record::<Record>(KS, b"k", &bytes).err(),
                    decode_record::<State>(KS, b"k", &bytes).err(),
                    decode_record::<String>(KS, b"k", &bytes).err(),
                )
            });
            let Ok(errors) = result else {
                panic!("decoding {bytes:?} panicked");
            };
            // A decode may legitimately succeed on noise; a failure must be Corrupt.
            for error in [errors.0, errors.1, errors.2].into_iter().flatten() {
                assert!(
                    matches!(error, StorageError::Corrupt { .. }),
                    "unexpected error for {bytes:?}: {error:?}"
                );
            }
        }
    }
}
