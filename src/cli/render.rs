//! What the commands print: readable tables, or JSON with `--json`.

use std::time::{Duration, SystemTime};

use comfy_table::{presets::NOTHING, Table};
use serde_json::{json, Value};

use super::tree::{self, status_name};
use crate::{StoreStats, TaskMetadata, Waits, WorkflowInfo, WorkflowMetadata};

/// A time as RFC 3339 (UTC, to the millisecond).
pub(crate) fn time(time: Option<SystemTime>) -> Value {
    match time {
        Some(time) => Value::String(humantime::format_rfc3339_millis(time).to_string()),
        None => Value::Null,
    }
}

/// Time from `start` to `end`, or to now while it runs.
fn elapsed(start: Option<SystemTime>, end: Option<SystemTime>) -> Option<Duration> {
    let start = start?;
    end.unwrap_or_else(SystemTime::now)
        .duration_since(start)
        .ok()
}

/// A duration, to the millisecond.
fn duration(duration: Option<Duration>) -> String {
    match duration {
        Some(d) => {
            humantime::format_duration(Duration::from_millis(d.as_millis() as u64)).to_string()
        }
        None => "-".to_string(),
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => "-".to_string(),
        other => other.to_string(),
    }
}

fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table.load_preset(NOTHING).set_header(header.to_vec());
    table
}

pub(crate) fn list_json(workflows: &[WorkflowInfo]) -> Value {
    Value::Array(
        workflows
            .iter()
            .map(|w| {
                json!({
                    "id": w.id,
                    "status": w.status,
                    "start_time": time(w.start_time),
                    "end_time": time(w.end_time),
                    "duration_ms": elapsed(w.start_time, w.end_time).map(|d| d.as_millis() as u64),
                })
            })
            .collect(),
    )
}

pub(crate) fn list_text(workflows: &[WorkflowInfo]) -> String {
    if workflows.is_empty() {
        return "no workflows".to_string();
    }
    let mut table = table(&["ID", "STATUS", "STARTED", "DURATION"]);
    for w in workflows {
        table.add_row(vec![
            w.id.clone(),
            w.status.to_string(),
            text(&time(w.start_time)),
            duration(elapsed(w.start_time, w.end_time)),
        ]);
    }
    table.to_string()
}

fn task_json(task: &TaskMetadata) -> Value {
    json!({
        "task_id": task.task_id,
        "name": task.name,
        "status": status_name(task.status),
        "attempts": task.attempts,
        "start_time": time(task.start_time),
        "end_time": time(task.end_time),
        "duration_ms": task.end_time.and(elapsed(task.start_time, task.end_time)).map(|d| d.as_millis() as u64),
        "inputs": task.inputs,
        "parent": task.parent,
        "error": task.error,
        "metadata": task.user_metadata,
    })
}

pub(crate) fn show_json(meta: &WorkflowMetadata) -> Value {
    json!({
        "id": meta.id,
        "status": meta.status,
        "start_time": time(meta.start_time),
        "end_time": time(meta.end_time),
        "duration_ms": elapsed(meta.start_time, meta.end_time).map(|d| d.as_millis() as u64),
        "metadata": meta.user_metadata,
        "tasks": meta.tasks.iter().map(task_json).collect::<Vec<_>>(),
    })
}

pub(crate) fn show_text(meta: &WorkflowMetadata) -> String {
    let mut out = String::new();
    out.push_str(&format!("workflow  {}\n", meta.id));
    out.push_str(&format!("status    {}\n", meta.status));
    out.push_str(&format!("started   {}\n", text(&time(meta.start_time))));
    out.push_str(&format!("ended     {}\n", text(&time(meta.end_time))));
    out.push_str(&format!(
        "duration  {}\n",
        duration(elapsed(meta.start_time, meta.end_time))
    ));
    if !meta.user_metadata.is_null() {
        out.push_str(&format!("metadata  {}\n", meta.user_metadata));
    }
    let mut tasks = table(&["TASK", "NAME", "STATUS", "ATTEMPTS", "DURATION", "ERROR"]);
    for task in &meta.tasks {
        tasks.add_row(vec![
            task.task_id.clone(),
            task.name.clone(),
            status_name(task.status).to_string(),
            task.attempts.to_string(),
            duration(task.end_time.and(elapsed(task.start_time, task.end_time))),
            task.error.clone().unwrap_or_default(),
        ]);
    }
    out.push_str(&format!("\n{tasks}\n\ngraph\n"));
    for line in tree::lines(&meta.tasks) {
        out.push_str(&format!("  {line}\n"));
    }
    out.trim_end().to_string()
}

pub(crate) fn waits_json(waits: &Waits) -> Value {
    json!({
        "timers": waits.timers.iter().map(|t| json!({
            "task_id": t.task_id,
            "duration_ms": t.duration.as_millis() as u64,
            "deadline": time(t.deadline),
        })).collect::<Vec<_>>(),
        "events": waits.events.iter().map(|e| json!({
            "task_id": e.task_id,
            "key": e.key,
            "external": e.external,
            "started": e.started,
        })).collect::<Vec<_>>(),
        "queued": waits.queued.iter().map(|q| json!({
            "key": q.key,
            "count": q.count,
        })).collect::<Vec<_>>(),
    })
}

pub(crate) fn waits_text(waits: &Waits) -> String {
    let mut out = Vec::new();
    if waits.timers.is_empty() {
        out.push("timers: none".to_string());
    } else {
        let mut timers = table(&["SLEEP", "DURATION", "DEADLINE", "LEFT"]);
        for t in &waits.timers {
            let left = t.deadline.map(|d| {
                duration(Some(
                    d.duration_since(SystemTime::now()).unwrap_or_default(),
                ))
            });
            timers.add_row(vec![
                t.task_id.clone(),
                duration(Some(t.duration)),
                text(&time(t.deadline)),
                left.unwrap_or_else(|| "not started".to_string()),
            ]);
        }
        out.push(format!("timers\n{timers}"));
    }
    if waits.events.is_empty() {
        out.push("events awaited: none".to_string());
    } else {
        let mut events = table(&["STEP", "KEY", "KIND", "STARTED"]);
        for e in &waits.events {
            events.add_row(vec![
                e.task_id.clone(),
                e.key.clone(),
                if e.external { "external" } else { "listener" }.to_string(),
                if e.started { "yes" } else { "no" }.to_string(),
            ]);
        }
        out.push(format!("events awaited\n{events}"));
    }
    if !waits.queued.is_empty() {
        let mut queued = table(&["KEY", "QUEUED"]);
        for q in &waits.queued {
            queued.add_row(vec![q.key.clone(), q.count.to_string()]);
        }
        out.push(format!("events sent, not yet taken\n{queued}"));
    }
    out.join("\n\n")
}

pub(crate) fn stats_json(stats: &StoreStats) -> Value {
    json!({
        "workflows": stats.workflows,
        "by_status": stats.by_status,
        "actors": stats.actors,
        "disk_bytes": stats.disk_bytes,
    })
}

pub(crate) fn stats_text(stats: &StoreStats) -> String {
    let mut table = table(&["", "COUNT"]);
    table.add_row(vec!["workflows".to_string(), stats.workflows.to_string()]);
    for (status, count) in &stats.by_status {
        table.add_row(vec![format!("  {status}"), count.to_string()]);
    }
    table.add_row(vec!["actors".to_string(), stats.actors.to_string()]);
    if let Some(bytes) = stats.disk_bytes {
        table.add_row(vec!["store size".to_string(), megabytes(bytes)]);
    }
    table.to_string()
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}
