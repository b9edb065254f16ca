//! Starting steps: an attempt's start is durable (with a sleep's timer) before it runs.

use std::{sync::Arc, time::Duration};

use tracing::Instrument;
use workflow_storage::Batch;

use super::{graph::assemble_args, input_steps, AfterCommit, Driver};
use crate::metrics::TASKS_STARTED;
use crate::{
    attempt::{run_attempt, Args, AttemptSpec},
    context::TaskContext,
    records::{encode, now_us, step_key, timer_key, AttemptRecord, ATTEMPTS, TIMERS},
    task_error::FailureKind,
    Result, TaskError,
};

/// The most steps that work (not only wait) begun at once in one workflow: enough to keep
/// every core busy, few enough that a wide DAG does not hold a future per step in memory.
pub(super) const MAX_WORKING: usize = 1024;

impl Driver {
    /// The steps of `steps` to begin now: every step that only waits, and steps that work,
    /// oldest first, while fewer than [`MAX_WORKING`] are begun; the others wait in the
    /// backlog, without an attempt recorded.
    fn admit(&mut self, steps: Vec<u32>) -> Vec<u32> {
        let mut admitted = Vec::with_capacity(steps.len().min(MAX_WORKING));
        for step in steps {
            if self.tasks.get(step as usize).waits {
                admitted.push(step);
            } else {
                self.backlog.push_back(step);
            }
        }
        while self.working < MAX_WORKING {
            let Some(step) = self.backlog.pop_front() else {
                break;
            };
            self.working += 1;
            admitted.push(step);
        }
        admitted
    }

    /// Begins steps of the backlog if there is room for them.
    pub(super) fn begin_backlog(&mut self) -> Result<()> {
        if !self.stopping
            && !self.draining
            && self.working < MAX_WORKING
            && !self.backlog.is_empty()
        {
            self.begin(Vec::new(), Batch::new())?;
        }
        Ok(())
    }

    /// Records the start of an attempt of each step in `batch`, then starts them once it is
    /// durable. Steps that work wait in the backlog while [`MAX_WORKING`] others are begun.
    pub(super) fn begin(&mut self, steps: Vec<u32>, mut batch: Batch) -> Result<()> {
        if self.draining {
            // Nothing starts during a drain: a resume finds these steps ready again.
            if !batch.is_empty() {
                self.submit(batch, AfterCommit::Start(Vec::new()));
            }
            return Ok(());
        }
        let steps = self.admit(steps);
        let now = now_us();
        let mut start = Vec::with_capacity(steps.len());
        let mut exhausted = Vec::new();
        for step in steps {
            let s = step as usize;
            // A step that only waits cannot kill its process: a crash during its wait does not
            // use up its attempts.
            let waits = self.tasks.get(s).waits;
            if !waits && self.attempts[s] > self.record(s)?.options.max_retries {
                // Every allowed attempt was started, and the last one died with its process.
                self.working -= 1;
                exhausted.push(step);
                continue;
            }
            self.attempts[s] += 1;
            if self.first_start[s] == 0 {
                self.first_start[s] = now;
            }
            let record = AttemptRecord {
                attempts: self.attempts[s],
                first_start_us: self.first_start[s],
                last_start_us: now,
            };
            batch.put(ATTEMPTS, step_key(&self.id, step), encode(&record)?);
            self.index_timer(step, &mut batch)?;
            start.push(step);
        }
        self.starting.extend(&start);
        self.submit(batch, AfterCommit::Start(start));
        for step in exhausted {
            if self.stopping {
                break;
            }
            let error = TaskError::new(
                FailureKind::Lost,
                "the process running the task stopped during its last attempt",
                self.attempts[step as usize],
            );
            self.on_exhausted(step, error)?;
        }
        Ok(())
    }

    /// Indexes the deadline of `step` if it is a sleep, in the batch that records its start
    /// (the deadline counts from its first start).
    fn index_timer(&mut self, step: u32, batch: &mut Batch) -> Result<()> {
        let s = step as usize;
        let Some(millis_of) = self.tasks.get(s).timer_millis else {
            return Ok(());
        };
        let Args::Ready(args) = &*self.args_of(s)? else {
            return Ok(());
        };
        if let Some(millis) = millis_of(args) {
            let deadline = self.first_start[s].saturating_add(millis.saturating_mul(1_000));
            let key = timer_key(deadline, &self.id, step);
            batch.put(TIMERS, key.clone(), Vec::new());
            self.timers.insert(step, key);
        }
        Ok(())
    }

    /// The arguments of step `s`, assembled once.
    pub(super) fn args_of(&mut self, s: usize) -> Result<Arc<Args>> {
        if let Some(args) = &self.args[s] {
            return Ok(args.clone());
        }
        let args = Arc::new(assemble_args(self.record(s)?, &self.meta, &self.results)?);
        self.args[s] = Some(args.clone());
        self.release_inputs(s);
        Ok(args)
    }

    /// Runs an attempt of `step`, whose start is recorded: here, or on any worker of the
    /// fleet if the workflow runs its share of steps here already.
    pub(super) fn spawn_attempt(&mut self, step: u32) -> Result<()> {
        if self.offers_step(step as usize) {
            return self.offer_step(step);
        }
        let s = step as usize;
        let args = self.args_of(s)?;
        let record = self.record(s)?;
        let options = &record.options;
        let spec = AttemptSpec {
            task: *self.tasks.get(s),
            args,
            context: TaskContext {
                workflow_id: self.id.clone(),
                task_id: record.task_id.as_str().into(),
                attempt: self.attempts[s],
                workflow_canceled: self.canceled.clone(),
                deadline: options
                    .timeout_ms
                    .map(|ms| std::time::Instant::now() + Duration::from_millis(ms)),
                objects: self.objects.clone(),
                events: self.event_hub.clone(),
                actors: self.actors.clone(),
                engine: self.engine.clone(),
                writes: Default::default(),
                staged: Default::default(),
                first_start_us: self.first_start[s],
            },
            timeout: options.timeout_ms.map(Duration::from_millis),
        };
        // A child of the workflow's span, which is current while the driver runs.
        let span = tracing::info_span!(
            "task",
            workflow.id = %self.id,
            task.id = %record.task_id,
            task.name = spec.task.name,
            attempt = self.attempts[s],
        );
        ::metrics::counter!(TASKS_STARTED).increment(1);
        let started = now_us();
        let handle = self
            .running
            .spawn(async move { (step, started, run_attempt(spec).await) }.instrument(span));
        self.running_steps.insert(handle.id(), (step, started));
        Ok(())
    }

    /// Drops outputs that every dependent has taken.
    fn release_inputs(&mut self, s: usize) {
        let Some(inputs) = self.records[s].as_deref().map(input_steps) else {
            return;
        };
        for input in inputs {
            let i = input as usize;
            self.graph.consumers_left[i] = self.graph.consumers_left[i].saturating_sub(1);
            if self.graph.consumers_left[i] == 0
                && i != self.record.root as usize
                && !self.graph.waiters.contains_key(&input)
            {
                self.results[i] = None;
            }
        }
    }
}
