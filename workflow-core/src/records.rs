//! The records the engine stores, their keyspaces and keys.
//!
//! One keyspace per kind of record; keys start with the workflow id so that one prefix scan
//! returns a workflow's records in step order.

use serde::{de::DeserializeOwned, Deserialize, Serialize};
use workflow_storage::{decode_record, encode_record, KeyBuilder, Keyspace};

use crate::{Result, TaskError, WorkflowStatus};

/// Workflow id -> [`WorkflowRecord`].
pub(crate) const WORKFLOWS: Keyspace = Keyspace::new("workflows");
/// (workflow id, step) -> [`StepRecord`], written once when the workflow is created.
pub(crate) const STEPS: Keyspace = Keyspace::new("steps");
/// (workflow id, step) -> [`ResultRecord`], the checkpoint of a finished step.
pub(crate) const RESULTS: Keyspace = Keyspace::new("results");
/// (workflow id, step) -> [`AttemptRecord`], written before each attempt starts.
pub(crate) const ATTEMPTS: Keyspace = Keyspace::new("attempts");

/// (object id, chunk) -> raw bytes of one chunk of an encoded object.
pub(crate) const OBJECT_CHUNKS: Keyspace = Keyspace::new("object_chunks");
/// Object id -> [`ObjectHead`], written once every chunk is.
pub(crate) const OBJECTS: Keyspace = Keyspace::new("objects");
/// (workflow id, object id) -> nothing: the objects a workflow refers to.
pub(crate) const WORKFLOW_OBJECTS: Keyspace = Keyspace::new("workflow_objects");
/// (object id, workflow id) -> nothing: the workflows that refer to an object.
pub(crate) const OBJECT_OWNERS: Keyspace = Keyspace::new("object_owners");

/// (workflow id, event key, sequence number) -> [`EventRecord`]: external events sent and
/// not yet consumed by a checkpoint.
pub(crate) const EVENTS: Keyspace = Keyspace::new("events");

/// (deadline in microseconds since the Unix epoch, workflow id, step) -> nothing: the sleeps
/// that have started and not finished, in deadline order. An index: an entry whose workflow
/// is gone or finished is stale, and readers skip (and remove) it.
pub(crate) const TIMERS: Keyspace = Keyspace::new("timers");

/// (creation time in microseconds since the Unix epoch, workflow id) -> nothing: the
/// workflows (not actor calls) in order of creation, for listing the newest first.
pub(crate) const CREATED: Keyspace = Keyspace::new("created");

/// Facts about the store itself, such as which indexes it holds.
pub(crate) const META: Keyspace = Keyspace::new("meta");

/// The key in [`META`] whose presence says the [`CREATED`] index covers every workflow.
pub(crate) const CREATED_INDEX_BUILT: &[u8] = b"created-index";

/// The key of workflow `id`, created at `created_us`, in [`CREATED`].
pub(crate) fn created_key(created_us: u64, id: &str) -> Vec<u8> {
    KeyBuilder::with_capacity(id.len() + 9)
        .u64(created_us)
        .str(id)
        .build()
}

/// The creation time and workflow id of a key of [`CREATED`].
pub(crate) fn parse_created_key(key: &[u8]) -> Option<(u64, String)> {
    let mut reader = workflow_storage::KeyReader::new(key);
    let created = reader.u64()?;
    let id = reader.str()?.to_string();
    Some((created, id))
}

/// The key of the timer of step `step` of workflow `id`, due at `deadline_us`.
pub(crate) fn timer_key(deadline_us: u64, id: &str, step: u32) -> Vec<u8> {
    KeyBuilder::with_capacity(id.len() + 13)
        .u64(deadline_us)
        .str(id)
        .u32(step)
        .build()
}

/// The deadline and workflow id of a timer key.
pub(crate) fn parse_timer_key(key: &[u8]) -> Option<(u64, String)> {
    let mut reader = workflow_storage::KeyReader::new(key);
    let deadline = reader.u64()?;
    let id = reader.str()?.to_string();
    Some((deadline, id))
}

/// The keyspaces holding per-step records of a workflow.
pub(crate) const STEP_KEYSPACES: [Keyspace; 6] = [
    STEPS,
    RESULTS,
    ATTEMPTS,
    EVENTS,
    crate::actor::records::CALL_ORIGINS,
    crate::offer::NOTICES,
];

/// The prefix of every per-step key of workflow `id`.
pub(crate) fn workflow_prefix(id: &str) -> Vec<u8> {
    KeyBuilder::new().str(id).build()
}

/// The key of step `step` of workflow `id`.
pub(crate) fn step_key(id: &str, step: u32) -> Vec<u8> {
    KeyBuilder::with_capacity(id.len() + 5)
        .str(id)
        .u32(step)
        .build()
}

/// The step number at the end of a per-step key.
pub(crate) fn step_of_key(prefix_len: usize, key: &[u8]) -> Option<u32> {
    let bytes: [u8; 4] = key.get(prefix_len..)?.try_into().ok()?;
    Some(u32::from_be_bytes(bytes))
}

pub(crate) fn encode<T: Serialize>(record: &T) -> Result<Vec<u8>> {
    Ok(encode_record(record)?)
}

pub(crate) fn decode<T: DeserializeOwned>(
    keyspace: Keyspace,
    key: &[u8],
    bytes: &[u8],
) -> Result<T> {
    Ok(decode_record(keyspace, key, bytes)?)
}

/// The head record of a workflow.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct WorkflowRecord {
    pub(crate) status: WorkflowStatus,
    /// Hash of the step table: what "the same DAG" compares.
    pub(crate) dag_hash: u64,
    pub(crate) step_count: u32,
    pub(crate) root: u32,
    /// Order of arrival, for starting pending workflows first in, first out.
    pub(crate) queue_seq: u64,
    pub(crate) created_us: u64,
    pub(crate) start_us: Option<u64>,
    pub(crate) end_us: Option<u64>,
    pub(crate) output_type: String,
    pub(crate) output_fingerprint: u64,
    /// User metadata as JSON text.
    pub(crate) metadata: Option<String>,
    pub(crate) failure: Option<Failure>,
}

/// The task failure that ended a workflow.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Failure {
    pub(crate) task_id: String,
    pub(crate) error: TaskError,
    pub(crate) end_us: u64,
}

/// One step of a lowered DAG.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct StepRecord {
    pub(crate) task_id: String,
    pub(crate) task: String,
    pub(crate) version: u32,
    pub(crate) signature: u64,
    pub(crate) options: StepOptions,
    pub(crate) inputs: Vec<InputRecord>,
    /// The step whose continuation this step belongs to.
    pub(crate) parent: Option<u32>,
}

/// The options of one step, resolved from the task's attribute and the node's methods.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct StepOptions {
    pub(crate) max_retries: u32,
    pub(crate) retry_errors: bool,
    pub(crate) retry_backoff_ms: Option<u64>,
    pub(crate) timeout_ms: Option<u64>,
    pub(crate) checkpoint: bool,
    pub(crate) catch_errors: bool,
    /// User metadata as JSON text.
    pub(crate) metadata: Option<String>,
}

/// One input of a step: an encoded value, another step's output, or a list of inputs.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) enum InputRecord {
    Value(#[serde(with = "serde_bytes")] Vec<u8>),
    Step(u32),
    List(Vec<InputRecord>),
    /// An object passed as an argument of its value's type (whose fingerprint is given).
    Object {
        id: [u8; 16],
        fingerprint: u64,
    },
    /// The object a step outputs a reference to, passed as its value.
    StepObject {
        step: u32,
        fingerprint: u64,
    },
}

/// The checkpoint of a finished step.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ResultRecord {
    pub(crate) attempts: u32,
    pub(crate) start_us: u64,
    pub(crate) end_us: u64,
    pub(crate) outcome: StepOutcome,
}

/// What a finished step produced.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum StepOutcome {
    /// The encoded output and the fingerprint of its type.
    Value {
        fingerprint: u64,
        #[serde(with = "serde_bytes")]
        bytes: Vec<u8>,
    },
    /// A failure caught by `catch_errors`, handed to dependents as `Err`.
    Caught(TaskError),
    /// The step returned a continuation; its output is that of step `root`, which may
    /// itself have continued (the pointer is moved to the latest level as levels finish).
    Continued { root: u32 },
}

/// The attempts a step has started, written before each one starts.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub(crate) struct AttemptRecord {
    pub(crate) attempts: u32,
    pub(crate) first_start_us: u64,
    pub(crate) last_start_us: u64,
}

/// Microseconds since the Unix epoch.
pub(crate) fn now_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// A stored time as a `SystemTime`.
pub(crate) fn system_time(us: u64) -> std::time::SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_micros(us)
}

/// What a stored object is: its type, size and number of chunks.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ObjectHead {
    pub(crate) fingerprint: u64,
    pub(crate) type_name: String,
    pub(crate) len: u64,
    pub(crate) chunks: u32,
}

/// An external event waiting for a step of its workflow.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct EventRecord {
    pub(crate) fingerprint: u64,
    pub(crate) type_name: String,
    #[serde(with = "serde_bytes")]
    pub(crate) bytes: Vec<u8>,
}

impl WorkflowRecord {
    /// The head record of a new workflow of `plan`, pending.
    pub(crate) fn pending(plan: &crate::lower::Plan, queue_seq: u64) -> WorkflowRecord {
        WorkflowRecord {
            status: WorkflowStatus::Pending,
            dag_hash: plan.dag_hash,
            step_count: plan.steps.len() as u32,
            root: plan.root,
            queue_seq,
            created_us: now_us(),
            start_us: None,
            end_us: None,
            output_type: plan.output_type.clone(),
            output_fingerprint: plan.output_fingerprint,
            metadata: None,
            failure: None,
        }
    }
}
