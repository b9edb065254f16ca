//! Steps a workflow's worker offers to its fleet: what an offer carries, and the notice the
//! worker that ran one leaves for the workflow's worker.
//!
//! A step that ran elsewhere and returned a value is checkpointed by the worker that ran
//! it, in the same commit as its notice, under that worker's fence; a failed attempt leaves
//! only its notice. The workflow's worker takes notices in, withdraws their offers, then
//! deletes them: a stored notice is the offer's done marker, so an offer is never run again
//! once a run of it is durable.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use workflow_storage::Keyspace;

use crate::{
    attempt::{ArgPart, Args},
    object::ObjectId,
    records::StepRecord,
    task_error::FailureKind,
};

/// (workflow id, step) -> [`Notice`]: a step that another worker ran has ended.
pub(crate) const NOTICES: Keyspace = Keyspace::new("notices");

/// What a worker needs to run an offered step.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct OfferPayload {
    /// The step's record, without its inputs.
    pub(crate) step: StepRecord,
    pub(crate) args: OfferArgs,
    /// The number of this attempt, counted by the workflow's worker.
    pub(crate) attempt: u32,
    pub(crate) first_start_us: u64,
}

/// A step's encoded arguments, as [`Args`] holds them.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum OfferArgs {
    Ready(#[serde(with = "serde_bytes")] Vec<u8>),
    Parts(Vec<OfferPart>),
}

/// A piece of an argument tuple, as [`ArgPart`] holds it.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum OfferPart {
    Bytes(#[serde(with = "serde_bytes")] Vec<u8>),
    Object(ObjectId, u64),
}

impl OfferArgs {
    pub(crate) fn of(args: &Args) -> OfferArgs {
        match args {
            Args::Ready(bytes) => OfferArgs::Ready(bytes.to_vec()),
            Args::Parts(parts) => OfferArgs::Parts(
                parts
                    .iter()
                    .map(|part| match part {
                        ArgPart::Bytes(bytes) => OfferPart::Bytes(bytes.clone()),
                        ArgPart::Object(id, fingerprint) => OfferPart::Object(*id, *fingerprint),
                    })
                    .collect(),
            ),
        }
    }

    pub(crate) fn into_args(self) -> Arc<Args> {
        Arc::new(match self {
            OfferArgs::Ready(bytes) => Args::Ready(bytes.into()),
            OfferArgs::Parts(parts) => Args::Parts(
                parts
                    .into_iter()
                    .map(|part| match part {
                        OfferPart::Bytes(bytes) => ArgPart::Bytes(bytes),
                        OfferPart::Object(id, fingerprint) => ArgPart::Object(id, fingerprint),
                    })
                    .collect(),
            ),
        })
    }
}

/// How an offered step's attempt ended on the worker that ran it.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Notice {
    /// Its output, checkpointed with this notice.
    Value(#[serde(with = "serde_bytes")] Vec<u8>),
    /// The attempt failed; the workflow's worker retries it or fails the workflow. Written
    /// by workers of an earlier version, which did not name the attempt.
    Failed { kind: FailureKind, message: String },
    /// Attempt `attempt` failed. The workflow's worker takes it in only while that attempt
    /// is its step's latest: a notice read twice (a read of the notices that ran before the
    /// first one was taken in and deleted) is not a second failure.
    FailedAttempt {
        attempt: u32,
        kind: FailureKind,
        message: String,
    },
}

impl Notice {
    /// The attempt whose end it tells, where it says.
    pub(crate) fn attempt(&self) -> Option<u32> {
        match self {
            Notice::FailedAttempt { attempt, .. } => Some(*attempt),
            Notice::Value(_) | Notice::Failed { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{decode, encode, StepOptions};

    #[test]
    fn payloads_and_notices_read_back_as_written() {
        let payload = OfferPayload {
            step: StepRecord {
                task_id: "add_2".to_string(),
                task: "demo::add".to_string(),
                version: 3,
                signature: 42,
                options: StepOptions {
                    max_retries: 1,
                    retry_errors: false,
                    retry_backoff_ms: None,
                    timeout_ms: Some(5),
                    checkpoint: true,
                    catch_errors: false,
                    metadata: None,
                },
                inputs: Vec::new(),
                parent: None,
            },
            args: OfferArgs::of(&Args::Parts(vec![
                ArgPart::Bytes(vec![1, 2]),
                ArgPart::Object(ObjectId([7; 16]), 9),
            ])),
            attempt: 2,
            first_start_us: 10,
        };
        let bytes = encode(&payload).unwrap();
        let read: OfferPayload = decode(NOTICES, b"k", &bytes).unwrap();
        assert_eq!(read.step, payload.step);
        assert_eq!((read.attempt, read.first_start_us), (2, 10));
        match &*read.args.into_args() {
            Args::Parts(parts) => {
                assert!(matches!(&parts[0], ArgPart::Bytes(b) if b == &[1, 2]));
                assert!(matches!(&parts[1], ArgPart::Object(id, 9) if id.0 == [7; 16]));
            }
            Args::Ready(_) => panic!("parts expected"),
        }
        let notice = Notice::Failed {
            kind: FailureKind::Panic,
            message: "boom".to_string(),
        };
        let read: Notice = decode(NOTICES, b"k", &encode(&notice).unwrap()).unwrap();
        assert_eq!(read.attempt(), None);
        assert!(
            matches!(read, Notice::Failed { kind: FailureKind::Panic, message } if message == "boom")
        );
        let notice = Notice::FailedAttempt {
            attempt: 3,
            kind: FailureKind::Error,
            message: "no".to_string(),
        };
        let read: Notice = decode(NOTICES, b"k", &encode(&notice).unwrap()).unwrap();
        assert_eq!(read.attempt(), Some(3));
        assert!(matches!(
            read,
            Notice::FailedAttempt {
                kind: FailureKind::Error,
                ..
            }
        ));
    }
}
