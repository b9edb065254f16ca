//! Reading stored workflows: their records, outputs and listings, for the queries of
//! [`Engine`](super::Engine) and for the engine's own use.

use std::sync::Arc;

use super::{
    queries::{failed, stored_status},
    Shared,
};
use crate::{
    actor::records::parse_call_id,
    driver::{append_output, Finish, Output},
    launch::{read_record, StepResult},
    records::{
        decode, step_key, step_of_key, workflow_prefix, ResultRecord, StepOutcome, StepRecord,
        WorkflowRecord, RESULTS, STEPS,
    },
    Error, Result, WorkflowStatus,
};
impl Shared {
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

    pub(super) async fn find_step(&self, id: &str, task_id: &str) -> Result<(u32, StepRecord)> {
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
    pub(super) async fn output_of_step(
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
    pub(crate) async fn output(self: &Arc<Self>, id: &str) -> Result<Arc<Output>> {
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
        let mut record = self.record(id).await?;
        let unfinished = matches!(
            record.status,
            WorkflowStatus::Running | WorkflowStatus::Pending
        );
        if !record.status.is_finished() && self.fleet().is_some() && parse_call_id(id).is_some() {
            // A call of an actor another worker serves.
            self.wait_call_elsewhere(id).await?;
            if self.lock().active.contains_key(id) {
                return Box::pin(self.output(id)).await;
            }
            record = self.record(id).await?;
        } else if unfinished && self.held_in_fleet(id).await? {
            self.wait_elsewhere(id).await?;
            record = self.record(id).await?;
        }
        match record.status {
            WorkflowStatus::Successful => Ok(Arc::new(self.stored_output(id, &record).await?)),
            WorkflowStatus::Failed => Err(failed(id, &record)),
            WorkflowStatus::Canceled => Err(Error::Canceled { id: id.to_string() }),
            _ => Err(Error::NotFinished {
                id: id.to_string(),
                status: stored_status(&record, self.fleet().is_some()),
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
