//! A workflow's running slot: held while it has work to do, given back while it only waits
//! (on sleeps, events or retry backoffs), so that waiting workflows do not hold
//! `max_running_workflows` from those with work.

use tokio::task::{Id, JoinError};

use crate::attempt::AttemptResult;

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
