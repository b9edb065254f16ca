//! Stopping: a workflow's run ends with the commit of its final status; for the engine, a
//! drain lets the steps that work finish and starts no others, and a shutdown stops what
//! still runs and leaves the workflow `Resumable`.

use tokio::sync::oneshot;
use workflow_storage::Batch;

use super::{AfterCommit, Driver, Finish};
use crate::{
    records::{encode, now_us, step_key, AttemptRecord, ATTEMPTS, TIMERS},
    Result, WorkflowStatus,
};

impl Driver {
    pub(super) fn stop(
        &mut self,
        status: WorkflowStatus,
        batch: Option<Batch>,
        finish: Finish,
    ) -> Result<()> {
        if self.stopping {
            return Ok(());
        }
        self.stop_with(batch.unwrap_or_default(), status, finish)
    }

    pub(super) fn stop_with(
        &mut self,
        mut batch: Batch,
        status: WorkflowStatus,
        finish: Finish,
    ) -> Result<()> {
        self.running.abort_all();
        self.stop_with_batch(&mut batch, status)?;
        self.submit(batch, AfterCommit::Stop(finish));
        Ok(())
    }

    pub(super) fn stop_with_batch(
        &mut self,
        batch: &mut Batch,
        status: WorkflowStatus,
    ) -> Result<()> {
        self.stopping = true;
        if status != WorkflowStatus::Resumable {
            // Its sleeps will not go on, or start again with new deadlines.
            for (_, key) in self.timers.drain() {
                batch.delete(TIMERS, key);
            }
        }
        self.record.status = status;
        if status != WorkflowStatus::Resumable {
            self.record.end_us = Some(now_us());
        }
        self.put_record(batch)
    }

    /// Starts no more steps; `drained` is told once no step that works is running and every
    /// checkpoint is durable.
    pub(super) fn drain(&mut self, drained: oneshot::Sender<()>) {
        if !self.draining {
            tracing::debug!(backlog = self.backlog.len(), "draining workflow");
        }
        self.draining = true;
        self.drained.push(drained);
        self.report_drained();
    }

    /// Tells the drain's callers once nothing that works runs and nothing is being written.
    /// Steps that only wait (sleeps, events) may wait for long: they do not hold a drain.
    pub(super) fn report_drained(&mut self) {
        if self.drained.is_empty() || self.commits_in_flight > 0 {
            return;
        }
        let working = self
            .running_steps
            .values()
            .any(|&(step, _)| !self.tasks.get(step as usize).waits);
        if !working {
            for drained in self.drained.drain(..) {
                let _ = drained.send(());
            }
        }
    }

    /// Stops every step and leaves the workflow `Resumable`. An attempt stopped this way does
    /// not count against its retries, nor does one whose start was still being written (its
    /// record is overwritten by this later commit); its first start stays (a sleep's
    /// deadline is counted from it).
    pub(super) fn shut_down(&mut self) -> Result<()> {
        let mut batch = Batch::new();
        let parked = self.slot.parked.iter().copied();
        let starting = self.starting.drain();
        let started: Vec<u32> = self
            .running_steps
            .values()
            .map(|&(step, _)| step)
            .chain(parked)
            .chain(starting)
            .collect();
        for step in started {
            let s = step as usize;
            self.attempts[s] = self.attempts[s].saturating_sub(1);
            let record = AttemptRecord {
                attempts: self.attempts[s],
                first_start_us: self.first_start[s],
                last_start_us: self.first_start[s],
            };
            batch.put(ATTEMPTS, step_key(&self.id, step), encode(&record)?);
        }
        tracing::info!(stopped = self.running_steps.len(), "workflow interrupted");
        self.stop(WorkflowStatus::Resumable, Some(batch), Finish::Interrupted)
    }
}
