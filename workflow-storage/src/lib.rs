//! The storage layer of `workflow`.
//!
//! It knows keys, values, keyspaces, atomic batches and ordered prefix scans, and nothing of
//! tasks or workflows. The engine in `workflow-core` writes through the [`Storage`] trait;
//! [`FjallStore`] (the embedded default) and [`MemoryStore`] implement it.

#![warn(missing_docs)]

mod batch;
mod durability;
mod error;
mod fjall_store;
mod fleet;
mod key;
mod keyspace;
mod memory_store;
#[cfg(feature = "postgres")]
mod postgres;
mod record;
mod scan;
mod storage;

pub use batch::{Batch, Expectation, Operation};
pub use durability::Durability;
pub use error::{render_key, Result, StorageError};
pub use fjall_store::FjallStore;
pub use fleet::{Fleet, Holder, Offer, WorkerId, OFFERED_MESSAGE, READY_MESSAGE};
pub use key::{KeyBuilder, KeyReader};
pub use keyspace::Keyspace;
pub use memory_store::MemoryStore;
#[cfg(feature = "postgres")]
pub use postgres::PgStore;
pub use record::{decode_record, encode_record, FORMAT_VERSION};
pub use scan::Order;
pub use storage::Storage;
