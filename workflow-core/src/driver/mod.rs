//! The driver of one workflow: it starts ready steps, collects their outcomes, and sends
//! every checkpoint through the group committer before dependents start.

mod graph;
mod offer;
mod progress;
mod settle;
mod shutdown;
mod slot;
mod start;
mod tasks;

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use tokio::{sync::mpsc, task::JoinSet};
use workflow_storage::Batch;

use graph::Graph;
pub(crate) use graph::{append_output, input_steps, is_available};
pub(crate) use offer::{Ended, OfferSettings};
use slot::Slot;
pub(crate) use slot::SlotPool;

use crate::actor::ActorSpace;
use crate::attempt::Args;
use crate::object::ObjectSpace;
use crate::wait::EventHub;
use crate::{
    attempt::AttemptResult,
    committer::{CommitResult, Committer},
    launch::{Launch, StepResult},
    lower::TaskIds,
    records::{encode, now_us, StepRecord, WorkflowRecord, WORKFLOWS},
    Error, Progress, Result, TaskError, WorkflowStatus,
};

/// How a workflow's run in this process ended.
#[derive(Clone, Debug)]
pub(crate) enum Finish {
    /// The workflow's output.
    Successful(Arc<Output>),
    Failed {
        task_id: String,
        error: TaskError,
    },
    Canceled,
    /// The engine closed; the workflow is `Resumable`.
    Interrupted,
    /// The store failed; the workflow is `Resumable` in the store.
    Broken(Error),
}

impl Finish {
    /// The workflow status this run left, for logs and metrics.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Finish::Successful(_) => "Successful",
            Finish::Failed { .. } => "Failed",
            Finish::Canceled => "Canceled",
            Finish::Interrupted | Finish::Broken(_) => "Resumable",
        }
    }
}

/// A workflow's encoded output and the type it was written as.
#[derive(Debug)]
pub(crate) struct Output {
    pub(crate) bytes: Vec<u8>,
    pub(crate) fingerprint: u64,
    pub(crate) type_name: String,
}

/// A message to a driver.
pub(crate) enum DriverEvent {
    Cancel,
    Shutdown,
    Committed(CommitResult, AfterCommit),
    RetryDue(u32),
    /// The engine gave this workflow a running slot again.
    SlotGranted,
    /// Start no more steps; tell the sender once no step that works is running.
    Drain(tokio::sync::oneshot::Sender<()>),
    /// Offered steps ended on some worker of the fleet.
    Ended(Vec<Ended>),
    /// The fleet says an offered step of this workflow ended.
    NoticesWaiting,
    /// Offers could not be made or read.
    OffersFailed(Error),
}

/// What to do once a commit is durable.
pub(crate) enum AfterCommit {
    Start(Vec<u32>),
    Stop(Finish),
}

/// What a driver writes through and hands to its tasks.
pub(crate) struct Services {
    pub(crate) committer: Committer,
    pub(crate) objects: Arc<ObjectSpace>,
    pub(crate) events: Arc<EventHub>,
    pub(crate) slots: Arc<dyn SlotPool>,
    /// Whether the workflow counts against `max_running_workflows` (actor calls do not).
    pub(crate) counted: bool,
    pub(crate) actors: Arc<ActorSpace>,
    pub(crate) engine: std::sync::Weak<crate::engine::Shared>,
    /// Where the driver publishes how far the workflow is.
    pub(crate) progress: Option<Arc<tokio::sync::watch::Sender<Progress>>>,
    /// Set on a fleet: how steps are offered to other workers.
    pub(crate) offers: Option<OfferSettings>,
}

/// What the driver keeps of every step once its record is dropped.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StepMeta {
    pub(crate) parent: Option<u32>,
    pub(crate) catch: bool,
    pub(crate) checkpoint: bool,
}

impl StepMeta {
    fn of(record: &StepRecord) -> StepMeta {
        StepMeta {
            parent: record.parent,
            catch: record.options.catch_errors,
            checkpoint: record.options.checkpoint,
        }
    }
}

/// The longest wait between two retries.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

pub(crate) struct Driver {
    id: Arc<str>,
    record: WorkflowRecord,
    /// The records of steps still to settle; `None` once settled or continued.
    records: Vec<Option<Box<StepRecord>>>,
    /// What is still read of every step.
    meta: Vec<StepMeta>,
    tasks: tasks::StepTasks,
    /// Outputs (dropped once every dependent took them) and continuation pointers.
    results: Vec<Option<StepResult>>,
    /// Whether each step's output is settled, whether or not it is still held in `results`.
    done: Vec<bool>,
    ids: TaskIds,
    attempts: Vec<u32>,
    first_start: Vec<u64>,
    args: Vec<Option<Arc<Args>>>,
    objects: Arc<ObjectSpace>,
    event_hub: Arc<EventHub>,
    /// The type fingerprints of events taken by waiting steps, whose task does not know them.
    event_types: HashMap<u32, u64>,
    graph: Graph,
    running: JoinSet<(u32, u64, AttemptResult)>,
    running_steps: HashMap<tokio::task::Id, (u32, u64)>,
    committer: Committer,
    events: mpsc::UnboundedReceiver<DriverEvent>,
    sender: mpsc::UnboundedSender<DriverEvent>,
    canceled: Arc<AtomicBool>,
    stopping: bool,
    initial: Option<Batch>,
    /// Set once the first commit is durable: the workflow is stored.
    stored: Option<Arc<tokio::sync::watch::Sender<bool>>>,
    slots: Arc<dyn SlotPool>,
    slot: Slot,
    actors: Arc<ActorSpace>,
    engine: std::sync::Weak<crate::engine::Shared>,
    /// Commits submitted and not yet durable.
    commits_in_flight: usize,
    /// Told when the first commit is handed to the committer.
    submitted: Option<tokio::sync::oneshot::Sender<()>>,
    /// Ready steps that work, waiting for room among the [`start::MAX_WORKING`] begun ones.
    backlog: std::collections::VecDeque<u32>,
    /// Steps that work, begun and not yet joined.
    working: usize,
    /// The keys of the timers of running sleeps, removed with their checkpoints.
    timers: HashMap<u32, Vec<u8>>,
    progress: Option<Arc<tokio::sync::watch::Sender<Progress>>>,
    /// Steps that finished an attempt of their own: with an output, a caught error or a
    /// continuation.
    settled: u64,
    /// The progress last published.
    published: Progress,
    /// Set by a drain: no step starts any more.
    draining: bool,
    /// Told once a drain finds no step that works running.
    drained: Vec<tokio::sync::oneshot::Sender<()>>,
    /// Steps whose attempt is counted by a commit still in flight, not yet running.
    starting: std::collections::HashSet<u32>,
    /// On a fleet: the steps offered to other workers.
    offers: Option<offer::Offers>,
}

impl Driver {
    pub(crate) fn new(
        launch: Launch,
        services: Services,
        events: mpsc::UnboundedReceiver<DriverEvent>,
        sender: mpsc::UnboundedSender<DriverEvent>,
        canceled: Arc<AtomicBool>,
        stored: Option<Arc<tokio::sync::watch::Sender<bool>>>,
    ) -> Result<Driver> {
        let Services {
            committer,
            objects,
            events: event_hub,
            slots,
            counted,
            actors,
            engine,
            progress,
            offers,
        } = services;
        let root = launch.record.root;
        let graph = Graph::new(&launch.steps, root, &launch.results)?;
        let count = launch.steps.len();
        let reset = launch.record.status == WorkflowStatus::Failed;
        let mut attempts = vec![0; count];
        let mut first_start = vec![0; count];
        for (s, attempt) in launch.attempts.iter().enumerate() {
            if let Some(attempt) = attempt {
                // Resuming a failed workflow gives its unfinished steps fresh attempts.
                if !(reset && launch.results[s].is_none()) {
                    attempts[s] = attempt.attempts;
                }
                first_start[s] = attempt.first_start_us;
            }
        }
        let offers =
            offers.map(|settings| offer::Offers::new(settings, launch.offered, launch.failed));
        let done: Vec<bool> = launch.results.iter().map(is_available).collect();
        let settled = launch.results.iter().filter(|r| r.is_some()).count() as u64;
        let ids = TaskIds::of(launch.steps.iter().map(|step| step.task_id.as_str()));
        let meta = launch.steps.iter().map(StepMeta::of).collect();
        // A settled or continued step's record is not read again.
        let records = launch
            .steps
            .into_iter()
            .zip(&launch.results)
            .map(|(record, result)| result.is_none().then(|| Box::new(record)))
            .collect();
        Ok(Driver {
            id: launch.id,
            record: launch.record,
            records,
            meta,
            tasks: tasks::StepTasks::new(launch.tasks),
            results: launch.results,
            done,
            ids,
            attempts,
            first_start,
            args: vec![None; count],
            graph,
            running: JoinSet::new(),
            running_steps: HashMap::new(),
            committer,
            events,
            sender,
            canceled,
            stopping: false,
            initial: Some(launch.initial),
            submitted: launch.submitted,
            backlog: Default::default(),
            working: 0,
            stored,
            objects,
            event_hub,
            event_types: HashMap::new(),
            slots,
            slot: Slot::new(counted),
            actors,
            engine,
            commits_in_flight: 0,
            timers: HashMap::new(),
            progress,
            settled,
            published: Progress::default(),
            draining: false,
            drained: Vec::new(),
            starting: Default::default(),
            offers,
        })
    }

    /// Runs the workflow until it finishes, fails, is canceled or the engine closes.
    pub(crate) async fn run(mut self) -> Finish {
        let now = now_us();
        self.record.status = WorkflowStatus::Running;
        self.record.start_us.get_or_insert(now);
        self.record.end_us = None;
        self.record.failure = None;
        let mut batch = self.initial.take().unwrap_or_default();
        if self.done[self.record.root as usize] {
            // The root is checkpointed: only the final record was missing.
            return match self.finish_successful(batch) {
                Ok(()) => self.event_loop().await,
                Err(error) => Finish::Broken(error),
            };
        }
        if let Err(error) = self.put_record(&mut batch) {
            return Finish::Broken(error);
        }
        let mut ready = self.graph.ready();
        let failed = self.adopt_offers(&mut ready);
        if let Err(error) = self.begin(ready, batch) {
            return Finish::Broken(error);
        }
        for (step, kind, message) in failed {
            if let Err(error) = self.on_failure(step, kind, message) {
                return Finish::Broken(error);
            }
        }
        self.event_loop().await
    }

    async fn event_loop(mut self) -> Finish {
        loop {
            let outcome = tokio::select! {
                event = self.events.recv() => match event {
                    Some(event) => self.on_event(event),
                    None => Ok(Some(Finish::Interrupted)),
                },
                Some(joined) = self.running.join_next_with_id(), if !self.running.is_empty() => {
                    self.on_joined(joined)
                }
            };
            self.publish_progress();
            self.flush_offers();
            match outcome {
                Ok(None) => {
                    self.release_slot_if_waiting();
                    self.report_drained();
                }
                Ok(Some(finish)) => {
                    self.running.abort_all();
                    return finish;
                }
                Err(error) => {
                    self.running.abort_all();
                    return Finish::Broken(error);
                }
            }
        }
    }

    fn on_event(&mut self, event: DriverEvent) -> Result<Option<Finish>> {
        match event {
            DriverEvent::Committed(Err(error), _) => Err(Error::from_storage(error)),
            DriverEvent::Committed(Ok(()), after) => {
                self.commits_in_flight -= 1;
                if let Some(stored) = self.stored.take() {
                    stored.send_replace(true);
                }
                match after {
                    AfterCommit::Stop(finish) => {
                        if !matches!(finish, Finish::Interrupted | Finish::Broken(_)) {
                            // Its end is durable: the steps it offered are not to run.
                            self.abandon_offers();
                        }
                        Ok(Some(finish))
                    }
                    AfterCommit::Start(steps) => {
                        for step in &steps {
                            self.starting.remove(step);
                        }
                        if !self.stopping {
                            self.start_steps(steps)?;
                        }
                        Ok(None)
                    }
                }
            }
            DriverEvent::RetryDue(step) if !self.stopping => {
                self.begin(vec![step], Batch::new())?;
                Ok(None)
            }
            DriverEvent::RetryDue(_) => Ok(None),
            DriverEvent::SlotGranted => self.on_granted(),
            DriverEvent::Cancel => {
                tracing::info!("workflow canceled");
                self.canceled.store(true, Ordering::Relaxed);
                self.stop(WorkflowStatus::Canceled, None, Finish::Canceled)?;
                Ok(None)
            }
            DriverEvent::Drain(drained) => {
                self.drain(drained);
                Ok(None)
            }
            DriverEvent::Shutdown => {
                self.shut_down()?;
                Ok(None)
            }
            DriverEvent::Ended(ended) => self.on_ended(ended),
            DriverEvent::NoticesWaiting => {
                self.wake_offers();
                Ok(None)
            }
            DriverEvent::OffersFailed(error) => Err(error),
        }
    }

    /// The record of a step that has not settled yet.
    fn record(&self, s: usize) -> Result<&StepRecord> {
        self.records[s].as_deref().ok_or_else(|| Error::Corrupt {
            keyspace: "steps",
            key: format!("{} step {s}", self.id),
            reason: "the step settled already".to_string(),
        })
    }

    /// Step `s`'s task id, for logs (`step N` once its record is dropped).
    fn task_id(&self, s: usize) -> String {
        self.records
            .get(s)
            .and_then(|record| record.as_deref())
            .map_or_else(|| format!("step {s}"), |record| record.task_id.clone())
    }

    fn put_record(&self, batch: &mut Batch) -> Result<()> {
        batch.put(
            WORKFLOWS,
            self.id.as_bytes().to_vec(),
            encode(&self.record)?,
        );
        Ok(())
    }

    fn submit(&mut self, batch: Batch, after: AfterCommit) {
        self.commits_in_flight += 1;
        let submitted = self.submitted.take();
        let sender = self.sender.clone();
        self.committer.submit(
            batch,
            Box::new(move |result| {
                let _ = sender.send(DriverEvent::Committed(result, after));
            }),
        );
        if let Some(submitted) = submitted {
            let _ = submitted.send(());
        }
    }
}
