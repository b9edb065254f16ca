//! Reading workflows: status, outputs, progress, lists.

use tokio::sync::watch;

use super::Engine;

use crate::{
    driver::Output,
    id::{validate_task_id, validate_workflow_id},
    metadata::WorkflowInfo,
    records::{workflow_prefix, StepOutcome, WorkflowRecord, RESULTS},
    value::{decode_value, fingerprint, short_type_name},
    Error, ObjectRef, Progress, Result, TaskValue, WorkflowStatus,
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
        let shared = self.shared();
        Ok(stored_status(
            &shared.record(id).await?,
            shared.fleet().is_some(),
        ))
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

    /// How far workflow `id` is, as a watch that changes while it runs here.
    ///
    /// For a workflow running (or queued) in this engine, the watch follows it until its run
    /// ends; for any other stored workflow it holds the stored figures and never changes.
    /// `done` counts the tasks whose output is settled; `known` the tasks of its DAG and of
    /// the continuations returned so far.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown id.
    ///
    /// # Examples
    ///
    /// ```
    /// # use workflow::prelude::*;
    /// #[task]
    /// async fn step(x: u64) -> u64 { x }
    ///
    /// #[task]
    /// fn sum(values: Vec<u64>) -> u64 { values.iter().sum() }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// let engine = Engine::temporary().await?;
    /// let parts: Vec<Dag<u64>> = (0..100).map(step::bind).collect();
    /// engine.spawn("sum", sum::bind(parts)).await?;
    /// let mut progress = engine.progress("sum").await?;
    /// // Changes as tasks settle, until the run ends.
    /// while progress.changed().await.is_ok() {
    ///     let now = *progress.borrow();
    ///     assert!(now.done <= now.known);
    /// }
    /// assert_eq!(engine.output::<u64>("sum").await?, 4950);
    /// let stored = *engine.progress("sum").await?.borrow();
    /// assert_eq!((stored.done, stored.known), (101, 101));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn progress(&self, id: &str) -> Result<watch::Receiver<Progress>> {
        validate_workflow_id(id)?;
        let shared = self.shared();
        let live = shared
            .lock()
            .active
            .get(id)
            .map(|active| active.progress.clone());
        if let Some(live) = live {
            if live.borrow().known == 0 {
                // Queued, or loading: the stored figures until its driver publishes.
                if let Ok(stored) = self.stored_progress(id).await {
                    live.send_if_modified(|progress| {
                        let unset = progress.known == 0;
                        if unset {
                            *progress = stored;
                        }
                        unset
                    });
                }
            }
            return Ok(live.subscribe());
        }
        let (_, progress) = watch::channel(self.stored_progress(id).await?);
        Ok(progress)
    }

    /// The progress of stored workflow `id`: its steps, and those with a stored result.
    async fn stored_progress(&self, id: &str) -> Result<Progress> {
        let shared = self.shared();
        let record = shared.record(id).await?;
        let known = u64::from(record.step_count);
        if record.status == WorkflowStatus::Successful {
            return Ok(Progress::new(known, known));
        }
        let done = shared
            .store
            .scan_prefix(RESULTS, &workflow_prefix(id))
            .await?
            .len() as u64;
        Ok(Progress::new(done.min(known), known))
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
/// a run that stopped (this process holds the store), so it is `Resumable` — unless the
/// store is shared by a fleet, where another worker runs it (or takes it over, if its
/// worker died).
pub(crate) fn stored_status(record: &WorkflowRecord, in_fleet: bool) -> WorkflowStatus {
    match record.status {
        WorkflowStatus::Running if !in_fleet => WorkflowStatus::Resumable,
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
