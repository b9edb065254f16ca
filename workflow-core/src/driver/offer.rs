//! Offering steps to the fleet. A workflow whose worker already runs as many of its steps
//! as it may offers its other ready steps to every worker of the fleet, itself included;
//! an agent task of the driver puts the offers in the store, in order, and reads the
//! notices of offered steps that ended, which the driver takes in as if they had run here.
//!
//! Without a fleet (the embedded store) nothing is offered and none of this runs.

use std::{
    collections::HashSet,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use tokio::sync::{mpsc, Notify};
use workflow_storage::{Batch, Offer, Storage};

use super::{input_steps, Driver, DriverEvent, Finish};
use crate::{
    launch::StepResult,
    offer::{Notice, OfferArgs, OfferPayload, NOTICES},
    records::{decode, encode, step_key, step_of_key, workflow_prefix, StepRecord},
    task_error::FailureKind,
    Error, Result,
};

/// How often the agent reads the notices while offers are out, in case a message is lost.
const NOTICE_POLL: Duration = Duration::from_secs(1);

/// What a driver on a fleet needs to offer steps.
#[derive(Clone)]
pub(crate) struct OfferSettings {
    pub(crate) store: Arc<dyn Storage>,
    /// The steps of one workflow this worker runs at once before it offers the others.
    pub(crate) local_steps: usize,
}

/// A step that ended on some worker, read from its notice.
pub(crate) struct Ended {
    step: u32,
    key: Vec<u8>,
    notice: Notice,
}

/// The driver's side of its offers.
pub(super) struct Offers {
    settings: OfferSettings,
    /// Offered steps whose notice is not taken in yet.
    out: HashSet<u32>,
    /// Offers made since they were last handed to the agent.
    pending: Vec<Offer>,
    /// How many offers are out, as the agent reads it.
    outstanding: Arc<AtomicUsize>,
    /// Steps an earlier run offered whose attempt failed elsewhere, to take in at the start.
    failed: Vec<(u32, FailureKind, String)>,
    wake: Arc<Notify>,
    agent: Option<mpsc::UnboundedSender<Command>>,
}

enum Command {
    Offer(Vec<Offer>),
    /// The workflow ended: withdraw its offers, tell their takers to stop, and stop.
    Abandon,
}

impl Offers {
    pub(super) fn new(
        settings: OfferSettings,
        adopted: Vec<u32>,
        failed: Vec<(u32, FailureKind, String)>,
    ) -> Offers {
        Offers {
            settings,
            failed,
            outstanding: Arc::new(AtomicUsize::new(adopted.len())),
            out: adopted.into_iter().collect(),
            pending: Vec::new(),
            wake: Arc::new(Notify::new()),
            agent: None,
        }
    }
}

impl Driver {
    /// Takes the steps an earlier run offered out of `ready`: those still out are not to
    /// begin again, and those whose attempt failed elsewhere are returned, to be taken in as
    /// failures.
    pub(super) fn adopt_offers(&mut self, ready: &mut Vec<u32>) -> Vec<(u32, FailureKind, String)> {
        let Some(offers) = &mut self.offers else {
            return Vec::new();
        };
        let failed = std::mem::take(&mut offers.failed);
        // Out only if ready: a step an earlier run offered is ready unless it settled.
        let ready_set: HashSet<u32> = ready.iter().copied().collect();
        offers.out.retain(|step| ready_set.contains(step));
        offers
            .outstanding
            .store(offers.out.len(), Ordering::Relaxed);
        ready.retain(|step| {
            !offers.out.contains(step) && !failed.iter().any(|(failed, ..)| failed == step)
        });
        self.working += offers.out.len();
        if !offers.out.is_empty() {
            self.start_agent();
        }
        failed
    }

    /// Whether step `s` is to be offered instead of run here: the fleet has other workers,
    /// the workflow runs its share of steps here already, and the step may run anywhere (it works, is checkpointed, does not
    /// continue, and takes no output that lives only in this worker's memory).
    pub(super) fn offers_step(&self, s: usize) -> bool {
        let Some(offers) = &self.offers else {
            return false;
        };
        let task = self.tasks.get(s);
        // Alone in the fleet, an offer would only come back here, slower.
        let peers = offers
            .settings
            .store
            .fleet()
            .is_some_and(|fleet| fleet.peers() > 0);
        peers
            && self.running.len() >= offers.settings.local_steps
            && !task.waits
            && !task.stays_local
            && self.meta[s].checkpoint
            && self.records[s].as_deref().is_some_and(|record| {
                input_steps(record)
                    .into_iter()
                    .all(|input| self.meta[input as usize].checkpoint)
            })
    }

    /// Offers step `step`, whose attempt is recorded, to the fleet.
    pub(super) fn offer_step(&mut self, step: u32) -> Result<()> {
        let s = step as usize;
        let args = self.args_of(s)?;
        let record = self.record(s)?;
        tracing::debug!(task.id = record.task_id, "task offered to the fleet");
        let payload = OfferPayload {
            step: StepRecord {
                inputs: Vec::new(),
                ..record.clone()
            },
            args: OfferArgs::of(&args),
            attempt: self.attempts[s],
            first_start_us: self.first_start[s],
        };
        let offer = Offer::new(
            self.id.to_string(),
            step,
            encode(&payload)?,
            step_key(&self.id, step),
        );
        let offers = self.offers.as_mut().expect("offers_step said yes");
        offers.out.insert(step);
        offers.outstanding.fetch_add(1, Ordering::Relaxed);
        offers.pending.push(offer);
        Ok(())
    }

    /// Hands the offers made since the last call to the agent.
    pub(super) fn flush_offers(&mut self) {
        if self
            .offers
            .as_ref()
            .is_some_and(|offers| !offers.pending.is_empty())
        {
            self.start_agent();
            let offers = self.offers.as_mut().expect("checked");
            let pending = std::mem::take(&mut offers.pending);
            if let Some(agent) = &offers.agent {
                let _ = agent.send(Command::Offer(pending));
            }
        }
    }

    /// The fleet said a step of this workflow ended elsewhere.
    pub(super) fn wake_offers(&self) {
        if let Some(offers) = &self.offers {
            offers.wake.notify_one();
        }
    }

    /// The workflow ended for good: its offers are withdrawn and their takers told to stop.
    pub(super) fn abandon_offers(&mut self) {
        let Some(offers) = &mut self.offers else {
            return;
        };
        offers.pending.clear();
        if offers.out.is_empty() {
            return;
        }
        offers.out.clear();
        if let Some(agent) = &offers.agent {
            let _ = agent.send(Command::Abandon);
        }
    }

    /// Takes in steps that ended elsewhere, as if their attempts had ended here.
    pub(super) fn on_ended(&mut self, ended: Vec<Ended>) -> Result<Option<Finish>> {
        if self.stopping {
            // Left for the next run, which takes them in.
            return Ok(None);
        }
        // A notice of an attempt before its step's latest was read again before its first
        // reading was deleted: it was taken in then, and the key may already hold the
        // notice of the latest attempt, which stays.
        let ended: Vec<Ended> = ended
            .into_iter()
            .filter(|ended| {
                ended
                    .notice
                    .attempt()
                    .is_none_or(|attempt| self.attempts.get(ended.step as usize) == Some(&attempt))
            })
            .collect();
        // Deleted before anything they lead to is written: a retry's new offer is made
        // only once its step's old notice is gone.
        let mut cleanup = Batch::new();
        for ended in &ended {
            cleanup.delete(NOTICES, ended.key.clone());
        }
        self.submit(cleanup, super::AfterCommit::Start(Vec::new()));
        for Ended { step, notice, .. } in ended {
            let Some(offers) = self.offers.as_mut() else {
                continue;
            };
            if !offers.out.remove(&step) {
                continue;
            }
            offers.outstanding.fetch_sub(1, Ordering::Relaxed);
            self.working = self.working.saturating_sub(1);
            let finish = match notice {
                Notice::Value(bytes) => {
                    self.on_success_stored(step, StepResult::Value(bytes.into()))
                }
                Notice::Failed { kind, message } | Notice::FailedAttempt { kind, message, .. } => {
                    self.on_failure(step, kind, message)
                }
            }?;
            if finish.is_some() {
                return Ok(finish);
            }
        }
        self.begin_backlog()?;
        Ok(None)
    }

    fn start_agent(&mut self) {
        let Some(offers) = &mut self.offers else {
            return;
        };
        if offers.agent.is_some() {
            return;
        }
        let (commands, receiver) = mpsc::unbounded_channel();
        offers.agent = Some(commands);
        let agent = Agent {
            store: offers.settings.store.clone(),
            id: self.id.to_string(),
            outstanding: offers.outstanding.clone(),
            wake: offers.wake.clone(),
            driver: self.sender.clone(),
        };
        tokio::spawn(agent.run(receiver));
    }
}

/// Puts a driver's offers in the store and reads the notices of those that ended.
struct Agent {
    store: Arc<dyn Storage>,
    id: String,
    outstanding: Arc<AtomicUsize>,
    wake: Arc<Notify>,
    driver: mpsc::UnboundedSender<DriverEvent>,
}

impl Agent {
    async fn run(self, mut commands: mpsc::UnboundedReceiver<Command>) {
        loop {
            let poll = self.outstanding.load(Ordering::Relaxed) > 0;
            let command = tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => Some(command),
                    // The driver is gone: its workflow's offers stay for its next run.
                    None => return,
                },
                _ = self.wake.notified() => None,
                _ = tokio::time::sleep(NOTICE_POLL), if poll => None,
            };
            let done = match command {
                Some(Command::Offer(offers)) => self.offer(offers).await,
                Some(Command::Abandon) => {
                    self.abandon().await;
                    return;
                }
                None => self.read_notices().await,
            };
            if let Err(error) = done {
                let _ = self.driver.send(DriverEvent::OffersFailed(error));
                return;
            }
        }
    }

    async fn offer(&self, offers: Vec<Offer>) -> Result<()> {
        let fleet = self.store.fleet().ok_or(Error::Closed)?;
        fleet.offer(&offers).await?;
        Ok(())
    }

    async fn read_notices(&self) -> Result<()> {
        let prefix = workflow_prefix(&self.id);
        let rows = self.store.scan_prefix(NOTICES, &prefix).await?;
        if rows.is_empty() {
            return Ok(());
        }
        let mut ended = Vec::with_capacity(rows.len());
        for (key, bytes) in rows {
            let Some(step) = step_of_key(prefix.len(), &key) else {
                return Err(Error::Corrupt {
                    keyspace: NOTICES.name(),
                    key: String::from_utf8_lossy(&key).into_owned(),
                    reason: "the key names no step".to_string(),
                });
            };
            let notice = decode(NOTICES, &key, &bytes)?;
            ended.push(Ended { step, key, notice });
        }
        // Withdrawn before their notices go: an offer whose notice is gone is never out.
        let steps: Vec<u32> = ended.iter().map(|ended| ended.step).collect();
        let fleet = self.store.fleet().ok_or(Error::Closed)?;
        fleet.withdraw_offers(&self.id, Some(&steps)).await?;
        let _ = self.driver.send(DriverEvent::Ended(ended));
        Ok(())
    }

    async fn abandon(&self) {
        let Some(fleet) = self.store.fleet() else {
            return;
        };
        let abandoned = async {
            fleet.withdraw_offers(&self.id, None).await?;
            fleet.send(&format!("abandoned {}", self.id)).await
        };
        if let Err(error) = abandoned.await {
            tracing::warn!(workflow.id = %self.id, %error, "cannot withdraw the workflow's offers");
        }
    }
}
