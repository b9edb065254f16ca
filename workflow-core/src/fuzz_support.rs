//! Entry points for fuzzing the decoders of stored records and keys from outside the crate.
//!
//! A store's bytes are input like any other: a damaged disk or a foreign program can put
//! anything under the engine's keys. Every decoder must then return a value or an error,
//! never panic, and never allocate more than the input's size allows.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use workflow_storage::{decode_record, KeyReader, Keyspace};

use crate::{
    actor::records::{call_of_key, parse_call_id, ActorRecord, CallEntry},
    records::{
        encode, parse_created_key, parse_timer_key, step_of_key, AttemptRecord, EventRecord,
        Failure, InputRecord, ObjectHead, ResultRecord, StepOptions, StepOutcome, StepRecord,
        WorkflowRecord,
    },
    TaskError, WorkflowStatus,
};

const FUZZ: Keyspace = Keyspace::new("fuzz");

/// Decodes `bytes` as every kind of stored record and parses it as every kind of key.
/// Returns how many of them accepted it.
///
/// # Examples
///
/// ```
/// let accepted = workflow_core::fuzz_support::decode_every_record(&[1, 0, 0]);
/// assert!(accepted < 32);
/// ```
pub fn decode_every_record(bytes: &[u8]) -> usize {
    fn try_decode<T: DeserializeOwned>(bytes: &[u8]) -> usize {
        usize::from(decode_record::<T>(FUZZ, b"key", bytes).is_ok())
    }
    let records = try_decode::<WorkflowRecord>(bytes)
        + try_decode::<StepRecord>(bytes)
        + try_decode::<ResultRecord>(bytes)
        + try_decode::<AttemptRecord>(bytes)
        + try_decode::<ObjectHead>(bytes)
        + try_decode::<EventRecord>(bytes)
        + try_decode::<ActorRecord>(bytes)
        + try_decode::<CallEntry>(bytes)
        + try_decode::<TaskError>(bytes)
        // Shapes of user values: task arguments, outputs and actor state.
        + try_decode::<Vec<String>>(bytes)
        + try_decode::<BTreeMap<String, Vec<u64>>>(bytes)
        + try_decode::<(u64, Option<String>, Vec<(i32, bool)>)>(bytes);
    let text = String::from_utf8_lossy(bytes);
    let keys = usize::from(parse_timer_key(bytes).is_some())
        + usize::from(parse_created_key(bytes).is_some())
        + usize::from(step_of_key(bytes.len().min(3), bytes).is_some())
        + usize::from(call_of_key(bytes.len().min(5), bytes).is_some())
        + usize::from(parse_call_id(&text).is_some())
        + usize::from(crate::id::validate_workflow_id(&text).is_ok());
    let mut reader = KeyReader::new(bytes);
    let mut segments = 0;
    while reader.str().is_some() || reader.u64().is_some() || reader.u32().is_some() {
        segments += 1;
    }
    records + keys + usize::from(segments > 0)
}

/// Valid encodings of every kind of record, to start mutations from.
///
/// # Examples
///
/// ```
/// let samples = workflow_core::fuzz_support::record_samples();
/// assert!(samples
///     .iter()
///     .all(|sample| workflow_core::fuzz_support::decode_every_record(sample) >= 1));
/// ```
pub fn record_samples() -> Vec<Vec<u8>> {
    let error = TaskError::new(crate::task_error::FailureKind::Error, "boom", 2);
    let options = StepOptions {
        max_retries: 3,
        retry_errors: true,
        retry_backoff_ms: Some(10),
        timeout_ms: None,
        checkpoint: true,
        catch_errors: false,
        metadata: Some("{\"k\":1}".to_string()),
    };
    let samples = [
        encode(&WorkflowRecord {
            status: WorkflowStatus::Failed,
            dag_hash: 7,
            step_count: 3,
            root: 2,
            queue_seq: 9,
            created_us: 1,
            start_us: Some(2),
            end_us: Some(3),
            output_type: "u64".to_string(),
            output_fingerprint: 11,
            metadata: Some("{}".to_string()),
            failure: Some(Failure {
                task_id: "add_1".to_string(),
                error: error.clone(),
                end_us: 3,
            }),
        }),
        encode(&StepRecord {
            task_id: "add".to_string(),
            task: "crate::add".to_string(),
            version: 1,
            signature: 5,
            options,
            inputs: vec![
                InputRecord::Value(vec![1, 2, 3]),
                InputRecord::Step(0),
                InputRecord::List(vec![InputRecord::Step(1), InputRecord::Value(vec![])]),
                InputRecord::Object {
                    id: [7; 16],
                    fingerprint: 3,
                },
                InputRecord::StepObject {
                    step: 1,
                    fingerprint: 4,
                },
            ],
            parent: Some(0),
        }),
        encode(&ResultRecord {
            attempts: 1,
            start_us: 1,
            end_us: 2,
            outcome: StepOutcome::Value {
                fingerprint: 1,
                bytes: vec![42; 20],
            },
        }),
        encode(&ResultRecord {
            attempts: 2,
            start_us: 1,
            end_us: 2,
            outcome: StepOutcome::Caught(error),
        }),
        encode(&ResultRecord {
            attempts: 1,
            start_us: 1,
            end_us: 2,
            outcome: StepOutcome::Continued { root: 4 },
        }),
        encode(&AttemptRecord {
            attempts: 2,
            first_start_us: 1,
            last_start_us: 2,
        }),
        encode(&ObjectHead {
            fingerprint: 1,
            type_name: "Vec<u8>".to_string(),
            len: 1 << 20,
            chunks: 2,
        }),
        encode(&EventRecord {
            fingerprint: 1,
            type_name: "bool".to_string(),
            bytes: vec![1],
        }),
        encode(&ActorRecord {
            type_name: "Account".to_string(),
            next_call: 3,
            created_us: 1,
        }),
        encode(&CallEntry { writes: true }),
        encode(&vec!["a".to_string(), "bc".to_string()]),
        encode(&(5_u64, Some("x".to_string()), vec![(1_i32, true)])),
    ];
    let mut out: Vec<Vec<u8>> = samples.into_iter().filter_map(Result::ok).collect();
    out.push(crate::records::timer_key(5, "wf", 2));
    out.push(crate::records::created_key(5, "wf"));
    out.push(crate::actor::records::call_key("acct", 3));
    out
}
