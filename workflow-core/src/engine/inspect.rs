//! Inspecting stored workflows: their tasks and graph, what they wait for, and the store.

use std::{collections::BTreeMap, time::Duration};

use workflow_storage::KeyReader;

use super::{queries::stored_status, Engine};
use crate::{
    actor::records::ACTORS,
    driver::input_steps,
    id::validate_workflow_id,
    metadata::{
        PendingEvent, PendingTimer, QueuedEvents, StoreStats, TaskMetadata, TaskStatus, Waits,
        WorkflowMetadata,
    },
    records::{
        decode, step_of_key, system_time, workflow_prefix, AttemptRecord, InputRecord,
        ResultRecord, StepOutcome, StepRecord, ATTEMPTS, EVENTS, RESULTS, STEPS,
    },
    value::decode_value,
    Result, WorkflowStatus,
};

/// The durable names of the steps that wait for a sleep or an external event.
const SLEEP_TASK: &str = "workflow::sleep";
pub(super) const EXTERNAL_EVENT_TASK: &str = "workflow::external_event";
/// Listener steps are named `{listener}::poll_for_event`.
const LISTENER_POLL_SUFFIX: &str = "::poll_for_event";

impl Engine {
    /// The workflow's status, times, user metadata and per-task details: each task's
    /// status, attempts, times, inputs and (for a continuation's tasks) the task that
    /// returned it, which together draw its graph.
    ///
    /// # Examples
    ///
    /// ```
    /// # use workflow::prelude::*;
    /// # #[task] fn one() -> i64 { 1 }
    /// # #[task] fn add(a: i64, b: i64) -> i64 { a + b }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// let engine = Engine::temporary().await?;
    /// engine.run("w", add::bind(one::bind(), 2)).await?;
    /// let meta = engine.metadata("w").await?;
    /// let add = meta.tasks.iter().find(|task| task.task_id == "add").unwrap();
    /// assert_eq!(add.inputs, ["one"]);
    /// assert_eq!(add.status, TaskStatus::Successful);
    /// assert!(meta.end_time >= meta.start_time);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn metadata(&self, id: &str) -> Result<WorkflowMetadata> {
        validate_workflow_id(id)?;
        let shared = self.shared();
        let record = shared.record(id).await?;
        let status = shared
            .active_status(id)
            .unwrap_or(stored_status(&record, shared.fleet().is_some()));
        let prefix = workflow_prefix(id);
        let steps = self.stored_steps(id).await?;
        let ids: Vec<&str> = steps.iter().map(|step| step.task_id.as_str()).collect();
        let id_of = |step: u32| ids.get(step as usize).map(|id| id.to_string());
        let mut tasks: Vec<TaskMetadata> = steps
            .iter()
            .map(|step| TaskMetadata {
                task_id: step.task_id.clone(),
                name: step.task.clone(),
                status: TaskStatus::Waiting,
                attempts: 0,
                start_time: None,
                end_time: None,
                user_metadata: parse_json(step.options.metadata.as_deref()),
                inputs: input_steps(step).into_iter().filter_map(id_of).collect(),
                parent: step.parent.and_then(id_of),
                error: None,
            })
            .collect();
        for (key, bytes) in shared.store.scan_prefix(ATTEMPTS, &prefix).await? {
            let attempt: AttemptRecord = decode(ATTEMPTS, &key, &bytes)?;
            if let Some(task) =
                step_of_key(prefix.len(), &key).and_then(|s| tasks.get_mut(s as usize))
            {
                task.attempts = attempt.attempts;
                task.start_time = Some(system_time(attempt.first_start_us));
                task.status = if status == WorkflowStatus::Running {
                    TaskStatus::Running
                } else {
                    TaskStatus::Interrupted
                };
            }
        }
        for (key, bytes) in shared.store.scan_prefix(RESULTS, &prefix).await? {
            let result: ResultRecord = decode(RESULTS, &key, &bytes)?;
            if let Some(task) =
                step_of_key(prefix.len(), &key).and_then(|s| tasks.get_mut(s as usize))
            {
                task.attempts = result.attempts;
                task.start_time = Some(system_time(result.start_us));
                task.end_time = Some(system_time(result.end_us));
                task.status = match result.outcome {
                    StepOutcome::Value { .. } => TaskStatus::Successful,
                    StepOutcome::Caught(error) => {
                        task.error = Some(error.to_string());
                        TaskStatus::Failed
                    }
                    StepOutcome::Continued { .. } => TaskStatus::Continued,
                };
            }
        }
        if let Some(failure) = &record.failure {
            if let Some(task) = tasks.iter_mut().find(|t| t.task_id == failure.task_id) {
                task.status = TaskStatus::Failed;
                task.end_time = Some(system_time(failure.end_us));
                task.error = Some(failure.error.to_string());
            }
        }
        Ok(WorkflowMetadata {
            id: id.to_string(),
            status,
            user_metadata: parse_json(record.metadata.as_deref()),
            start_time: record.start_us.map(system_time),
            end_time: record.end_us.map(system_time),
            tasks,
        })
    }

    /// What workflow `id` waits for: its unfinished sleeps (with their deadlines), its
    /// steps waiting for events, and the events sent to it that no step took yet.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`](crate::Error::NotFound) for an unknown id.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use workflow::prelude::*;
    /// # #[task] fn woke(_slept: ()) -> i64 { 1 }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// let engine = Engine::temporary().await?;
    /// engine.spawn("nap", woke::bind(workflow::sleep(Duration::from_secs(60)))).await?;
    /// # tokio::time::sleep(Duration::from_millis(20)).await;
    /// let waits = engine.waits("nap").await?;
    /// assert_eq!(waits.timers[0].task_id, "sleep");
    /// assert_eq!(waits.timers[0].duration, Duration::from_secs(60));
    /// assert!(waits.timers[0].deadline.is_some());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn waits(&self, id: &str) -> Result<Waits> {
        validate_workflow_id(id)?;
        let shared = self.shared();
        shared.record(id).await?;
        let prefix = workflow_prefix(id);
        let steps = self.stored_steps(id).await?;
        let mut settled = vec![false; steps.len()];
        for (key, _) in shared.store.scan_prefix(RESULTS, &prefix).await? {
            if let Some(s) =
                step_of_key(prefix.len(), &key).and_then(|s| settled.get_mut(s as usize))
            {
                *s = true;
            }
        }
        let mut first_start = vec![None; steps.len()];
        for (key, bytes) in shared.store.scan_prefix(ATTEMPTS, &prefix).await? {
            let attempt: AttemptRecord = decode(ATTEMPTS, &key, &bytes)?;
            if let Some(start) =
                step_of_key(prefix.len(), &key).and_then(|s| first_start.get_mut(s as usize))
            {
                *start = Some(attempt.first_start_us);
            }
        }
        let mut waits = Waits::default();
        for (s, step) in steps.iter().enumerate() {
            if settled[s] {
                continue;
            }
            let started = first_start[s];
            if step.task == SLEEP_TASK {
                let millis: u64 = first_value(step, "a sleep's duration")?;
                waits.timers.push(PendingTimer {
                    task_id: step.task_id.clone(),
                    duration: Duration::from_millis(millis),
                    deadline: started.map(|start| {
                        system_time(start.saturating_add(millis.saturating_mul(1_000)))
                    }),
                });
            } else if step.task == EXTERNAL_EVENT_TASK {
                waits.events.push(PendingEvent {
                    task_id: step.task_id.clone(),
                    key: first_value(step, "an event's key")?,
                    external: true,
                    started: started.is_some(),
                });
            } else if let Some(listener) = step.task.strip_suffix(LISTENER_POLL_SUFFIX) {
                waits.events.push(PendingEvent {
                    task_id: step.task_id.clone(),
                    key: listener.to_string(),
                    external: false,
                    started: started.is_some(),
                });
            }
        }
        let mut queued: BTreeMap<String, u64> = BTreeMap::new();
        for (key, _) in shared.store.scan_prefix(EVENTS, &prefix).await? {
            let mut reader = KeyReader::new(&key);
            if let (Some(_), Some(event_key)) = (reader.str(), reader.str()) {
                *queued.entry(event_key.to_string()).or_default() += 1;
            }
        }
        waits.queued = queued
            .into_iter()
            .map(|(key, count)| QueuedEvents { key, count })
            .collect();
        Ok(waits)
    }

    /// Counts of the workflows in the store by status, of its actors, and its size on disk.
    ///
    /// Reads every workflow's head record: on a store of many workflows it takes a while.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// let engine = workflow::Engine::temporary().await?;
    /// let stats = engine.stats().await?;
    /// assert_eq!(stats.workflows, 0);
    /// assert!(stats.by_status.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn stats(&self) -> Result<StoreStats> {
        let shared = self.shared();
        let workflows = shared.list_all(None, false).await?;
        let mut by_status = BTreeMap::new();
        for workflow in &workflows {
            *by_status.entry(workflow.status).or_default() += 1;
        }
        let actors = shared.store.scan_prefix(ACTORS, &[]).await?.len() as u64;
        Ok(StoreStats {
            workflows: workflows.len() as u64,
            by_status,
            actors,
            disk_bytes: shared.store.disk_space().await?,
        })
    }

    /// The step records of stored workflow `id`, in step order.
    async fn stored_steps(&self, id: &str) -> Result<Vec<StepRecord>> {
        self.shared()
            .store
            .scan_prefix(STEPS, &workflow_prefix(id))
            .await?
            .iter()
            .map(|(key, bytes)| decode(STEPS, key, bytes))
            .collect()
    }
}

/// The first argument of a waiting step, given as a value.
fn first_value<T: crate::TaskValue>(step: &StepRecord, what: &str) -> Result<T> {
    match step.inputs.first() {
        Some(InputRecord::Value(bytes)) => decode_value(bytes, what),
        _ => Err(crate::Error::Corrupt {
            keyspace: STEPS.name(),
            key: step.task_id.clone(),
            reason: format!("{what} is not stored with the step"),
        }),
    }
}

pub(crate) fn parse_json(text: Option<&str>) -> serde_json::Value {
    text.and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(serde_json::Value::Null)
}
