//! The engine's in-memory state: workflows active here, running slots, and the FIFO queue.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, MutexGuard},
};

use tokio::sync::{mpsc, oneshot, watch};
use workflow_storage::{Batch, StorageError};

use super::Shared;
use crate::{
    driver::{DriverEvent, Finish},
    launch::Launch,
    metrics::{QUEUE_DEPTH, RUNNING_WORKFLOWS},
    records::{encode, now_us, WORKFLOWS},
    Error, Progress, Result, WorkflowStatus,
};

/// A workflow that is reserved, pending or running in this process.
pub(crate) struct Active {
    /// The hash of its DAG; 0 while unknown.
    pub(crate) dag_hash: u64,
    /// `None` while the id is only reserved: the store still has the truth.
    pub(crate) status: Option<WorkflowStatus>,
    pub(crate) finish: watch::Receiver<Option<Finish>>,
    finish_sender: Option<watch::Sender<Option<Finish>>>,
    /// Whether its records are durable; a second `spawn` of the id waits for it.
    pub(crate) stored: watch::Receiver<bool>,
    pub(super) stored_sender: Arc<watch::Sender<bool>>,
    pub(crate) events: Option<mpsc::UnboundedSender<DriverEvent>>,
    pub(crate) cancel_requested: bool,
    /// Whether it holds one of the `max_running` slots: false while it only waits.
    pub(super) holds_slot: bool,
    /// How far it is, published by its driver.
    pub(crate) progress: Arc<watch::Sender<Progress>>,
    /// Whether this worker holds the fleet's claim on it (always false without a fleet).
    pub(crate) claimed: bool,
}

#[derive(Default)]
pub(crate) struct EngineState {
    pub(crate) active: HashMap<Arc<str>, Active>,
    pub(super) running: usize,
    /// Running workflows that waited without a slot and have work again: served first.
    pub(super) waking: VecDeque<Arc<str>>,
    queue: VecDeque<Arc<str>>,
    queued: HashMap<Arc<str>, Launch>,
    pub(crate) next_queue_seq: u64,
    pub(crate) closed: bool,
    /// Finished actor calls whose new state is being applied before their end is reported:
    /// `close` lets them finish.
    pub(crate) settling: Vec<tokio::task::JoinHandle<()>>,
    /// On a fleet: where ended workflows go to give their claims back before they end here.
    pub(crate) unclaim: Option<mpsc::UnboundedSender<(Arc<str>, Finish)>>,
    /// On a fleet: stops the taking of offered steps, and is told once their offers are
    /// given back.
    pub(crate) taker: Option<oneshot::Sender<oneshot::Sender<()>>>,
}

impl EngineState {
    /// Reserves `id` for this caller; false if it is active already.
    pub(crate) fn reserve(&mut self, id: &Arc<str>, dag_hash: u64, stored: bool) -> bool {
        if self.active.contains_key(id) {
            return false;
        }
        let (finish_sender, finish) = watch::channel(None);
        let (stored_sender, stored) = watch::channel(stored);
        self.active.insert(
            id.clone(),
            Active {
                dag_hash,
                status: None,
                finish,
                finish_sender: Some(finish_sender),
                stored,
                stored_sender: Arc::new(stored_sender),
                events: None,
                cancel_requested: false,
                holds_slot: false,
                progress: Arc::new(watch::Sender::new(Progress::default())),
                claimed: false,
            },
        );
        true
    }

    /// Queues a workflow stored as `Pending`, to be loaded from the store when its turn comes.
    pub(crate) fn enqueue_stored(&mut self, id: Arc<str>, dag_hash: u64) {
        if self.reserve(&id, dag_hash, true) {
            if let Some(active) = self.active.get_mut(&id) {
                active.status = Some(WorkflowStatus::Pending);
            }
            self.queue.push_back(id);
        }
    }

    /// Removes a queued workflow, leaving it active; true if it was queued.
    pub(crate) fn unqueue(&mut self, id: &str) -> bool {
        let before = self.queue.len();
        self.queue.retain(|queued| &**queued != id);
        self.queued.remove(id);
        before != self.queue.len()
    }

    /// Ends an active workflow and tells its waiters how. On a fleet, a workflow whose claim
    /// this worker holds stays reserved until the claim is given back (unless the engine
    /// is closing: it gives its claims back itself).
    pub(crate) fn release(&mut self, id: &str, finish: Finish) {
        if let (Some(unclaim), false) = (&self.unclaim, self.closed) {
            if let Some((id, active)) = self.active.get_key_value(id) {
                if active.claimed {
                    let id = id.clone();
                    if let Some(active) = self.active.get_mut(&id) {
                        active.claimed = false;
                        // The store has the truth from here.
                        active.status = None;
                    }
                    if unclaim.send((id.clone(), finish.clone())).is_ok() {
                        return;
                    }
                }
            }
        }
        self.end(id, finish);
    }

    /// Ends an active workflow here at once and tells its waiters how.
    pub(crate) fn end(&mut self, id: &str, finish: Finish) {
        if let Some(mut active) = self.active.remove(id) {
            if let Some(sender) = active.finish_sender.take() {
                let _ = sender.send(Some(finish));
            }
        }
    }

    /// The watches of the storing and the end of active workflow `id`: taken before it
    /// starts, they miss neither.
    pub(crate) fn watches(&self, id: &str) -> Option<Watches> {
        self.active
            .get(id)
            .map(|active| (active.stored.clone(), active.finish.clone()))
    }

    /// The workflows whose fleet claims this worker holds: those with a driver here, and the
    /// others (queued or only reserved).
    pub(crate) fn claimed_here(&self) -> (Vec<Arc<str>>, Vec<Arc<str>>) {
        let (running, waiting): (Vec<_>, Vec<_>) = self
            .active
            .iter()
            .filter(|(_, active)| active.claimed)
            .partition(|(_, active)| active.events.is_some());
        let ids =
            |list: Vec<(&Arc<str>, &Active)>| list.into_iter().map(|(id, _)| id.clone()).collect();
        (ids(running), ids(waiting))
    }

    /// How many running slots are taken.
    pub(crate) fn running_count(&self) -> usize {
        self.running
    }

    /// Sets the gauges of the queue and the running slots.
    fn report_gauges(&self) {
        ::metrics::gauge!(QUEUE_DEPTH).set(self.queue.len() as f64);
        ::metrics::gauge!(RUNNING_WORKFLOWS).set(self.running as f64);
    }

    pub(crate) fn mark_stored(&self, id: &str) {
        if let Some(active) = self.active.get(id) {
            active.stored_sender.send_replace(true);
        }
    }
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, EngineState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `launch` now if a slot is free and nothing is queued before it; otherwise queues
    /// it, writing a fresh workflow's records as `Pending` first. The caller reserved its id.
    pub(crate) fn start_or_queue(self: &Arc<Self>, mut launch: Launch) -> Result<()> {
        let mut state = self.lock();
        if state.closed {
            return Err(Error::Closed);
        }
        if crate::actor::records::parse_call_id(&launch.id).is_some() {
            // An actor call takes no running slot.
            self.start_driver(&mut state, launch, false);
            return Ok(());
        }
        if state.running < self.max_running && state.queue.is_empty() && state.waking.is_empty() {
            state.running += 1;
            state.report_gauges();
            self.start_driver(&mut state, launch, true);
            return Ok(());
        }
        if state.queue.len() >= self.max_pending {
            return Err(Error::QueueFull {
                limit: self.max_pending,
            });
        }
        let id = launch.id.clone();
        let cancel = state.active.get(&id).is_some_and(|a| a.cancel_requested);
        if !cancel && state.active.get(&id).is_some_and(|a| a.claimed) {
            // On a fleet a workflow without a slot here waits for any worker's.
            return self.hand_to_fleet(&mut state, launch);
        }
        if cancel {
            launch.record.status = WorkflowStatus::Canceled;
            launch.record.end_us = Some(now_us());
        }
        if !launch.initial.is_empty() || cancel {
            let written = self.write_records(&mut launch)?;
            let shared = self.clone();
            let queued_id = id.clone();
            let offered = cancel && !launch.offered.is_empty();
            tokio::spawn(async move {
                let result = written.await;
                if offered && result.is_ok() {
                    if let Err(error) = shared.abandon_offers(&queued_id).await {
                        tracing::warn!(workflow.id = %queued_id, %error, "cannot withdraw offers");
                    }
                }
                let mut state = shared.lock();
                match result {
                    Ok(()) if cancel => state.release(&queued_id, Finish::Canceled),
                    Ok(()) => state.mark_stored(&queued_id),
                    Err(error) => {
                        state.unqueue(&queued_id);
                        state.release(&queued_id, Finish::Broken(Error::from_storage(error)));
                    }
                }
            });
        }
        if cancel {
            return Ok(());
        }
        if let Some(active) = state.active.get_mut(&id) {
            active.status = Some(WorkflowStatus::Pending);
        }
        state.queue.push_back(id.clone());
        state.queued.insert(id, launch);
        state.report_gauges();
        Ok(())
    }

    /// Submits the records of `launch` (its initial ones and its head record) to the
    /// committer now: called under the state lock, so they are written before anything a
    /// driver started later for the workflow writes. Returns their outcome to wait for.
    fn write_records(
        &self,
        launch: &mut Launch,
    ) -> Result<impl std::future::Future<Output = std::result::Result<(), Arc<StorageError>>>> {
        let mut batch = std::mem::take(&mut launch.initial);
        batch.put(
            WORKFLOWS,
            launch.id.as_bytes().to_vec(),
            encode(&launch.record)?,
        );
        let (written, result) = oneshot::channel();
        self.committer.submit(
            batch,
            Box::new(move |result| {
                let _ = written.send(result);
            }),
        );
        Ok(async move {
            result
                .await
                .unwrap_or_else(|_| Err(Arc::new(StorageError::Closed)))
        })
    }

    /// Stores `launch` as `Pending` and hands its claim to the fleet, whose first worker
    /// with a free slot runs it; it ends here once handed over.
    fn hand_to_fleet(self: &Arc<Self>, state: &mut EngineState, mut launch: Launch) -> Result<()> {
        let id = launch.id.clone();
        launch.record.status = WorkflowStatus::Pending;
        let written = self.write_records(&mut launch)?;
        if let Some(active) = state.active.get_mut(&id) {
            active.status = Some(WorkflowStatus::Pending);
            // Handed over below, not given back.
            active.claimed = false;
        }
        let shared = self.clone();
        tokio::spawn(async move {
            let finish = match written.await {
                Ok(()) => {
                    shared.lock().mark_stored(&id);
                    let handed = match shared.fleet() {
                        Some(fleet) => fleet.hand_over(&[id.to_string()]).await,
                        None => Ok(()),
                    };
                    match handed {
                        Ok(()) => Finish::Interrupted,
                        Err(error) => Finish::Broken(error.into()),
                    }
                }
                Err(error) => Finish::Broken(Error::from_storage(error)),
            };
            shared.lock().end(&id, finish);
        });
        Ok(())
    }

    /// Gives free slots to waiting workflows that have work again, then starts queued ones.
    pub(crate) fn pump(self: &Arc<Self>) {
        let mut state = self.lock();
        while !state.closed && state.running < self.max_running {
            if let Some(id) = state.waking.pop_front() {
                if let Some(active) = state.active.get_mut(&id) {
                    let granted = !active.holds_slot
                        && active
                            .events
                            .as_ref()
                            .is_some_and(|events| events.send(DriverEvent::SlotGranted).is_ok());
                    if granted {
                        active.holds_slot = true;
                        state.running += 1;
                    }
                }
                continue;
            }
            let Some(id) = state.queue.pop_front() else {
                break;
            };
            state.running += 1;
            // Counted as held from here, so that a workflow that fails to load gives it back.
            if let Some(active) = state.active.get_mut(&id) {
                active.holds_slot = true;
            }
            match state.queued.remove(&id) {
                Some(launch) => self.start_driver(&mut state, launch, true),
                None => {
                    let shared = self.clone();
                    tokio::spawn(async move { shared.load_and_start(id).await });
                }
            }
        }
        state.report_gauges();
    }

    /// Waits until workflow `id` is durably stored, or its run here ended.
    pub(crate) async fn wait_stored(&self, id: &str) -> Result<()> {
        let watches = self.lock().watches(id);
        wait_watched(watches).await
    }

    /// Closes the engine to new runs and asks every driver to start no more steps; each
    /// receiver is told once its driver runs no step that works.
    pub(crate) fn drain_drivers(&self) -> Vec<oneshot::Receiver<()>> {
        let mut state = self.lock();
        state.closed = true;
        let mut drained = Vec::new();
        for active in state.active.values() {
            if let Some(events) = &active.events {
                let (sender, receiver) = oneshot::channel();
                if events.send(DriverEvent::Drain(sender)).is_ok() {
                    drained.push(receiver);
                }
            }
        }
        drained
    }

    /// Stops every driver; their workflows stay `Resumable` (running) or `Pending` (queued).
    pub(crate) fn shut_down(&self) -> Vec<watch::Receiver<Option<Finish>>> {
        let mut state = self.lock();
        state.closed = true;
        let mut waiting = Vec::new();
        for active in state.active.values() {
            if let Some(events) = &active.events {
                if events.send(DriverEvent::Shutdown).is_ok() {
                    waiting.push(active.finish.clone());
                }
            }
        }
        waiting
    }
}

/// Whether a workflow is durably stored, and how its run here ended.
pub(crate) type Watches = (watch::Receiver<bool>, watch::Receiver<Option<Finish>>);

/// Waits until the watched workflow is durably stored, or its run here ended: an error if it
/// ended unstored because the store failed or the engine closed.
pub(crate) async fn wait_watched(watches: Option<Watches>) -> Result<()> {
    let Some((mut stored, mut finish)) = watches else {
        return Ok(());
    };
    let finished = tokio::select! {
        biased;
        Ok(_) = stored.wait_for(|stored| *stored) => return Ok(()),
        finished = finish.wait_for(Option::is_some) => finished.ok().and_then(|f| f.clone()),
    };
    // Stored before its run ended, however it ended: it is there to resume.
    if *stored.borrow() {
        return Ok(());
    }
    match finished {
        Some(Finish::Broken(error)) => Err(error),
        Some(Finish::Interrupted) => Err(Error::Closed),
        _ => Ok(()),
    }
}

/// Writes `record` as workflow `id`'s head record, and waits until it is durable.
pub(crate) async fn put_record(
    shared: &Shared,
    id: &str,
    record: &crate::records::WorkflowRecord,
) -> Result<()> {
    let mut batch = Batch::new();
    batch.put(WORKFLOWS, id.as_bytes().to_vec(), encode(record)?);
    shared
        .committer
        .commit(batch)
        .await
        .map_err(Error::from_storage)
}
