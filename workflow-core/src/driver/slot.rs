//! A workflow's running slot: held while it has work to do, given back while it only waits
//! (on sleeps, events or retry backoffs), so that waiting workflows do not hold
//! `max_running_workflows` from those with work.

use tokio::task::{Id, JoinError};

use super::{Driver, DriverEvent, Finish};
use crate::{attempt::AttemptResult, Result};

/// The engine's running slots, as a driver sees them.
pub(crate) trait SlotPool: Send + Sync {
    /// Gives the slot of workflow `id` back.
    fn release(&self, id: &str);
    /// Asks for a slot for workflow `id`; the engine answers with
    /// [`DriverEvent::SlotGranted`](super::DriverEvent::SlotGranted).
    fn request(&self, id: &str);
}

/// What a step's attempt task gave back when it was joined.
pub(crate) type Joined = Result<(Id, (u32, u64, AttemptResult)), JoinError>;

/// Work that arrived while the workflow held no slot, done once it has one again.
pub(crate) enum Parked {
    Joined(Joined),
    Retry(u32),
}

/// Whether the driver holds a slot, and what waits for one.
pub(crate) struct Slot {
    pub(crate) held: bool,
    requested: bool,
    pub(crate) parked: Vec<Parked>,
}

impl Slot {
    /// A driver starts with the slot it was started in.
    pub(crate) fn held() -> Slot {
        Slot {
            held: true,
            requested: false,
            parked: Vec::new(),
        }
    }

    /// Keeps `work` until a slot is granted, asking for one once.
    pub(crate) fn park(&mut self, work: Parked, pool: &dyn SlotPool, id: &str) {
        self.parked.push(work);
        if !self.requested {
            self.requested = true;
            pool.request(id);
        }
    }

    /// A slot was granted: the parked work, to do now.
    pub(crate) fn granted(&mut self) -> Vec<Parked> {
        self.held = true;
        self.requested = false;
        std::mem::take(&mut self.parked)
    }

    /// Gives the slot back.
    pub(crate) fn release(&mut self, pool: &dyn SlotPool, id: &str) {
        if self.held {
            self.held = false;
            pool.release(id);
        }
    }
}

impl Driver {
    /// Keeps work that came while the workflow held no slot, until it has one.
    pub(super) fn park(&mut self, work: Parked) {
        self.slot.park(work, &*self.slots, &self.id);
    }

    /// A slot again: does the work that waited for it.
    pub(super) fn on_granted(&mut self) -> Result<Option<Finish>> {
        for work in self.slot.granted() {
            if self.stopping {
                break;
            }
            let finish = match work {
                Parked::Joined(joined) => self.on_joined(joined)?,
                Parked::Retry(step) => self.on_event(DriverEvent::RetryDue(step))?,
            };
            if finish.is_some() {
                return Ok(finish);
            }
        }
        Ok(None)
    }

    /// Gives the running slot back while every running step only waits and nothing is being
    /// written.
    pub(super) fn release_slot_if_waiting(&mut self) {
        if !self.slot.held || self.stopping || self.commits_in_flight > 0 {
            return;
        }
        let working = self
            .running_steps
            .values()
            .any(|&(step, _)| !self.tasks.get(step as usize).waits);
        if !working {
            self.slot.release(&*self.slots, &self.id);
        }
    }
}
