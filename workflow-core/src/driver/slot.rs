//! A workflow's running slot: held while it has work to do, given back while it only waits
//! (on sleeps, events or retry backoffs), so that waiting workflows do not hold
//! `max_running_workflows` from those with work.
//!
//! Without a slot a driver still checkpoints what its waits produce and starts new waits;
//! only the start of steps that work waits for a slot.

use tokio::task::{Id, JoinError};

use super::{Driver, Finish};
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

/// Whether the driver holds a slot, and which steps wait for one to start.
pub(crate) struct Slot {
    pub(crate) held: bool,
    /// Kept for good: the workflow takes no slot of the engine's (an actor call).
    fixed: bool,
    requested: bool,
    /// Steps whose attempt is recorded, to start once a slot is granted.
    pub(crate) parked: Vec<u32>,
}

impl Slot {
    /// A driver starts with the slot it was started in; one that is not `counted` keeps it.
    pub(crate) fn new(counted: bool) -> Slot {
        Slot {
            held: true,
            fixed: !counted,
            requested: false,
            parked: Vec::new(),
        }
    }

    /// A slot was granted: the steps to start now.
    fn granted(&mut self) -> Vec<u32> {
        self.held = true;
        self.requested = false;
        std::mem::take(&mut self.parked)
    }

    /// Gives the slot back.
    fn release(&mut self, pool: &dyn SlotPool, id: &str) {
        if self.held && !self.fixed {
            self.held = false;
            pool.release(id);
        }
    }
}

impl Driver {
    /// Starts `steps`, whose attempts are recorded: at once if the workflow holds a slot or
    /// they only wait, else once a slot is granted.
    pub(super) fn start_steps(&mut self, steps: Vec<u32>) -> Result<()> {
        if self.draining {
            // Recorded as started: a shutdown gives their attempts back.
            self.slot.parked.extend(steps);
            return Ok(());
        }
        for step in steps {
            if self.slot.held || self.tasks.get(step as usize).waits {
                self.spawn_attempt(step)?;
            } else {
                self.slot.parked.push(step);
            }
        }
        if !self.slot.parked.is_empty() && !self.slot.requested {
            self.slot.requested = true;
            self.slots.request(&self.id);
        }
        Ok(())
    }

    /// A slot again: starts the steps that waited for it.
    pub(super) fn on_granted(&mut self) -> Result<Option<Finish>> {
        let steps = self.slot.granted();
        if self.draining {
            self.slot.parked = steps;
            return Ok(None);
        }
        for step in steps {
            if self.stopping {
                break;
            }
            self.spawn_attempt(step)?;
        }
        Ok(None)
    }

    /// Gives the running slot back while every running step only waits and nothing is being
    /// written.
    pub(super) fn release_slot_if_waiting(&mut self) {
        // With the slot held and nothing being written, every step counted as working is
        // running (none waits for its start or for a slot).
        if self.slot.held && !self.stopping && self.commits_in_flight == 0 && self.working == 0 {
            self.slot.release(&*self.slots, &self.id);
        }
    }
}
