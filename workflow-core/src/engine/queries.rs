//! Reading workflows: status, outputs, metadata, lists.

use super::Engine;

use crate::{
    driver::Output,
    id::{validate_task_id, validate_workflow_id},
    metadata::{TaskMetadata, TaskStatus, WorkflowInfo, WorkflowMetadata},
    records::{
        decode, step_of_key, system_time, workflow_prefix, AttemptRecord, ResultRecord,
        StepOutcome, StepRecord, WorkflowRecord, ATTEMPTS, RESULTS, STEPS,
    },
    value::{decode_value, fingerprint, short_type_name},
    Error, ObjectRef, Result, TaskValue, WorkflowStatus,
};

impl Engine {
    /// The status of workflow `id`.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown id, [`Error::InvalidId`] for a malformed one.
    ///
    /// # Examples
    ///
    /// ```
    /// # use workflow::prelude::*;
    /// # #[task] fn one() -> i64 { 1 }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// let engine = Engine::temporary().await?;
    /// engine.run("w", one::bind()).await?;
    /// assert_eq!(engine.status("w").await?, WorkflowStatus::Successful);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn status(&self, id: &str) -> Result<WorkflowStatus> {
        validate_workflow_id(id)?;
        if let Some(status) = self.shared().active_status(id) {
            return Ok(status);
        }
        Ok(stored_status(&self.shared().record(id).await?))
    }

    /// The output of workflow `id`, waiting while it is pending or running here.
    ///
    /// # Errors
    ///
    /// [`Error::TaskFailed`] for a failed workflow, [`Error::Canceled`] for a canceled one,
    /// [`Error::NotFinished`] for one interrupted and not resumed, [`Error::Codec`] when `T`
    /// is not the workflow's output type.
    ///
    /// # Examples
    ///
    /// ```
    /// # use workflow::prelude::*;
    /// # #[task] fn one() -> i64 { 1 }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// let engine = Engine::temporary().await?;
    /// engine.run("w", one::bind()).await?;
    /// assert_eq!(engine.output::<i64>("w").await?, 1);
    /// assert!(matches!(engine.output::<String>("w").await, Err(Error::Codec { .. })));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn output<T: TaskValue>(&self, id: &str) -> Result<T> {
        validate_workflow_id(id)?;
        let output = self.shared().output(id).await?;
        decode_output(id, &output)
    }

    /// The checkpointed output of task `task_id` in workflow `id`.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if the workflow or task does not exist or the task has no
    /// checkpoint yet; [`Error::TaskFailed`] if the task failed (a caught failure included).
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
    /// engine.run("w", add::bind(100, one::bind())).await?;
    /// assert_eq!(engine.task_output::<i64>("w", "one").await?, 1);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn task_output<T: TaskValue>(&self, id: &str, task_id: &str) -> Result<T> {
        validate_workflow_id(id)?;
        validate_task_id(task_id)?;
        let shared = self.shared();
        let record = shared.record(id).await?;
        let (step, step_record) = shared.find_step(id, task_id).await?;
        let Some(result) = shared
            .output_of_step(id, step, &step_record, record.step_count)
            .await?
        else {
            if let Some(failure) = record.failure.as_ref().filter(|f| f.task_id == task_id) {
                return Err(Error::TaskFailed {
                    workflow_id: id.to_string(),
                    task_id: task_id.to_string(),
                    error: failure.error.clone(),
                });
            }
            return Err(Error::NotFound {
                what: "checkpointed output of task",
                id: task_id.to_string(),
            });
        };
        match result.outcome {
            StepOutcome::Caught(error) => Err(Error::TaskFailed {
                workflow_id: id.to_string(),
                task_id: task_id.to_string(),
                error,
            }),
            StepOutcome::Continued { .. } => Err(Error::NotFound {
                what: "checkpointed output of task",
                id: task_id.to_string(),
            }),
            StepOutcome::Value {
                fingerprint: stored,
                bytes,
            } => {
                if stored != fingerprint::<T>() {
                    let stored_type = shared
                        .registry
                        .get(&step_record.task)
                        .map(|task| (task.output_type)())
                        .unwrap_or_else(|| "another type".to_string());
                    return Err(Error::Codec {
                        message: format!(
                            "task `{task_id}` of workflow `{id}` output a `{stored_type}`, read as `{}`",
                            short_type_name::<T>()
                        ),
                    });
                }
                decode_value(
                    &bytes,
                    &format!("output of task `{task_id}` in workflow `{id}`"),
                )
            }
        }
    }

    /// The workflow's status, times, user metadata and per-task details.
    ///
    /// # Examples
    ///
    /// ```
    /// # use workflow::prelude::*;
    /// # #[task] fn one() -> i64 { 1 }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// let engine = Engine::temporary().await?;
    /// engine.run("w", one::bind()).await?;
    /// let meta = engine.metadata("w").await?;
    /// assert_eq!(meta.tasks[0].task_id, "one");
    /// assert!(meta.end_time >= meta.start_time);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn metadata(&self, id: &str) -> Result<WorkflowMetadata> {
        validate_workflow_id(id)?;
        let shared = self.shared();
        let record = shared.record(id).await?;
        let status = shared.active_status(id).unwrap_or(stored_status(&record));
        let prefix = workflow_prefix(id);
        let steps: Vec<StepRecord> = shared
            .store
            .scan_prefix(STEPS, &prefix)
            .await?
            .iter()
            .map(|(key, bytes)| decode(STEPS, key, bytes))
            .collect::<Result<_>>()?;
        let mut tasks: Vec<TaskMetadata> = steps
            .into_iter()
            .map(|step| TaskMetadata {
                task_id: step.task_id,
                name: step.task,
                status: TaskStatus::Waiting,
                attempts: 0,
                start_time: None,
                end_time: None,
                user_metadata: parse_json(step.options.metadata.as_deref()),
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
                    StepOutcome::Caught(_) => TaskStatus::Failed,
                    StepOutcome::Continued { .. } => TaskStatus::Continued,
                };
            }
        }
        if let Some(failure) = &record.failure {
            if let Some(task) = tasks.iter_mut().find(|t| t.task_id == failure.task_id) {
                task.status = TaskStatus::Failed;
                task.end_time = Some(system_time(failure.end_us));
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

    /// Every workflow in the store (not actor calls), or those with status `filter`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use workflow::prelude::*;
    /// # #[task] fn one() -> i64 { 1 }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// let engine = Engine::temporary().await?;
    /// engine.run("w", one::bind()).await?;
    /// let done = engine.list(Some(WorkflowStatus::Successful)).await?;
    /// assert_eq!(done[0].id, "w");
    /// assert!(engine.list(Some(WorkflowStatus::Failed)).await?.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn list(&self, filter: Option<WorkflowStatus>) -> Result<Vec<WorkflowInfo>> {
        self.shared().list_all(filter, false).await
    }
}

/// The status of a workflow that is not active here: one stored as `Running` was left so by
/// a run that stopped (this process holds the store), so it is `Resumable`.
pub(crate) fn stored_status(record: &WorkflowRecord) -> WorkflowStatus {
    match record.status {
        WorkflowStatus::Running => WorkflowStatus::Resumable,
        status => status,
    }
}

fn decode_output<T: TaskValue>(id: &str, output: &Output) -> Result<T> {
    if output.fingerprint != fingerprint::<T>() {
        return Err(Error::Codec {
            message: format!(
                "workflow `{id}` outputs a `{}`, read as `{}`",
                output.type_name,
                short_type_name::<T>()
            ),
        });
    }
    decode_value(&output.bytes, &format!("output of workflow `{id}`"))
}

pub(crate) fn failed(id: &str, record: &WorkflowRecord) -> Error {
    match &record.failure {
        Some(failure) => Error::TaskFailed {
            workflow_id: id.to_string(),
            task_id: failure.task_id.clone(),
            error: failure.error.clone(),
        },
        None => Error::NotFinished {
            id: id.to_string(),
            status: record.status,
        },
    }
}

fn parse_json(text: Option<&str>) -> serde_json::Value {
    text.and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(serde_json::Value::Null)
}

impl Engine {
    /// Stores `value` as an object now and returns a reference to it, to pass to tasks.
    ///
    /// # Durability
    ///
    /// The object is stored when this returns.
    ///
    /// # Examples
    ///
    /// ```
    /// # use workflow::prelude::*;
    /// #[task]
    /// fn length(text: String) -> usize {
    ///     text.len()
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// let engine = Engine::temporary().await?;
    /// let text: ObjectRef<String> = engine.put("hello".to_string()).await?;
    /// // An object passed where its value's type is expected is resolved to the value.
    /// assert_eq!(engine.run("len", length::bind(text.clone())).await?, 5);
    /// assert_eq!(*engine.get(&text).await?, "hello");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn put<T: TaskValue>(&self, value: T) -> Result<ObjectRef<T>> {
        let id = self.shared().objects.put_now(value).await?;
        Ok(ObjectRef::from_id(id))
    }

    /// The value of an object, from the shared cache or the store.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if no such object is stored, [`Error::Corrupt`] if its records
    /// cannot be read, [`Error::Codec`] if it holds another type.
    pub async fn get<T: TaskValue>(&self, object: &ObjectRef<T>) -> Result<std::sync::Arc<T>> {
        self.shared().objects.get(object.id()).await
    }
}
