//! Running steps that workflows' workers offer to the fleet. A worker with free task slots
//! takes offers in batches, runs each as an attempt of its step, and commits what it
//! produced under its own fence: a value as the step's checkpoint with its notice, a failure
//! as a notice only. Then it tells the workflows' workers, which take the notices in.
//!
//! A taker that dies before its commit leaves the offer to be taken again once the fleet
//! removes it; one that committed leaves a notice, which keeps anyone from taking the offer.

use std::{
    collections::HashMap,
    sync::{atomic::AtomicBool, Arc, Weak},
    time::{Duration, Instant},
};

use tokio::{
    sync::{broadcast, mpsc, oneshot},
    task::{AbortHandle, JoinSet},
};
use tracing::Instrument;
use workflow_storage::{Batch, Offer};

use super::messages::{list_messages, Message};
use super::Shared;
use crate::metrics::TASKS_STARTED;
use crate::{
    attempt::{panic_message, run_attempt, AttemptResult, AttemptSpec},
    context::TaskContext,
    launch::check_task,
    object::ObjectSpace,
    offer::{Notice, OfferPayload, NOTICES},
    records::{decode, encode, now_us, step_key, ResultRecord, StepOutcome, RESULTS},
    task_error::FailureKind,
};

/// How often an idle taker looks for offers, in case a message was missed.
const POLL_EVERY: Duration = Duration::from_secs(2);

/// The most offers taken in one statement.
const TAKE_BATCH: usize = 256;

/// How long a taker leaves offers alone after one it cannot run (its task is missing or of
/// another version here): other workers take them meanwhile.
const BACK_OFF: Duration = Duration::from_secs(2);

/// An attempt run here for another worker's workflow.
struct Taken {
    workflow: Arc<str>,
    step: u32,
    attempt: u32,
    first_start_us: u64,
    output_fingerprint: u64,
}

/// Where a commit of a taken step's outcome went.
type Committed = std::result::Result<Arc<str>, (Arc<str>, u32)>;

struct Taker {
    shared: Weak<Shared>,
    slots: usize,
    running: JoinSet<(u32, AttemptResult)>,
    /// Every running attempt's offer, by its task.
    taken: HashMap<tokio::task::Id, Taken>,
    /// The running attempts of each workflow, and its cancellation flag.
    by_workflow: HashMap<Arc<str>, (Arc<AtomicBool>, Vec<AbortHandle>)>,
    committed: mpsc::UnboundedSender<Committed>,
    /// Whether more offers may be waiting.
    look: bool,
    /// Offers are left alone until then.
    resting_until: Option<Instant>,
}

/// Starts taking offered steps, if the engine takes the fleet's work.
pub(crate) fn start(shared: &Arc<Shared>) {
    let Some(fleet) = shared.fleet().filter(|_| shared.takes_fleet_work) else {
        return;
    };
    let (stop, stopped) = oneshot::channel();
    shared.lock().taker = Some(stop);
    let (committed, commits) = mpsc::unbounded_channel();
    let taker = Taker {
        shared: Arc::downgrade(shared),
        slots: shared.fleet_task_slots,
        running: JoinSet::new(),
        taken: HashMap::new(),
        by_workflow: HashMap::new(),
        committed,
        look: true,
        resting_until: None,
    };
    tokio::spawn(taker.run(fleet.messages(), commits, stopped));
}

impl Taker {
    async fn run(
        mut self,
        mut messages: broadcast::Receiver<String>,
        mut commits: mpsc::UnboundedReceiver<Committed>,
        mut stop: oneshot::Receiver<oneshot::Sender<()>>,
    ) {
        let mut poll = tokio::time::interval(POLL_EVERY);
        loop {
            if self
                .resting_until
                .is_some_and(|until| Instant::now() >= until)
            {
                self.resting_until = None;
            }
            let room = self.running.len() < self.slots;
            if self.look && self.resting_until.is_none() && room && !self.take().await {
                return;
            }
            tokio::select! {
                stopped = &mut stop => {
                    self.give_back().await;
                    if let Ok(reply) = stopped {
                        let _ = reply.send(());
                    }
                    return;
                }
                heard = messages.recv() => match heard {
                    Ok(text) => match Message::parse(&text) {
                        Some(Message::Offered | Message::Ready) => self.look = true,
                        Some(Message::Cancel(id) | Message::Abandoned(id)) => self.drop_workflow(id),
                        _ => {}
                    },
                    Err(broadcast::error::RecvError::Lagged(_)) => self.look = true,
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = poll.tick() => self.look = true,
                Some(joined) = self.running.join_next_with_id(), if !self.running.is_empty() => {
                    self.finish(joined);
                }
                Some(first) = commits.recv() => self.report(first, &mut commits).await,
            }
        }
    }

    /// Takes offers into the free slots; false once the engine is gone.
    async fn take(&mut self) -> bool {
        let Some(shared) = self.shared.upgrade() else {
            return false;
        };
        if shared.lock().closed {
            return false;
        }
        let Some(fleet) = shared.fleet() else {
            return false;
        };
        let room = (self.slots - self.running.len()).min(TAKE_BATCH);
        match fleet.take_offers(room, NOTICES).await {
            Ok(offers) => {
                // A full batch: more may wait.
                self.look = offers.len() == room;
                let mut refused = Vec::new();
                for offer in offers {
                    if let Some(offer) = self.start(&shared, offer) {
                        refused.push((offer.workflow, offer.step));
                    }
                }
                if !refused.is_empty() {
                    self.resting_until = Some(Instant::now() + BACK_OFF);
                    if let Err(error) = fleet.return_offers(&refused).await {
                        tracing::debug!(%error, "cannot give back offers");
                    }
                }
            }
            Err(error) => {
                tracing::debug!(%error, "cannot take offers");
                self.look = false;
            }
        }
        true
    }

    /// Starts an attempt of `offer`; gives it back if this program cannot run its task.
    fn start(&mut self, shared: &Arc<Shared>, offer: Offer) -> Option<Offer> {
        let payload: OfferPayload = match decode(NOTICES, &offer.done_key, &offer.payload) {
            Ok(payload) => payload,
            Err(error) => {
                tracing::warn!(workflow.id = %offer.workflow, %error, "an offer cannot be read");
                return Some(offer);
            }
        };
        let task = match check_task(shared.registry, &payload.step) {
            Ok(task) => task,
            Err(error) => {
                tracing::warn!(workflow.id = %offer.workflow, %error, "an offered task cannot run here");
                return Some(offer);
            }
        };
        let workflow: Arc<str> = offer.workflow.into();
        let (canceled, handles) = self
            .by_workflow
            .entry(workflow.clone())
            .or_insert_with(|| (Arc::new(AtomicBool::new(false)), Vec::new()));
        let options = &payload.step.options;
        let spec = AttemptSpec {
            task,
            args: payload.args.into_args(),
            context: TaskContext {
                workflow_id: workflow.clone(),
                task_id: payload.step.task_id.as_str().into(),
                attempt: payload.attempt,
                workflow_canceled: canceled.clone(),
                deadline: options
                    .timeout_ms
                    .map(|ms| std::time::Instant::now() + Duration::from_millis(ms)),
                objects: shared.objects.clone(),
                events: shared.events.clone(),
                actors: shared.actors.clone(),
                engine: Arc::downgrade(shared),
                writes: Default::default(),
                staged: Default::default(),
                first_start_us: payload.first_start_us,
            },
            timeout: options.timeout_ms.map(Duration::from_millis),
        };
        let span = tracing::info_span!(
            "task",
            workflow.id = %workflow,
            task.id = %payload.step.task_id,
            task.name = task.name,
            attempt = payload.attempt,
            offered = true,
        );
        ::metrics::counter!(TASKS_STARTED).increment(1);
        let step = offer.step;
        let handle = self
            .running
            .spawn(async move { (step, run_attempt(spec).await) }.instrument(span));
        handles.push(handle.clone());
        self.taken.insert(
            handle.id(),
            Taken {
                workflow,
                step,
                attempt: payload.attempt,
                first_start_us: payload.first_start_us,
                output_fingerprint: (task.output_fingerprint)(),
            },
        );
        None
    }

    /// Commits what an attempt produced, with its notice.
    fn finish(
        &mut self,
        joined: Result<(tokio::task::Id, (u32, AttemptResult)), tokio::task::JoinError>,
    ) {
        let (id, result) = match joined {
            Ok((id, (_, result))) => (id, result),
            Err(error) if error.is_cancelled() => {
                if let Some(taken) = self.taken.remove(&error.id()) {
                    self.give_back_one(taken);
                }
                return;
            }
            Err(error) => {
                let id = error.id();
                let message = if error.is_panic() {
                    panic_message(error.into_panic())
                } else {
                    error.to_string()
                };
                let failed = AttemptResult::Failed {
                    kind: FailureKind::Panic,
                    message,
                };
                (id, failed)
            }
        };
        let Some(taken) = self.taken.remove(&id) else {
            return;
        };
        if let Some((_, handles)) = self.by_workflow.get_mut(&taken.workflow) {
            handles.retain(|handle| handle.id() != id);
            if handles.is_empty() {
                self.by_workflow.remove(&taken.workflow);
            }
        }
        self.look = true;
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        match outcome_batch(&taken, result) {
            Ok(batch) => {
                let committed = self.committed.clone();
                let (workflow, step) = (taken.workflow, taken.step);
                shared.committer.submit(
                    batch,
                    Box::new(move |result| {
                        let _ = committed.send(match result {
                            Ok(()) => Ok(workflow),
                            Err(_) => Err((workflow, step)),
                        });
                    }),
                );
            }
            Err(error) => {
                tracing::warn!(workflow.id = %taken.workflow, %error, "cannot store an offered step's outcome");
                let _ = self.committed.send(Err((taken.workflow, taken.step)));
            }
        }
    }

    /// Tells the workflows' workers of committed outcomes, and gives back the offers whose
    /// commit failed.
    async fn report(&mut self, first: Committed, commits: &mut mpsc::UnboundedReceiver<Committed>) {
        let mut done: Vec<Arc<str>> = Vec::new();
        let mut failed = Vec::new();
        let mut next = Some(first);
        while let Some(committed) = next {
            match committed {
                Ok(workflow) => {
                    if !done.contains(&workflow) {
                        done.push(workflow);
                    }
                }
                Err((workflow, step)) => failed.push((workflow.to_string(), step)),
            }
            next = commits.try_recv().ok();
        }
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        let Some(fleet) = shared.fleet() else {
            return;
        };
        for message in list_messages("done", &done) {
            if let Err(error) = fleet.send(&message).await {
                tracing::debug!(%error, "cannot tell the fleet of offered steps that ended");
            }
        }
        if !failed.is_empty() {
            if let Err(error) = fleet.return_offers(&failed).await {
                tracing::debug!(%error, "cannot give back offers");
            }
        }
    }

    /// Stops the attempts of workflow `id`, which ended or was canceled; each stopped one
    /// gives its offer back as it is joined.
    fn drop_workflow(&mut self, id: &str) {
        let Some((canceled, handles)) = self.by_workflow.remove(id) else {
            return;
        };
        canceled.store(true, std::sync::atomic::Ordering::Relaxed);
        for handle in handles {
            handle.abort();
        }
    }

    /// Gives back the offer of an attempt stopped before its end: if the workflow's worker
    /// did not withdraw it, another worker runs it.
    fn give_back_one(&self, taken: Taken) {
        let shared = self.shared.clone();
        tokio::spawn(async move {
            let Some(shared) = shared.upgrade() else {
                return;
            };
            if let Some(fleet) = shared.fleet() {
                let offer = [(taken.workflow.to_string(), taken.step)];
                if let Err(error) = fleet.return_offers(&offer).await {
                    tracing::debug!(%error, "cannot give back an offer");
                }
            }
        });
    }

    /// Stops every attempt and gives their offers back, for the engine's close.
    async fn give_back(&mut self) {
        self.running.abort_all();
        let taken: Vec<(String, u32)> = self
            .taken
            .drain()
            .map(|(_, taken)| (taken.workflow.to_string(), taken.step))
            .collect();
        while self.running.join_next().await.is_some() {}
        if let Some(fleet) = self.shared.upgrade().as_ref().and_then(|s| s.fleet()) {
            if let Err(error) = fleet.return_offers(&taken).await {
                tracing::debug!(%error, "cannot give back offers");
            }
        }
    }
}

/// The records an attempt of an offered step leaves: its checkpoint (with the objects it
/// made) and its notice, or only a notice if it failed.
fn outcome_batch(taken: &Taken, result: AttemptResult) -> crate::Result<Batch> {
    let key = step_key(&taken.workflow, taken.step);
    let (mut batch, notice) = match result {
        AttemptResult::Value(bytes, refs, mut batch) => {
            ObjectSpace::own(&mut batch, &taken.workflow, &refs);
            let record = ResultRecord {
                attempts: taken.attempt,
                start_us: taken.first_start_us,
                end_us: now_us(),
                outcome: StepOutcome::Value {
                    fingerprint: taken.output_fingerprint,
                    bytes: bytes.clone(),
                },
            };
            batch.put(RESULTS, key.clone(), encode(&record)?);
            (batch, Notice::Value(bytes))
        }
        AttemptResult::Failed { kind, message } => (
            Batch::new(),
            Notice::FailedAttempt {
                attempt: taken.attempt,
                kind,
                message,
            },
        ),
        // Tasks that continue or only wait are never offered.
        AttemptResult::Continue(..) | AttemptResult::Delivered(..) => (
            Batch::new(),
            Notice::FailedAttempt {
                attempt: taken.attempt,
                kind: FailureKind::Codec,
                message: "the step continued or waited on a worker other than its workflow's"
                    .to_string(),
            },
        ),
    };
    batch.put(NOTICES, key, encode(&notice)?);
    Ok(batch)
}
