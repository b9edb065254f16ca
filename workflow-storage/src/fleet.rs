//! What a store shared by many engines gives them: membership, claims and messages.

use async_trait::async_trait;
use tokio::sync::broadcast;

use crate::{Keyspace, Result};

/// The number of a worker (an engine) in a fleet: unique, never reused, and the fencing
/// token of everything the worker writes.
pub type WorkerId = i64;

/// Who holds a claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Holder {
    /// This worker.
    Me,
    /// Another live worker (or one whose death is not noticed yet).
    Other(WorkerId),
    /// Nobody: the claim waits for any worker to take it.
    Waiting,
}

/// The coordination a store offers when many engines share it (the PostgreSQL store).
///
/// Each engine is a *worker* with a lease its store renews by heartbeat; a worker whose
/// lease runs out, or whose connection ends, is removed from the fleet, and every commit of
/// a removed worker is refused with [`StorageError::Fenced`](crate::StorageError::Fenced).
/// A *claim* names a unit of work (a workflow, an actor) and the one worker that may run it;
/// the claims of a removed worker wait for another to take them. *Messages* reach every
/// worker of the fleet, the sender included.
///
/// # Examples
///
/// ```no_run
/// use workflow_storage::{Holder, PgStore, Storage};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> workflow_storage::Result<()> {
/// let store = PgStore::connect("postgres://127.0.0.1/test", "jobs").await?;
/// let fleet = store.fleet().expect("a PostgreSQL store coordinates a fleet");
/// if fleet.claim("nightly-report").await? == Holder::Me {
///     // ... only this worker runs it ...
///     fleet.release(&["nightly-report".to_string()]).await?;
/// }
/// # Ok(())
/// # }
/// ```
#[async_trait]
pub trait Fleet: Send + Sync {
    /// This worker's number.
    fn worker(&self) -> WorkerId;

    /// Takes claim `name` if nobody holds it or it waits; returns who holds it afterwards.
    async fn claim(&self, name: &str) -> Result<Holder>;

    /// Takes up to `limit` waiting claims, oldest first, skipping those another worker is
    /// taking at the same moment; returns their names.
    async fn claim_waiting(&self, limit: usize) -> Result<Vec<String>>;

    /// Makes claims of this worker wait for any worker (creating them if absent), and tells
    /// the fleet.
    async fn hand_over(&self, names: &[String]) -> Result<()>;

    /// Adds waiting claims for those of `names` that nobody claims, and tells the fleet.
    async fn ensure_claimed(&self, names: &[String]) -> Result<()>;

    /// Drops this worker's claims on `names`.
    async fn release(&self, names: &[String]) -> Result<()>;

    /// Who holds claim `name`; `None` if there is no such claim.
    async fn holder(&self, name: &str) -> Result<Option<Holder>>;

    /// Sends `message` to every worker of the fleet, this one included.
    async fn send(&self, message: &str) -> Result<()>;

    /// The messages of the fleet from now on, and a note [`READY_MESSAGE`] whenever claims of a
    /// removed worker start to wait. A receiver that lags loses the oldest ones: read
    /// [`Fleet::claim_waiting`] and the store again then.
    fn messages(&self) -> broadcast::Receiver<String>;

    /// Whether the fleet removed this worker: its commits are refused from now on, and the
    /// engine on it has to stop.
    fn is_fenced(&self) -> bool;

    /// How many other live workers the fleet had when this worker last looked (at each
    /// renewal of its lease): none for a store that one engine uses alone.
    fn peers(&self) -> usize;

    /// Puts tasks on offer for any worker to run, and tells the fleet with
    /// [`OFFERED_MESSAGE`]. An offer of a step already on offer replaces it while nobody has
    /// taken it, and is dropped otherwise. Like every change of offers, refused with
    /// [`StorageError::Fenced`](crate::StorageError::Fenced) once the fleet removed this
    /// worker.
    async fn offer(&self, offers: &[Offer]) -> Result<()>;

    /// Takes up to `limit` offers that no live worker has taken and whose done marker
    /// (record [`Offer::done_key`] in `done_keyspace`) is absent, oldest first, skipping
    /// those another worker is taking at the same moment.
    async fn take_offers(&self, limit: usize, done_keyspace: Keyspace) -> Result<Vec<Offer>>;

    /// The steps of `workflow` on offer, taken or not, in order; this worker becomes their
    /// owner (it took the workflow over).
    async fn offered_steps(&self, workflow: &str) -> Result<Vec<u32>>;

    /// Drops offers of `workflow`: those of `steps`, or every one if `steps` is `None`.
    async fn withdraw_offers(&self, workflow: &str, steps: Option<&[u32]>) -> Result<()>;

    /// Gives back offers this worker took and will not finish, for other workers to take.
    async fn return_offers(&self, taken: &[(String, u32)]) -> Result<()>;
}

/// A step of a workflow that its worker offers to the whole fleet: taken by one worker at a
/// time, again by another if that one is removed, and never once its done marker is stored.
///
/// # Examples
///
/// ```
/// use workflow_storage::Offer;
///
/// let offer = Offer::new("run-1", 7, b"encoded task".to_vec(), b"run-1/7".to_vec());
/// assert_eq!((offer.workflow.as_str(), offer.step), ("run-1", 7));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Offer {
    /// The workflow the step belongs to.
    pub workflow: String,
    /// The step's number in its workflow.
    pub step: u32,
    /// What the taker needs to run it, encoded by the engine.
    pub payload: Vec<u8>,
    /// The key whose record says the step is done.
    pub done_key: Vec<u8>,
}

impl Offer {
    /// An offer of step `step` of `workflow`.
    pub fn new(
        workflow: impl Into<String>,
        step: u32,
        payload: Vec<u8>,
        done_key: Vec<u8>,
    ) -> Self {
        Offer {
            workflow: workflow.into(),
            step,
            payload,
            done_key,
        }
    }
}

/// The note [`Fleet::messages`] carries when claims or taken offers start to wait.
pub const READY_MESSAGE: &str = "ready";

/// The note [`Fleet::messages`] carries when tasks are put on offer.
pub const OFFERED_MESSAGE: &str = "offered";
