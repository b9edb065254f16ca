use serde::{Deserialize, Serialize};

/// How far a committed [`Batch`](crate::Batch) has travelled towards the disk when
/// [`Storage::commit`](crate::Storage::commit) returns.
///
/// Either way a batch is atomic: after any crash it is visible completely or not at all.
/// Durability only decides whether a *returned* commit can still be lost.
///
/// # Examples
///
/// ```
/// use workflow_storage::Durability;
///
/// // Sync is the default: nothing acknowledged is ever lost.
/// assert_eq!(Durability::default(), Durability::Sync);
///
/// let cheap = Durability::Buffered;
/// assert_ne!(cheap, Durability::Sync);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Durability {
    /// The batch is flushed to stable storage (`fsync`) before the commit returns. It
    /// survives a killed process, an operating-system crash and a power loss.
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow_storage::Durability;
    ///
    /// assert_eq!(Durability::default(), Durability::Sync);
    /// ```
    #[default]
    Sync,

    /// The batch is handed to the operating system before the commit returns, without
    /// waiting for the disk. It survives a killed or crashed process, but the last
    /// batches may be lost on a power loss or an operating-system crash. Much cheaper
    /// than [`Durability::Sync`] for frequent small commits.
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow_storage::Durability;
    ///
    /// let durability = Durability::Buffered;
    /// assert!(matches!(durability, Durability::Buffered));
    /// ```
    Buffered,
}
