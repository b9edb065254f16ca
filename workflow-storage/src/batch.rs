use crate::error::render_key;
use crate::{Keyspace, Result, StorageError};

/// Longest key the stores accept, in bytes (a limit of the embedded backend).
const MAX_KEY_LEN: usize = u16::MAX as usize;

/// Longest value the stores accept, in bytes (a limit of the embedded backend).
const MAX_VALUE_LEN: usize = u32::MAX as usize;

/// A set of writes applied atomically by [`Storage::commit`](crate::Storage::commit), with
/// optional [expectations](Batch::expect) that must hold for it to apply.
///
/// Operations may span keyspaces. When several operations touch the same key, the one
/// added last wins: `put(k, 1)` then `delete(k)` leaves `k` absent, and `delete(k)` then
/// `put(k, 1)` leaves it holding `1`.
///
/// Keys must be 1 to 65,535 bytes long and values shorter than 4 GiB; a batch breaking
/// these limits is refused with [`StorageError::InvalidKey`] and changes nothing.
///
/// # Examples
///
/// ```
/// use workflow_storage::{Batch, Keyspace};
///
/// const RUNS: Keyspace = Keyspace::new("runs");
/// const EVENTS: Keyspace = Keyspace::new("events");
///
/// let mut batch = Batch::new();
/// batch.expect(RUNS, "run-1", None); // only if run-1 does not exist yet
/// batch.put(RUNS, "run-1", "pending");
/// batch.put(EVENTS, "run-1/0", "created");
/// assert_eq!(batch.len(), 2);
/// assert_eq!(batch.expectations().len(), 1);
/// ```
#[derive(Debug, Default, Clone)]
pub struct Batch {
    operations: Vec<Operation>,
    expectations: Vec<Expectation>,
}

/// One write of a [`Batch`].
///
/// # Examples
///
/// ```
/// use workflow_storage::{Batch, Keyspace, Operation};
///
/// const RUNS: Keyspace = Keyspace::new("runs");
/// let mut batch = Batch::new();
/// batch.delete(RUNS, "old");
/// assert!(matches!(&batch.operations()[0], Operation::Delete { key, .. } if key == b"old"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Operation {
    /// Stores `value` under `key`, replacing any previous value.
    Put {
        /// The keyspace written to.
        keyspace: Keyspace,
        /// The key.
        key: Vec<u8>,
        /// The new value.
        value: Vec<u8>,
    },
    /// Removes `key`; removing an absent key is not an error.
    Delete {
        /// The keyspace written to.
        keyspace: Keyspace,
        /// The key.
        key: Vec<u8>,
    },
}

impl Operation {
    /// The keyspace and key this operation writes.
    pub(crate) fn target(&self) -> (Keyspace, &[u8]) {
        match self {
            Self::Put { keyspace, key, .. } | Self::Delete { keyspace, key } => (*keyspace, key),
        }
    }
}

/// A condition of a [`Batch`]: when the batch commits, `key` must hold exactly `value`, or
/// be absent when `value` is `None`. Otherwise the commit fails with
/// [`StorageError::Conflict`] and writes nothing.
///
/// # Examples
///
/// ```
/// use workflow_storage::{Batch, Expectation, Keyspace};
///
/// const RUNS: Keyspace = Keyspace::new("runs");
/// let mut batch = Batch::new();
/// batch.expect(RUNS, "run-1", Some(b"pending".to_vec()));
/// let Expectation { keyspace, key, value } = &batch.expectations()[0];
/// assert_eq!((*keyspace, key.as_slice(), value.as_deref()), (RUNS, &b"run-1"[..], Some(&b"pending"[..])));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    /// The keyspace of the checked key.
    pub keyspace: Keyspace,
    /// The checked key.
    pub key: Vec<u8>,
    /// The value the key must hold, or `None` if it must be absent.
    pub value: Option<Vec<u8>>,
}

impl Batch {
    /// An empty batch.
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow_storage::Batch;
    ///
    /// assert!(Batch::new().is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a write of `value` under `key`.
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow_storage::{Batch, Keyspace};
    ///
    /// let mut batch = Batch::new();
    /// batch.put(Keyspace::new("runs"), "run-1", vec![1, 2, 3]);
    /// assert_eq!(batch.len(), 1);
    /// ```
    pub fn put(&mut self, keyspace: Keyspace, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.operations.push(Operation::Put {
            keyspace,
            key: key.into(),
            value: value.into(),
        });
    }

    /// Adds a removal of `key`.
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow_storage::{Batch, Keyspace};
    ///
    /// let mut batch = Batch::new();
    /// batch.delete(Keyspace::new("runs"), "run-1");
    /// assert_eq!(batch.len(), 1);
    /// ```
    pub fn delete(&mut self, keyspace: Keyspace, key: impl Into<Vec<u8>>) {
        self.operations.push(Operation::Delete {
            keyspace,
            key: key.into(),
        });
    }

    /// Makes the batch conditional: it applies only if `key` holds exactly `value` at commit
    /// time (or is absent, when `value` is `None`). Expectations see the store as it was
    /// before this batch, not the batch's own operations.
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow_storage::{Batch, Keyspace};
    ///
    /// const LEASES: Keyspace = Keyspace::new("leases");
    /// let mut batch = Batch::new();
    /// // Take the lease only if nobody holds it.
    /// batch.expect(LEASES, "run-1", None);
    /// batch.put(LEASES, "run-1", "worker-a");
    /// assert_eq!(batch.expectations().len(), 1);
    /// ```
    pub fn expect(&mut self, keyspace: Keyspace, key: impl Into<Vec<u8>>, value: Option<Vec<u8>>) {
        self.expectations.push(Expectation {
            keyspace,
            key: key.into(),
            value,
        });
    }

    /// Moves the operations and expectations of `other` to the end of this batch, so
    /// `other`'s operations win over this batch's on the same keys.
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow_storage::{Batch, Keyspace};
    ///
    /// const RUNS: Keyspace = Keyspace::new("runs");
    /// let mut first = Batch::new();
    /// first.put(RUNS, "a", "1");
    /// let mut second = Batch::new();
    /// second.put(RUNS, "b", "2");
    /// second.expect(RUNS, "c", None);
    /// first.append(second);
    /// assert_eq!((first.len(), first.expectations().len()), (2, 1));
    /// ```
    pub fn append(&mut self, other: Batch) {
        self.operations.extend(other.operations);
        self.expectations.extend(other.expectations);
    }

    /// The number of operations (expectations are not counted).
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow_storage::{Batch, Keyspace};
    ///
    /// let mut batch = Batch::new();
    /// batch.expect(Keyspace::new("runs"), "a", None);
    /// assert_eq!(batch.len(), 0);
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.operations.len()
    }

    /// Whether the batch has no operations (it may still have expectations).
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow_storage::{Batch, Keyspace};
    ///
    /// let mut batch = Batch::new();
    /// assert!(batch.is_empty());
    /// batch.delete(Keyspace::new("runs"), "a");
    /// assert!(!batch.is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
    }

    /// The operations, in the order they were added.
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow_storage::{Batch, Keyspace, Operation};
    ///
    /// let mut batch = Batch::new();
    /// batch.put(Keyspace::new("runs"), "a", "1");
    /// assert!(matches!(&batch.operations()[0], Operation::Put { value, .. } if value == b"1"));
    /// ```
    #[must_use]
    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    /// The expectations, in the order they were added.
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow_storage::{Batch, Keyspace};
    ///
    /// let mut batch = Batch::new();
    /// batch.expect(Keyspace::new("runs"), "a", None);
    /// assert_eq!(batch.expectations()[0].value, None);
    /// ```
    #[must_use]
    pub fn expectations(&self) -> &[Expectation] {
        &self.expectations
    }

    /// Splits the batch into its operations and expectations.
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow_storage::{Batch, Keyspace};
    ///
    /// let mut batch = Batch::new();
    /// batch.put(Keyspace::new("runs"), "a", "1");
    /// let (operations, expectations) = batch.into_parts();
    /// assert_eq!((operations.len(), expectations.len()), (1, 0));
    /// ```
    #[must_use]
    pub fn into_parts(self) -> (Vec<Operation>, Vec<Expectation>) {
        (self.operations, self.expectations)
    }
}

/// Refuses keys and values the embedded backend cannot hold, so every store rejects the
/// same batches (and the backend never sees input it would panic on).
/// For each operation, whether it is the last one of the batch on its keyspace and key.
pub(crate) fn last_writes(operations: &[Operation]) -> Vec<bool> {
    let mut seen = std::collections::HashSet::with_capacity(operations.len());
    let mut keep: Vec<bool> = operations
        .iter()
        .rev()
        .map(|operation| {
            let (keyspace, key) = operation.target();
            seen.insert((keyspace.name(), key))
        })
        .collect();
    keep.reverse();
    keep
}

pub(crate) fn check_limits(operations: &[Operation]) -> Result<()> {
    for operation in operations {
        let (keyspace, key) = operation.target();
        let reason = if key.is_empty() {
            Some("keys must not be empty".to_owned())
        } else if key.len() > MAX_KEY_LEN {
            Some(format!(
                "keys are limited to {MAX_KEY_LEN} bytes and this one has {}",
                key.len()
            ))
        } else {
            match operation {
                Operation::Put { value, .. } if value.len() > MAX_VALUE_LEN => Some(format!(
                    "values are limited to {MAX_VALUE_LEN} bytes and this one has {}",
                    value.len()
                )),
                _ => None,
            }
        };
        if let Some(reason) = reason {
            return Err(StorageError::InvalidKey {
                keyspace: keyspace.name(),
                key: render_key(key),
                reason,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_writes_keeps_the_final_operation_per_key() {
        let mut batch = Batch::new();
        batch.put(KS, "a", "1");
        batch.put(Keyspace::new("other"), "a", "1");
        batch.delete(KS, "a");
        batch.put(KS, "b", "2");
        assert_eq!(last_writes(batch.operations()), [false, true, true, true]);
    }

    const KS: Keyspace = Keyspace::new("ks");

    #[test]
    fn operations_keep_their_order() {
        let mut batch = Batch::new();
        batch.put(KS, "a", "1");
        batch.delete(KS, "a");
        let (operations, expectations) = batch.into_parts();
        assert!(expectations.is_empty());
        assert_eq!(
            operations,
            vec![
                Operation::Put {
                    keyspace: KS,
                    key: b"a".to_vec(),
                    value: b"1".to_vec()
                },
                Operation::Delete {
                    keyspace: KS,
                    key: b"a".to_vec()
                },
            ]
        );
    }

    #[test]
    fn limits_refuse_empty_and_overlong_keys() {
        let mut batch = Batch::new();
        batch.put(KS, "", "1");
        assert!(matches!(
            check_limits(batch.operations()),
            Err(StorageError::InvalidKey { reason, .. }) if reason.contains("empty")
        ));

        let mut batch = Batch::new();
        batch.delete(KS, vec![7; MAX_KEY_LEN + 1]);
        assert!(matches!(
            check_limits(batch.operations()),
            Err(StorageError::InvalidKey { reason, .. }) if reason.contains("65535")
        ));

        let mut batch = Batch::new();
        batch.put(KS, vec![7; MAX_KEY_LEN], "v");
        assert!(check_limits(batch.operations()).is_ok());
    }
}
