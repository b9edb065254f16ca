//! Running a workflow here: starting its driver (in a task of its own), and ending its run
//! when the driver stops, with the actor call and fleet bookkeeping that goes with it.

use std::sync::{atomic::AtomicBool, Arc};

use tokio::sync::mpsc;
use tracing::Instrument;

use super::state::EngineState;
use super::Shared;
use crate::{
    driver::{Driver, DriverEvent, Finish, OfferSettings, Services, SlotPool},
    launch::{read_record, Launch},
    metrics::WORKFLOWS_FINISHED,
    Error, WorkflowStatus,
};

impl Shared {
    pub(super) async fn load_and_start(self: Arc<Self>, id: Arc<str>) {
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
                if state.closed || !state.active.contains_key(&id) {
                    // Closed while it loaded: it stays pending in the store.
                    drop(state);
                    self.finished(&id, Finish::Interrupted);
                    return;
                }
                self.start_driver(&mut state, launch, true);
            }
            Err(error) => {
                tracing::warn!(workflow.id = %id, %error, "cannot start a pending workflow");
                self.finished(&id, Finish::Broken(error));
            }
        }
    }

    /// Starts the driver of an actor call, which takes no running slot.
    pub(crate) fn start_uncounted(self: &Arc<Self>, state: &mut EngineState, launch: Launch) {
        self.start_driver(state, launch, false);
    }

    /// Starts the driver of `launch`; if `counted`, its slot is already counted.
    pub(super) fn start_driver(
        self: &Arc<Self>,
        state: &mut EngineState,
        launch: Launch,
        counted: bool,
    ) {
        let id = launch.id.clone();
        let (sender, receiver) = mpsc::unbounded_channel();
        let canceled = Arc::new(AtomicBool::new(false));
        let mut stored = None;
        let mut progress = None;
        if let Some(active) = state.active.get_mut(&id) {
            active.status = Some(WorkflowStatus::Running);
            active.holds_slot = counted;
            if active.cancel_requested {
                let _ = sender.send(DriverEvent::Cancel);
            }
            if state.closed {
                let _ = sender.send(DriverEvent::Shutdown);
            }
            active.events = Some(sender.clone());
            stored = Some(active.stored_sender.clone());
            progress = Some(active.progress.clone());
        }
        let services = Services {
            committer: self.committer.clone(),
            objects: self.objects.clone(),
            events: self.events.clone(),
            slots: Arc::new(EngineSlots(Arc::downgrade(self))),
            counted,
            actors: self.actors.clone(),
            engine: Arc::downgrade(self),
            progress,
            // Actor calls run where their actor is served: never offered; nor are the steps
            // of an observer, which takes no offers, not even its own.
            offers: (counted && self.takes_fleet_work && self.fleet().is_some()).then(|| {
                OfferSettings {
                    store: self.store.clone(),
                    local_steps: self.fleet_task_slots,
                }
            }),
        };
        let span = tracing::info_span!("workflow", workflow.id = %id);
        // The driver runs in a task of its own, so that even a panic in it ends the
        // workflow here (as Resumable in the store) instead of stranding its waiters.
        let driver = tokio::spawn(
            async move {
                let finish = match Driver::new(launch, services, receiver, sender, canceled, stored)
                {
                    Ok(driver) => driver.run().await,
                    Err(error) => Finish::Broken(error),
                };
                tracing::info!(outcome = finish.name(), "workflow run ended");
                ::metrics::counter!(WORKFLOWS_FINISHED, "status" => finish.name()).increment(1);
                finish
            }
            .instrument(span),
        );
        let shared = self.clone();
        tokio::spawn(async move {
            let finish = match driver.await {
                Ok(finish) => finish,
                Err(error) => {
                    tracing::error!(workflow.id = %id, %error, "workflow driver stopped");
                    Finish::Broken(Error::Interrupted {
                        id: id.to_string(),
                        reason: format!("its driver stopped: {error}"),
                    })
                }
            };
            shared.finished(&id, finish);
        });
    }

    fn finished(self: &Arc<Self>, id: &str, finish: Finish) {
        {
            let mut state = self.lock();
            if state.active.get(id).is_some_and(|active| active.holds_slot) {
                state.running = state.running.saturating_sub(1);
            }
            state.waking.retain(|waking| &**waking != id);
            // Before the id is free for another run.
            self.events.forget_workflow(id);
            // A call queued from another worker, which waits to hear of its end.
            let ended = !matches!(finish, Finish::Interrupted | Finish::Broken(_));
            let tell = ended && self.actors.take_forwarded(id);
            if let Some(settle) = self.call_finished(id, &finish) {
                // The call's end is reported once the actor's new state is applied, and the
                // writers behind it go once it is no longer active.
                let shared = self.clone();
                let id = id.to_string();
                let settling = tokio::spawn(async move {
                    let written = shared.write_settle(&settle).await;
                    shared.lock().release(&id, finish);
                    if tell {
                        shared.tell_call_ended(&id);
                    }
                    shared.after_settle(&settle, written);
                    shared.pump();
                });
                state.settling.retain(|task| !task.is_finished());
                state.settling.push(settling);
                return;
            }
            state.release(id, finish);
            if tell {
                self.tell_call_ended(id);
            }
        }
        self.pump();
    }
}

/// The engine's running slots, for its drivers; weak, so that a driver never keeps a closed
/// engine alive.
struct EngineSlots(std::sync::Weak<Shared>);

impl SlotPool for EngineSlots {
    fn release(&self, id: &str) {
        let Some(shared) = self.0.upgrade() else {
            return;
        };
        {
            let mut state = shared.lock();
            let state = &mut *state;
            if let Some(active) = state.active.get_mut(id) {
                if active.holds_slot {
                    active.holds_slot = false;
                    state.running = state.running.saturating_sub(1);
                }
            }
        }
        shared.pump();
    }

    fn request(&self, id: &str) {
        let Some(shared) = self.0.upgrade() else {
            return;
        };
        {
            let mut state = shared.lock();
            if let Some((id, _)) = state.active.get_key_value(id) {
                let id = id.clone();
                state.waking.push_back(id);
            }
        }
        shared.pump();
    }
}
