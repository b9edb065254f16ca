//! The engine's in-memory state: workflows active here, running slots, and the FIFO queue.

use std::{
    collections::{HashMap, VecDeque},
    sync::{atomic::AtomicBool, Arc, MutexGuard},
};

use tokio::sync::{mpsc, watch};

use super::Shared;
use crate::{
    driver::{Driver, DriverEvent, Finish},
    launch::{read_record, Launch},
    Error, WorkflowStatus,
};

/// A workflow that is pending or running in this process.
pub(crate) struct Active {
    pub(crate) dag_hash: u64,
    /// `None` while the id is only reserved: the store still has the truth.
    pub(crate) status: Option<WorkflowStatus>,
    pub(crate) finish: watch::Receiver<Option<Finish>>,
    finish_sender: Option<watch::Sender<Option<Finish>>>,
    pub(crate) events: Option<mpsc::UnboundedSender<DriverEvent>>,
    cancel_requested: bool,
}

#[derive(Default)]
pub(crate) struct EngineState {
    pub(crate) active: HashMap<Arc<str>, Active>,
    running: usize,
    queue: VecDeque<Arc<str>>,
    queued: HashMap<Arc<str>, Launch>,
    pub(crate) next_queue_seq: u64,
    pub(crate) closed: bool,
}

impl EngineState {
    /// Reserves `id` for a workflow being submitted or resumed; `None` if it is active already.
    pub(crate) fn reserve(
        &mut self,
        id: &Arc<str>,
        dag_hash: u64,
    ) -> Option<watch::Receiver<Option<Finish>>> {
        if self.active.contains_key(id) {
            return None;
        }
        let (sender, receiver) = watch::channel(None);
        self.active.insert(
            id.clone(),
            Active {
                dag_hash,
                status: None,
                finish: receiver.clone(),
                finish_sender: Some(sender),
                events: None,
                cancel_requested: false,
            },
        );
        Some(receiver)
    }

    /// Queues a workflow stored as `Pending`, to be loaded from the store when its turn comes.
    pub(crate) fn enqueue_stored(&mut self, id: Arc<str>) {
        if self.reserve(&id, 0).is_some() {
            if let Some(active) = self.active.get_mut(&id) {
                active.status = Some(WorkflowStatus::Pending);
            }
            self.queue.push_back(id);
        }
    }

    /// Removes a queued workflow; true if it was queued.
    pub(crate) fn unqueue(&mut self, id: &str) -> bool {
        let before = self.queue.len();
        self.queue.retain(|queued| &**queued != id);
        self.queued.remove(id);
        before != self.queue.len()
    }

    /// Ends an active workflow and tells its waiters how.
    pub(crate) fn release(&mut self, id: &str, finish: Finish) {
        if let Some(mut active) = self.active.remove(id) {
            if let Some(sender) = active.finish_sender.take() {
                let _ = sender.send(Some(finish));
            }
        }
    }

    /// Asks the active workflow `id` to cancel; false if it has no driver yet.
    pub(crate) fn request_cancel(&mut self, id: &str) -> bool {
        match self.active.get_mut(id) {
            Some(active) => match &active.events {
                Some(events) => events.send(DriverEvent::Cancel).is_ok(),
                None => {
                    active.cancel_requested = true;
                    false
                }
            },
            None => false,
        }
    }
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, EngineState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `launch` now if a slot is free and nothing is queued before it; otherwise hands it
    /// back to be queued, or refuses it when the queue is full. The caller reserved its id.
    pub(crate) fn try_start(self: &Arc<Self>, launch: Launch) -> Result<Option<Launch>, Error> {
        let mut state = self.lock();
        if state.closed {
            return Err(Error::Closed);
        }
        if state.running < self.max_running && state.queue.is_empty() {
            state.running += 1;
            self.start_driver(&mut state, launch);
            return Ok(None);
        }
        if state.queue.len() >= self.max_pending {
            return Err(Error::QueueFull {
                limit: self.max_pending,
            });
        }
        Ok(Some(launch))
    }

    /// Queues a stored workflow behind the others.
    pub(crate) fn enqueue(self: &Arc<Self>, launch: Launch) {
        {
            let mut state = self.lock();
            let id = launch.id.clone();
            if let Some(active) = state.active.get_mut(&id) {
                active.status = Some(WorkflowStatus::Pending);
            }
            state.queue.push_back(id.clone());
            state.queued.insert(id, launch);
        }
        self.pump();
    }

    /// Starts queued workflows while slots are free.
    pub(crate) fn pump(self: &Arc<Self>) {
        let mut state = self.lock();
        while !state.closed && state.running < self.max_running {
            let Some(id) = state.queue.pop_front() else {
                break;
            };
            state.running += 1;
            match state.queued.remove(&id) {
                Some(launch) => self.start_driver(&mut state, launch),
                None => {
                    let shared = self.clone();
                    tokio::spawn(async move { shared.load_and_start(id).await });
                }
            }
        }
    }

    async fn load_and_start(self: Arc<Self>, id: Arc<str>) {
        let loaded = match read_record(&*self.store, &id).await {
            Ok(Some(record)) => Launch::load(&*self.store, self.registry, id.clone(), record).await,
            Ok(None) => Err(Error::NotFound {
                what: "workflow",
                id: id.to_string(),
            }),
            Err(error) => Err(error),
        };
        match loaded {
            Ok(launch) => {
                let mut state = self.lock();
                self.start_driver(&mut state, launch);
            }
            Err(error) => {
                tracing::warn!(workflow.id = %id, %error, "cannot start a pending workflow");
                self.finished(&id, Finish::Broken(error));
            }
        }
    }

    /// Starts the driver of `launch`; its slot is already counted.
    fn start_driver(self: &Arc<Self>, state: &mut EngineState, launch: Launch) {
        let id = launch.id.clone();
        let (sender, receiver) = mpsc::unbounded_channel();
        let canceled = Arc::new(AtomicBool::new(false));
        let driver = Driver::new(
            launch,
            self.committer.clone(),
            receiver,
            sender.clone(),
            canceled,
        );
        if let Some(active) = state.active.get_mut(&id) {
            active.status = Some(WorkflowStatus::Running);
            if active.cancel_requested {
                let _ = sender.send(DriverEvent::Cancel);
            }
            if state.closed {
                let _ = sender.send(DriverEvent::Shutdown);
            }
            active.events = Some(sender);
        }
        let shared = self.clone();
        tokio::spawn(async move {
            let finish = match driver {
                Ok(driver) => driver.run().await,
                Err(error) => Finish::Broken(error),
            };
            shared.finished(&id, finish);
        });
    }

    fn finished(self: &Arc<Self>, id: &str, finish: Finish) {
        {
            let mut state = self.lock();
            state.running = state.running.saturating_sub(1);
            state.release(id, finish);
        }
        self.pump();
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
