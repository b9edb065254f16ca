//! The engine as one worker of a fleet that shares a store (PostgreSQL): it runs a workflow
//! only under the store's claim on its id, gives the claim back once the workflow's end is
//! durable, takes the workflows of workers that died, and hears the fleet's messages:
//! cancellations, events and ends of workflows run elsewhere.
//!
//! On a store one process holds there is no fleet, and none of this runs.

use std::{
    sync::{Arc, Weak},
    time::Duration,
};

use tokio::sync::{broadcast, mpsc, oneshot};
use workflow_storage::{Fleet, Holder, READY_MESSAGE};

use super::messages::{finished_messages, Message};
use super::Shared;
use crate::{
    actor::records::parse_call_id,
    driver::Finish,
    launch::read_record,
    records::{encode, WORKFLOWS},
    wait::hub::queue_prefix,
    Result, WorkflowStatus,
};

/// How often an idle worker looks for waiting claims, in case a message was missed.
const POLL_EVERY: Duration = Duration::from_secs(2);

/// How often a caller waiting for a workflow run elsewhere reads it again without news.
const WAIT_POLL: Duration = Duration::from_secs(1);

/// The start of the name of an actor's claim (no workflow id has a space).
const ACTOR_CLAIM: &str = "actor ";

/// How long closing waits for the steps taken from the fleet to stop and go back.
const LEAVE_WAIT: Duration = Duration::from_secs(5);

/// Claims given back in one statement at most.
const RELEASE_BATCH: usize = 512;

impl Shared {
    /// The fleet this engine is a worker of, if its store has one.
    pub(crate) fn fleet(&self) -> Option<&dyn Fleet> {
        self.store.fleet()
    }

    /// Claims workflow `id`, reserved here, for this worker: true if it may run here (always,
    /// without a fleet), false if another worker holds it.
    pub(crate) async fn claim_here(&self, id: &str) -> Result<bool> {
        let Some(fleet) = self.fleet() else {
            return Ok(true);
        };
        let mine = fleet.claim(id).await? == Holder::Me;
        if mine {
            if let Some(active) = self.lock().active.get_mut(id) {
                active.claimed = true;
            }
        }
        Ok(mine)
    }

    /// Claims actor `actor` for this worker, which then serves its calls until it closes;
    /// [`Error::ActorElsewhere`](crate::Error::ActorElsewhere) if another live worker does.
    pub(crate) async fn claim_actor(&self, actor: &str) -> Result<()> {
        let Some(fleet) = self.fleet() else {
            return Ok(());
        };
        match fleet.claim(&format!("{ACTOR_CLAIM}{actor}")).await? {
            Holder::Other(worker) => Err(crate::Error::ActorElsewhere {
                id: actor.to_string(),
                worker,
            }),
            _ => Ok(()),
        }
    }

    /// Gives back the claim on `actor`, which this worker could not serve after all.
    pub(crate) async fn release_actor(&self, actor: &str) {
        if let Some(fleet) = self.fleet() {
            if let Err(error) = fleet.release(&[format!("{ACTOR_CLAIM}{actor}")]).await {
                tracing::warn!(actor, %error, "cannot give back an actor's claim");
            }
        }
    }

    /// Whether a worker of the fleet (this one included, while it takes it up) runs, or is
    /// about to run, workflow `id`.
    pub(crate) async fn held_in_fleet(&self, id: &str) -> Result<bool> {
        Ok(match self.fleet() {
            Some(fleet) => fleet.holder(id).await?.is_some(),
            None => false,
        })
    }

    /// Waits until workflow `id`, claimed in the fleet, is no longer running or pending: told by the fleet's messages, and read again now and then in case one is lost.
    pub(crate) async fn wait_elsewhere(&self, id: &str) -> Result<()> {
        let Some(fleet) = self.fleet() else {
            return Ok(());
        };
        let mut messages = fleet.messages();
        loop {
            let record = read_record(&*self.store, id).await?;
            let running = record.is_some_and(|record| {
                matches!(
                    record.status,
                    WorkflowStatus::Running | WorkflowStatus::Pending
                )
            });
            if !running || !self.held_in_fleet(id).await? {
                return Ok(());
            }
            let heard = async {
                loop {
                    match messages.recv().await {
                        Ok(text) => {
                            if let Some(Message::Finished(ids)) = Message::parse(&text) {
                                if ids.contains(&id) {
                                    return;
                                }
                            }
                        }
                        Err(broadcast::error::RecvError::Lagged(_)) => return,
                        Err(broadcast::error::RecvError::Closed) => {
                            std::future::pending::<()>().await
                        }
                    }
                }
            };
            let _ = tokio::time::timeout(WAIT_POLL, heard).await;
        }
    }

    /// Tells the worker running workflow `id` to cancel it.
    pub(crate) async fn send_cancel(&self, id: &str) -> Result<()> {
        if let Some(fleet) = self.fleet() {
            fleet.send(&format!("cancel {id}")).await?;
        }
        Ok(())
    }

    /// Withdraws the offered steps of workflow `id`, which ended or is deleted with no driver
    /// here, and tells their takers to stop them.
    pub(crate) async fn abandon_offers(&self, id: &str) -> Result<()> {
        if let Some(fleet) = self.fleet() {
            fleet.withdraw_offers(id, None).await?;
            fleet.send(&format!("abandoned {id}")).await?;
        }
        Ok(())
    }

    /// Tells the fleet that an event for workflow `id` under `key` is stored.
    pub(crate) async fn send_event_note(&self, id: &str, key: &str) -> Result<()> {
        if let Some(fleet) = self.fleet() {
            fleet.send(&format!("event {id} {key}")).await?;
        }
        Ok(())
    }

    /// Adds waiting claims for stored workflows that should run but that no worker claims
    /// (left by a version of the store before the fleet, or by a worker that stopped
    /// between its writes).
    pub(crate) async fn claim_orphans(&self, ids: Vec<String>) -> Result<()> {
        if let Some(fleet) = self.fleet() {
            for chunk in ids.chunks(RELEASE_BATCH) {
                fleet.ensure_claimed(chunk).await?;
            }
        }
        Ok(())
    }

    /// Takes waiting claims while this worker has free running slots, and runs them.
    async fn take_waiting(self: &Arc<Self>) -> Result<()> {
        let Some(fleet) = self.fleet().filter(|_| self.takes_fleet_work) else {
            return Ok(());
        };
        loop {
            let free = {
                let state = self.lock();
                if state.closed {
                    return Ok(());
                }
                self.max_running.saturating_sub(state.running_count())
            };
            if free == 0 {
                return Ok(());
            }
            let taken = fleet.claim_waiting(free.min(64)).await?;
            if taken.is_empty() {
                return Ok(());
            }
            // Started (or stored) before more are taken, so the free slots are counted right.
            let mut starting = tokio::task::JoinSet::new();
            for id in taken {
                let shared = Arc::clone(self);
                starting.spawn(async move {
                    if let Err(error) = shared.resume_claimed(&id).await {
                        tracing::warn!(workflow.id = %id, %error, "cannot run a claimed workflow");
                    }
                });
            }
            while starting.join_next().await.is_some() {}
        }
    }

    /// Runs workflow `id`, whose claim this worker took from the waiting ones.
    async fn resume_claimed(self: &Arc<Self>, id: &str) -> Result<()> {
        if let Some(actor) = id.strip_prefix(ACTOR_CLAIM) {
            // The actor of a worker that is gone: served here from now on (loading it takes
            // in its inbox too).
            return self.load_actor(actor).await;
        }
        if let Some((actor, _)) = parse_call_id(id) {
            // A call runs where its actor is served, in turn: serve it, or leave it.
            if let Some(fleet) = self.fleet() {
                fleet.release(&[id.to_string()]).await?;
            }
            return match self.load_actor(actor).await {
                Ok(()) | Err(crate::Error::ActorElsewhere { .. }) => Ok(()),
                Err(error) => Err(error),
            };
        }
        let finish = self.resume_watching(id).await;
        if !self.lock().active.contains_key(id) {
            // Finished, unknown, or refused to load: the claim is of no use.
            if let Some(fleet) = self.fleet() {
                fleet.release(&[id.to_string()]).await?;
            }
        }
        finish.map(drop)
    }

    /// Ends workflow `id` here once the claim this worker holds on it, if any, is given
    /// back: for callers that return as soon as it ended.
    pub(crate) async fn end_claimed(&self, id: &str, finish: Finish) {
        let claimed = self
            .lock()
            .active
            .get_mut(id)
            .is_some_and(|active| std::mem::take(&mut active.claimed));
        if let (true, Some(fleet)) = (claimed, self.fleet()) {
            if let Err(error) = fleet.release(&[id.to_string()]).await {
                tracing::warn!(workflow.id = %id, %error, "cannot give back a claim");
            }
            let ended: [Arc<str>; 1] = [id.into()];
            for message in finished_messages(&ended) {
                let _ = fleet.send(&message).await;
            }
        }
        self.lock().end(id, finish);
    }

    /// Marks the workflows this worker ran `Resumable` and gives their claims back, and
    /// hands its queued ones to the fleet: what closing leaves behind.
    pub(crate) async fn leave_fleet(&self, running: Vec<Arc<str>>, queued: Vec<Arc<str>>) {
        let Some(fleet) = self.fleet() else {
            return;
        };
        let taker = self.lock().taker.take();
        if let Some(taker) = taker {
            let (stopped, given_back) = oneshot::channel();
            if taker.send(stopped).is_ok() {
                let _ = tokio::time::timeout(LEAVE_WAIT, given_back).await;
            }
        }
        let left = async {
            let mut batch = workflow_storage::Batch::new();
            for id in &running {
                if let Some(mut record) = read_record(&*self.store, id).await? {
                    if record.status == WorkflowStatus::Running {
                        record.status = WorkflowStatus::Resumable;
                        batch.put(WORKFLOWS, id.as_bytes().to_vec(), encode(&record)?);
                    }
                }
            }
            if !batch.is_empty() {
                self.committer
                    .commit(batch)
                    .await
                    .map_err(crate::Error::from_storage)?;
            }
            let running: Vec<String> = running.iter().map(|id| id.to_string()).collect();
            fleet.release(&running).await?;
            let queued: Vec<String> = queued.iter().map(|id| id.to_string()).collect();
            fleet.hand_over(&queued).await?;
            Ok::<_, crate::Error>(())
        };
        if let Err(error) = left.await {
            // Its claims wait for the other workers once it leaves, all the same.
            tracing::warn!(%error, "leaving the fleet in order failed");
        }
    }
}

/// Starts the worker's part in the fleet, if the engine's store has one: giving claims
/// back, and hearing the fleet's messages.
pub(crate) fn start(shared: &Arc<Shared>) {
    let Some(fleet) = shared.fleet() else {
        return;
    };
    let (unclaim, ends) = mpsc::unbounded_channel();
    shared.lock().unclaim = Some(unclaim);
    tokio::spawn(give_back(Arc::downgrade(shared), ends));
    tokio::spawn(listen(Arc::downgrade(shared), fleet.messages()));
    super::taker::start(shared);
}

/// Gives back the claims of workflows whose run ended, many per statement, then ends
/// them here and tells the fleet.
async fn give_back(shared: Weak<Shared>, mut ends: mpsc::UnboundedReceiver<(Arc<str>, Finish)>) {
    while let Some(first) = ends.recv().await {
        let mut batch = vec![first];
        while batch.len() < RELEASE_BATCH {
            match ends.try_recv() {
                Ok(end) => batch.push(end),
                Err(_) => break,
            }
        }
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let ids: Vec<Arc<str>> = batch.iter().map(|(id, _)| id.clone()).collect();
        if let Some(fleet) = shared.fleet() {
            let names: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
            if let Err(error) = fleet.release(&names).await {
                tracing::warn!(%error, "cannot give back the claims of ended workflows");
            }
        }
        {
            let mut state = shared.lock();
            for (id, finish) in batch {
                state.end(&id, finish);
            }
        }
        if let Some(fleet) = shared.fleet() {
            for message in finished_messages(&ids) {
                if let Err(error) = fleet.send(&message).await {
                    tracing::debug!(%error, "cannot tell the fleet of ended workflows");
                }
            }
        }
        shared.pump();
    }
}

/// Acts on the fleet's messages, and looks for waiting claims now and then.
async fn listen(shared: Weak<Shared>, mut messages: broadcast::Receiver<String>) {
    let mut poll = tokio::time::interval(POLL_EVERY);
    loop {
        let heard = tokio::select! {
            heard = messages.recv() => heard,
            _ = poll.tick() => Ok(READY_MESSAGE.to_string()),
        };
        let Some(shared) = shared.upgrade() else {
            return;
        };
        if shared.lock().closed {
            return;
        }
        let text = match heard {
            Ok(text) => text,
            // Missed some: anything may be waiting, calls in the inboxes of actors served
            // here included.
            Err(broadcast::error::RecvError::Lagged(_)) => {
                for actor in shared.actors.loaded_actors() {
                    let shared = Arc::clone(&shared);
                    tokio::spawn(async move { shared.drain_inbox(&actor).await });
                }
                READY_MESSAGE.to_string()
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        match Message::parse(&text) {
            Some(Message::Ready) => {
                if let Err(error) = shared.take_waiting().await {
                    tracing::debug!(%error, "cannot take waiting workflows");
                }
            }
            Some(Message::Cancel(id)) => {
                let here = shared.lock().active.contains_key(id);
                if here {
                    let shared = Arc::clone(&shared);
                    let id = id.to_string();
                    tokio::spawn(async move {
                        if let Err(error) = shared.cancel(&id).await {
                            tracing::warn!(workflow.id = %id, %error, "cannot cancel workflow");
                        }
                    });
                }
            }
            Some(Message::Event(id, key)) => shared.events.wake(&queue_prefix(id, key)),
            Some(Message::Done(ids)) => {
                let state = shared.lock();
                for id in ids {
                    if let Some(events) = state.active.get(id).and_then(|a| a.events.as_ref()) {
                        let _ = events.send(crate::driver::DriverEvent::NoticesWaiting);
                    }
                }
            }
            Some(Message::Inbox(actor)) => {
                if shared.actors.is_loaded(actor) {
                    let shared = Arc::clone(&shared);
                    let actor = actor.to_string();
                    tokio::spawn(async move { shared.drain_inbox(&actor).await });
                }
            }
            Some(
                Message::Finished(_)
                | Message::Offered
                | Message::Abandoned(_)
                | Message::Queued(_),
            )
            | None => {}
        }
    }
}
