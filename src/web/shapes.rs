//! The JSON the API answers with: engine types flattened for the page (times in
//! milliseconds since the Unix epoch, states by name).

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::state::TaskState;
use crate::{
    ActorDetail, ActorInfo, Progress, TaskMetadata, Waits, WorkflowInfo, WorkflowMetadata,
};

/// Milliseconds since the Unix epoch.
pub(crate) fn millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64)
}

fn maybe_millis(time: Option<SystemTime>) -> Value {
    time.map_or(Value::Null, |time| json!(millis(time)))
}

/// The time from `start` to `end`, or to now for something still going.
fn duration_ms(start: Option<SystemTime>, end: Option<SystemTime>) -> Value {
    match start {
        Some(start) => {
            let end = end.unwrap_or_else(SystemTime::now);
            json!(end
                .duration_since(start)
                .map_or(0, |took| took.as_millis() as u64))
        }
        None => Value::Null,
    }
}

/// A row of the workflow list.
pub(crate) fn workflow_row(info: &WorkflowInfo, progress: Option<Progress>) -> Value {
    json!({
        "id": info.id,
        "status": info.status.to_string(),
        "created_time": millis(info.created_time),
        "start_time": maybe_millis(info.start_time),
        "end_time": maybe_millis(info.end_time),
        "duration_ms": duration_ms(info.start_time, info.end_time),
        "tasks_done": progress.map(|p| p.done),
        "tasks_total": progress.map(|p| p.known),
    })
}

/// A workflow without its tasks: the head of its page.
pub(crate) fn workflow_summary(meta: &WorkflowMetadata, progress: Progress) -> Value {
    let mut counts = serde_json::Map::new();
    for task in &meta.tasks {
        let state = TaskState::of(task, meta.status).name();
        let count = counts.entry(state).or_insert(json!(0));
        *count = json!(count.as_u64().unwrap_or(0) + 1);
    }
    json!({
        "id": meta.id,
        "status": meta.status.to_string(),
        "user_metadata": meta.user_metadata,
        "start_time": maybe_millis(meta.start_time),
        "end_time": maybe_millis(meta.end_time),
        "duration_ms": duration_ms(meta.start_time, meta.end_time),
        "tasks_done": progress.done,
        "tasks_total": progress.known,
        "task_states": counts,
    })
}

/// One task in detail.
pub(crate) fn task(task: &TaskMetadata, meta: &WorkflowMetadata) -> Value {
    json!({
        "task_id": task.task_id,
        "name": task.name,
        "state": TaskState::of(task, meta.status),
        "attempts": task.attempts,
        "start_time": maybe_millis(task.start_time),
        "end_time": maybe_millis(task.end_time),
        "duration_ms": duration_ms(task.start_time, task.end_time),
        "user_metadata": task.user_metadata,
        "inputs": task.inputs,
        "parent": task.parent,
        "error": task.error,
    })
}

/// What a workflow waits for.
pub(crate) fn waits(waits: &Waits) -> Value {
    let timers: Vec<Value> = waits
        .timers
        .iter()
        .map(|timer| {
            json!({
                "task_id": timer.task_id,
                "duration_ms": timer.duration.as_millis() as u64,
                "deadline": maybe_millis(timer.deadline),
            })
        })
        .collect();
    let events: Vec<Value> = waits
        .events
        .iter()
        .map(|event| {
            json!({
                "task_id": event.task_id,
                "key": event.key,
                "external": event.external,
                "started": event.started,
            })
        })
        .collect();
    let queued: Vec<Value> = waits
        .queued
        .iter()
        .map(|queued| json!({ "key": queued.key, "count": queued.count }))
        .collect();
    json!({ "timers": timers, "events": events, "queued": queued })
}

/// An actor, as listed.
pub(crate) fn actor(actor: &ActorInfo) -> Value {
    json!({
        "id": actor.id,
        "type_name": actor.type_name,
        "calls": actor.calls,
        "created_time": millis(actor.created_time),
    })
}

/// One actor in detail.
pub(crate) fn actor_detail(detail: &ActorDetail) -> Value {
    let calls: Vec<Value> = detail
        .recent_calls
        .iter()
        .map(|call| workflow_row(call, None))
        .collect();
    json!({
        "actor": actor(&detail.actor),
        "state": detail.state,
        "state_error": detail.state_error,
        "state_bytes": detail.state_bytes,
        "recent_calls": calls,
    })
}
