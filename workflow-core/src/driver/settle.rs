//! Settling steps: the outcome of each attempt (an output, a continuation or a failure),
//! checkpointed in one batch with the attempt records of the steps it makes ready.

use std::{sync::Arc, time::Duration};

use workflow_storage::Batch;

use super::{
    slot::Joined, AfterCommit, Driver, DriverEvent, Finish, Output, StepMeta, MAX_BACKOFF,
};
use crate::metrics::{TASKS_FAILED, TASKS_RETRIED, TASKS_SUCCEEDED};
use crate::{
    attempt::{panic_message, AttemptResult},
    dag::Node,
    driver::graph::append_output,
    launch::StepResult,
    lower::lower_nodes,
    object::ObjectSpace,
    records::{
        encode, now_us, step_key, Failure, ResultRecord, StepOutcome, ATTEMPTS, EVENTS, RESULTS,
    },
    task_error::FailureKind,
    Result, TaskError, WorkflowStatus,
};

impl Driver {
    /// An attempt run here ended: its outcome settles its step, or fails or retries it.
    pub(super) fn on_joined(&mut self, joined: Joined) -> Result<Option<Finish>> {
        let (step, started, result) = match joined {
            Ok((id, (step, started, result))) => {
                self.running_steps.remove(&id);
                (step, started, result)
            }
            Err(error) => {
                let Some((step, started)) = self.running_steps.remove(&error.id()) else {
                    return Ok(None);
                };
                if error.is_cancelled() {
                    return Ok(None);
                }
                let message = if error.is_panic() {
                    panic_message(error.into_panic())
                } else {
                    error.to_string()
                };
                (
                    step,
                    started,
                    AttemptResult::Failed {
                        kind: FailureKind::Panic,
                        message,
                    },
                )
            }
        };
        if !self.tasks.get(step as usize).waits {
            self.working = self.working.saturating_sub(1);
        }
        if self.stopping {
            return Ok(None);
        }
        let finish = match result {
            AttemptResult::Value(bytes, refs, mut batch) => {
                ObjectSpace::own(&mut batch, &self.id, &refs);
                self.on_success(step, started, StepResult::Value(bytes.into()), batch)
            }
            AttemptResult::Delivered(bytes, fingerprint, consumed) => {
                // An event leaves its queue in the commit that checkpoints it: exactly once.
                let mut batch = Batch::new();
                if let Some(consumed) = consumed {
                    batch.delete(EVENTS, consumed);
                }
                self.event_types.insert(step, fingerprint);
                self.on_success(step, started, StepResult::Value(bytes.into()), batch)
            }
            AttemptResult::Continue(node, batch) => self.on_continue(step, started, &node, batch),
            AttemptResult::Failed { kind, message } => self.on_failure(step, kind, message),
        };
        // A failure or a retry may have left room that no checkpoint took.
        if matches!(finish, Ok(None)) {
            self.begin_backlog()?;
        }
        finish
    }

    /// `step` finished with `result`; `batch` holds the records of objects it made.
    pub(super) fn on_success(
        &mut self,
        step: u32,
        started: u64,
        result: StepResult,
        batch: Batch,
    ) -> Result<Option<Finish>> {
        self.settle_success(step, started, result, batch, false)
    }

    /// `step` finished with `result` on another worker, which checkpointed it.
    pub(super) fn on_success_stored(
        &mut self,
        step: u32,
        result: StepResult,
    ) -> Result<Option<Finish>> {
        self.settle_success(step, 0, result, Batch::new(), true)
    }

    fn settle_success(
        &mut self,
        step: u32,
        started: u64,
        result: StepResult,
        mut batch: Batch,
        stored: bool,
    ) -> Result<Option<Finish>> {
        self.args[step as usize] = None;
        if let Some(key) = self.timers.remove(&step) {
            batch.delete(crate::records::TIMERS, key);
        }
        let mut ready = Vec::new();
        let root_done = self.settle(step, started, result, stored, &mut batch, &mut ready)?;
        if root_done {
            self.finish_successful(batch)?;
        } else if !(ready.is_empty() && batch.is_empty()) {
            self.begin(ready, batch)?;
        }
        Ok(None)
    }

    /// Settles `step` and every step whose output is defined as its output; returns whether
    /// the workflow's root settled. If `stored`, `step`'s checkpoint is durable already.
    fn settle(
        &mut self,
        step: u32,
        started: u64,
        result: StepResult,
        stored: bool,
        batch: &mut Batch,
        ready: &mut Vec<u32>,
    ) -> Result<bool> {
        let root = self.record.root;
        let mut root_done = false;
        // (step, result, whether the result came from a continuation it waited for)
        let first = step as usize;
        let mut work = vec![(step, result, false)];
        while let Some((step, result, forwarded)) = work.pop() {
            let s = step as usize;
            if self.done[s] {
                continue;
            }
            let stored_here = stored && !forwarded && s == first;
            if stored_here {
                tracing::debug!(task.id = self.task_id(s), "task checkpointed elsewhere");
            } else if step == root || self.meta[s].checkpoint || forwarded {
                let outcome = match &result {
                    StepResult::Value(bytes) => StepOutcome::Value {
                        fingerprint: match self.event_types.remove(&step) {
                            Some(fingerprint) if !forwarded => fingerprint,
                            _ => (self.tasks.get(s).output_fingerprint)(),
                        },
                        bytes: bytes.to_vec(),
                    },
                    StepResult::Caught(error) => StepOutcome::Caught(error.clone()),
                    StepResult::Continued(next) => StepOutcome::Continued { root: *next },
                };
                self.put_result(batch, step, started, outcome)?;
                tracing::debug!(task.id = self.task_id(s), "task checkpointed");
            } else {
                // Not checkpointed: after a restart it runs again, with a fresh set of attempts.
                batch.delete(ATTEMPTS, step_key(&self.id, step));
            }
            // A step that catches errors counted when it continued; its continuation's
            // failure settles it again.
            let counted = matches!(self.results[s], Some(StepResult::Continued(_)));
            self.results[s] = Some(result);
            self.done[s] = true;
            if !forwarded && !counted {
                // A step settled by its continuation counted when it continued.
                self.settled += 1;
                ::metrics::counter!(TASKS_SUCCEEDED).increment(1);
            }
            // A settled step's record is in the store; only its meta is read again.
            self.records[s] = None;
            for &d in &self.graph.dependents[s] {
                let unmet = &mut self.graph.unmet[d as usize];
                *unmet -= 1;
                if *unmet == 0 {
                    ready.push(d);
                }
            }
            root_done |= step == root;
            if let Some(waiters) = self.graph.waiters.remove(&step) {
                let mut view = Vec::new();
                append_output(s, self.meta[s].catch, &self.results, &mut view)?;
                let view: Arc<[u8]> = view.into();
                work.extend(
                    waiters
                        .into_iter()
                        .map(|w| (w, StepResult::Value(view.clone()), true)),
                );
            }
        }
        Ok(root_done)
    }

    /// `step` returned a continuation: its graph is appended to the step table and
    /// checkpointed in place of the step's output.
    pub(super) fn on_continue(
        &mut self,
        step: u32,
        started: u64,
        node: &Arc<Node>,
        mut batch: Batch,
    ) -> Result<Option<Finish>> {
        let s = step as usize;
        let offset = self.records.len() as u32;
        // A continuation that cannot be stored is the task's failure, not the engine's.
        let lowered = lower_nodes(node, offset, Some(step), &mut self.ids).and_then(|lowered| {
            for (k, record) in lowered.steps.iter().enumerate() {
                batch.put(
                    crate::records::STEPS,
                    step_key(&self.id, offset + k as u32),
                    encode(record)?,
                );
            }
            Ok(lowered)
        });
        let lowered = match lowered {
            Ok(lowered) => lowered,
            Err(error) => return self.on_failure(step, FailureKind::Codec, error.to_string()),
        };
        self.args[s] = None;
        let next = lowered.root;
        ObjectSpace::own(&mut batch, &self.id, &lowered.refs);
        let ready = self.graph.extend(&lowered.steps, offset);
        self.meta.extend(lowered.steps.iter().map(StepMeta::of));
        self.records.extend(
            lowered
                .steps
                .into_iter()
                .map(|record| Some(Box::new(record))),
        );
        self.tasks.extend(lowered.tasks);
        let count = self.records.len();
        self.results.resize(count, None);
        self.done.resize(count, false);
        self.attempts.resize(count, 0);
        self.first_start.resize(count, 0);
        self.args.resize(count, None);
        // Its output now comes from the continuation: its record is not read again.
        self.records[s] = None;

        // Who waits for the new level: a step that catches errors settles on its own first;
        // otherwise those waiting for `step` move to the new level, and `step` joins them only
        // if something else needs its output.
        let catches = self.meta[s].catch;
        let mut waiters = if catches {
            Vec::new()
        } else {
            self.graph.waiters.remove(&step).unwrap_or_default()
        };
        let needed_itself =
            catches || step == self.record.root || !self.graph.dependents[s].is_empty();
        for &w in &waiters {
            self.put_pointer(&mut batch, w, next, started)?;
        }
        if needed_itself {
            waiters.push(step);
        }
        self.put_pointer(&mut batch, step, next, started)?;
        self.results[s] = Some(StepResult::Continued(next));
        self.graph.waiters.insert(next, waiters);
        self.settled += 1;
        ::metrics::counter!(TASKS_SUCCEEDED).increment(1);
        tracing::debug!(
            task.id = self.task_id(s),
            tasks = self.records.len() - offset as usize,
            "task continued"
        );

        self.record.step_count = self.records.len() as u32;
        self.put_record(&mut batch)?;
        self.begin(ready, batch)?;
        Ok(None)
    }

    /// Points `step`'s stored result at continuation level `next`.
    fn put_pointer(&self, batch: &mut Batch, step: u32, next: u32, started: u64) -> Result<()> {
        self.put_result(batch, step, started, StepOutcome::Continued { root: next })
    }

    /// Adds `step`'s checkpoint to `batch`.
    fn put_result(
        &self,
        batch: &mut Batch,
        step: u32,
        started: u64,
        outcome: StepOutcome,
    ) -> Result<()> {
        let s = step as usize;
        let record = ResultRecord {
            attempts: self.attempts[s],
            start_us: if self.first_start[s] == 0 {
                started
            } else {
                self.first_start[s]
            },
            end_us: now_us(),
            outcome,
        };
        batch.put(RESULTS, step_key(&self.id, step), encode(&record)?);
        Ok(())
    }

    pub(super) fn on_failure(
        &mut self,
        step: u32,
        kind: FailureKind,
        message: String,
    ) -> Result<Option<Finish>> {
        let s = step as usize;
        let record = self.record(s)?;
        let options = &record.options;
        let attempts = self.attempts[s];
        // Panics and lost processes are retried; errors and timeouts only with `retry_errors`.
        let retryable = match kind {
            FailureKind::Panic | FailureKind::Lost => true,
            FailureKind::Error | FailureKind::Timeout => options.retry_errors,
            FailureKind::Codec => false,
        };
        if retryable && attempts <= options.max_retries {
            let delay = match options.retry_backoff_ms {
                None | Some(0) => Duration::ZERO,
                Some(ms) => Duration::from_millis(ms)
                    .saturating_mul(1 << (attempts - 1).min(16))
                    .min(MAX_BACKOFF),
            };
            tracing::info!(
                task.id = %record.task_id,
                attempt = attempts,
                kind = ?kind,
                error = %message,
                retry_in_ms = delay.as_millis() as u64,
                "task attempt failed, retrying"
            );
            ::metrics::counter!(TASKS_RETRIED).increment(1);
            match options.retry_backoff_ms {
                None | Some(0) => self.begin(vec![step], Batch::new())?,
                Some(_) => {
                    let sender = self.sender.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(delay).await;
                        let _ = sender.send(DriverEvent::RetryDue(step));
                    });
                }
            }
            return Ok(None);
        }
        self.on_exhausted(step, TaskError::new(kind, message, attempts))?;
        Ok(None)
    }

    /// A step failed for good. The nearest step that catches errors, the step itself or one
    /// whose continuation it belongs to, settles as `Err`; with none, the workflow fails.
    pub(super) fn on_exhausted(&mut self, step: u32, error: TaskError) -> Result<()> {
        ::metrics::counter!(TASKS_FAILED).increment(1);
        let mut timers = Batch::new();
        if let Some(key) = self.timers.remove(&step) {
            timers.delete(crate::records::TIMERS, key);
        }
        let mut at = Some(step);
        while let Some(candidate) = at {
            let c = candidate as usize;
            if self.meta[c].catch {
                tracing::info!(
                    task.id = self.task_id(step as usize),
                    caught_by = self.task_id(c),
                    %error,
                    "task failed; its error is caught"
                );
                self.args[c] = None;
                let mut batch = std::mem::take(&mut timers);
                let mut ready = Vec::new();
                if self.settle(
                    candidate,
                    now_us(),
                    StepResult::Caught(error),
                    false,
                    &mut batch,
                    &mut ready,
                )? {
                    self.finish_successful(batch)?;
                } else {
                    self.begin(ready, batch)?;
                }
                return Ok(());
            }
            at = self.meta[c].parent;
        }
        let task_id = match self.records[step as usize].as_deref() {
            Some(record) => record.task_id.clone(),
            None => format!("step {step}"),
        };
        tracing::warn!(task.id = %task_id, %error, "task failed; the workflow fails");
        self.record.failure = Some(Failure {
            task_id: task_id.clone(),
            error: error.clone(),
            end_us: now_us(),
        });
        self.stop_with(
            timers,
            WorkflowStatus::Failed,
            Finish::Failed { task_id, error },
        )
    }

    pub(super) fn finish_successful(&mut self, mut batch: Batch) -> Result<()> {
        // Nothing is left to do: steps that no longer needed to run (those of a continuation
        // abandoned for a caught error, unchecked ones a resume skips) count as done.
        self.settled = self.records.len() as u64;
        let root = self.record.root as usize;
        let mut output = Vec::new();
        append_output(root, self.meta[root].catch, &self.results, &mut output)?;
        self.stop_with_batch(&mut batch, WorkflowStatus::Successful)?;
        let output = Output {
            bytes: output,
            fingerprint: self.record.output_fingerprint,
            type_name: self.record.output_type.clone(),
        };
        self.submit(
            batch,
            AfterCommit::Stop(Finish::Successful(Arc::new(output))),
        );
        Ok(())
    }
}
