//! Reading workflows: status, outputs, metadata, lists.

use super::{Engine, Shared};
use std::sync::Arc;

use crate::{
    actor::records::parse_call_id,
    driver::{append_output, Finish, Output},
    id::{validate_task_id, validate_workflow_id},
    launch::{read_record, StepResult},
    metadata::{TaskMetadata, TaskStatus, WorkflowInfo, WorkflowMetadata},
    records::{
        decode, step_key, step_of_key, system_time, workflow_prefix, AttemptRecord, ResultRecord,
        StepOutcome, StepRecord, WorkflowRecord, ATTEMPTS, RESULTS, STEPS, WORKFLOWS,
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

impl Shared {
    /// The stored workflows with status `filter` (all if `None`), actor calls only if
    /// `calls`.
    pub(crate) async fn list_all(
        &self,
        filter: Option<WorkflowStatus>,
        calls: bool,
    ) -> Result<Vec<WorkflowInfo>> {
        let shared = self;
        let mut out = Vec::new();
        for (key, bytes) in shared.store.scan_prefix(WORKFLOWS, &[]).await? {
            let record: WorkflowRecord = match decode(WORKFLOWS, &key, &bytes) {
                Ok(record) => record,
                Err(error) => {
                    tracing::warn!(%error, "listing skips a workflow record that cannot be decoded");
                    continue;
                }
            };
            let id = String::from_utf8_lossy(&key).into_owned();
            if !calls && parse_call_id(&id).is_some() {
                continue;
            }
            let status = shared.active_status(&id).unwrap_or(stored_status(&record));
            if filter.is_none_or(|wanted| wanted == status) {
                out.push(WorkflowInfo {
                    id,
                    status,
                    start_time: record.start_us.map(system_time),
                    end_time: record.end_us.map(system_time),
                });
            }
        }
        Ok(out)
    }

    pub(crate) fn active_status(&self, id: &str) -> Option<WorkflowStatus> {
        self.lock().active.get(id).and_then(|active| active.status)
    }

    /// The head record of workflow `id`, or `NotFound`.
    pub(crate) async fn record(&self, id: &str) -> Result<WorkflowRecord> {
        read_record(&*self.store, id)
            .await?
            .ok_or_else(|| Error::NotFound {
                what: "workflow",
                id: id.to_string(),
            })
    }

    async fn find_step(&self, id: &str, task_id: &str) -> Result<(u32, StepRecord)> {
        let prefix = workflow_prefix(id);
        for (key, bytes) in self.store.scan_prefix(STEPS, &prefix).await? {
            let step: StepRecord = decode(STEPS, &key, &bytes)?;
            if step.task_id == task_id {
                let index = step_of_key(prefix.len(), &key).unwrap_or(0);
                return Ok((index, step));
            }
        }
        Err(Error::NotFound {
            what: "task",
            id: task_id.to_string(),
        })
    }

    /// The output of `step` as its own dependents see it: its checkpoint, or that of the
    /// continuation level its pointer leads to, wrapped in `Ok`/`Err` if that level catches
    /// errors. `None` while there is none.
    async fn output_of_step(
        &self,
        id: &str,
        step: u32,
        record: &StepRecord,
        step_count: u32,
    ) -> Result<Option<ResultRecord>> {
        let Some((end, mut result)) = self.settled_result(id, step, step_count).await? else {
            return Ok(None);
        };
        if end == step {
            return Ok(Some(result));
        }
        let key = step_key(id, end);
        let Some(bytes) = self.store.get(STEPS, &key).await? else {
            return Ok(None);
        };
        let end_record: StepRecord = decode(STEPS, &key, &bytes)?;
        if end_record.options.catch_errors {
            let settled = match result.outcome {
                StepOutcome::Value { bytes, .. } => StepResult::Value(bytes.into()),
                StepOutcome::Caught(error) => StepResult::Caught(error),
                StepOutcome::Continued { .. } => return Ok(None),
            };
            let mut bytes = Vec::new();
            append_output(0, true, &[Some(settled)], &mut bytes)?;
            // The wrapped value has the type of the step asked for, not of the level.
            let fingerprint = self
                .registry
                .get(&record.task)
                .map(|task| (task.output_fingerprint)())
                .unwrap_or_default();
            result.outcome = StepOutcome::Value { fingerprint, bytes };
        }
        Ok(Some(result))
    }

    /// The settled result of `step`, following its continuation pointers, and the step it was
    /// found at; `None` while it has none.
    async fn settled_result(
        &self,
        id: &str,
        step: u32,
        step_count: u32,
    ) -> Result<Option<(u32, ResultRecord)>> {
        let mut at = step;
        for _ in 0..=step_count {
            let key = step_key(id, at);
            let Some(bytes) = self.store.get(RESULTS, &key).await? else {
                return Ok(None);
            };
            let result: ResultRecord = decode(RESULTS, &key, &bytes)?;
            match result.outcome {
                StepOutcome::Continued { root } if root > at && root < step_count => at = root,
                StepOutcome::Continued { .. } => {
                    return Err(Error::Corrupt {
                        keyspace: RESULTS.name(),
                        key: workflow_storage::render_key(&key),
                        reason: "its continuation points at no later step".to_string(),
                    })
                }
                _ => return Ok(Some((at, result))),
            }
        }
        Ok(None)
    }

    /// The encoded output of workflow `id`, once it finished if it is running here.
    pub(crate) async fn output(&self, id: &str) -> Result<Arc<Output>> {
        let waiter = self.lock().active.get(id).map(|a| a.finish.clone());
        if let Some(mut finish) = waiter {
            let finished = finish
                .wait_for(Option::is_some)
                .await
                .ok()
                .and_then(|f| f.clone());
            match finished {
                Some(Finish::Successful(output)) => return Ok(output),
                Some(Finish::Broken(error)) => return Err(error),
                Some(Finish::Failed { task_id, error }) => {
                    return Err(Error::TaskFailed {
                        workflow_id: id.to_string(),
                        task_id,
                        error,
                    })
                }
                Some(Finish::Canceled) => return Err(Error::Canceled { id: id.to_string() }),
                _ => {}
            }
        }
        let record = self.record(id).await?;
        match record.status {
            WorkflowStatus::Successful => Ok(Arc::new(self.stored_output(id, &record).await?)),
            WorkflowStatus::Failed => Err(failed(id, &record)),
            WorkflowStatus::Canceled => Err(Error::Canceled { id: id.to_string() }),
            _ => Err(Error::NotFinished {
                id: id.to_string(),
                status: stored_status(&record),
            }),
        }
    }

    /// The stored output of a successful workflow.
    pub(crate) async fn stored_output(&self, id: &str, record: &WorkflowRecord) -> Result<Output> {
        let key = step_key(id, record.root);
        let missing = || Error::Corrupt {
            keyspace: RESULTS.name(),
            key: workflow_storage::render_key(&key),
            reason: "the successful workflow's output is missing".to_string(),
        };
        let step_bytes = self.store.get(STEPS, &key).await?.ok_or_else(missing)?;
        let step: StepRecord = decode(STEPS, &key, &step_bytes)?;
        let result_bytes = self.store.get(RESULTS, &key).await?.ok_or_else(missing)?;
        let result: ResultRecord = decode(RESULTS, &key, &result_bytes)?;
        let result = match result.outcome {
            StepOutcome::Value { bytes, .. } => StepResult::Value(bytes.into()),
            StepOutcome::Caught(error) => StepResult::Caught(error),
            StepOutcome::Continued { .. } => return Err(missing()),
        };
        let mut bytes = Vec::new();
        append_output(0, step.options.catch_errors, &[Some(result)], &mut bytes)?;
        Ok(Output {
            bytes,
            fingerprint: record.output_fingerprint,
            type_name: record.output_type.clone(),
        })
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
