//! Submitting and resuming workflows.

use std::sync::Arc;

use super::Shared;
use crate::{
    actor::records::parse_call_id,
    driver::Finish,
    handle::FinishWatch,
    id::{validate_user_id, validate_workflow_id},
    launch::{read_record, Launch},
    lower::lower,
    records::WorkflowRecord,
    Dag, Error, Result, WorkflowStatus,
};

impl Shared {
    /// Stores and starts `dag` as workflow `id`, or finds the workflow already under that id.
    /// Returns once the workflow is durably stored (or known to be finished).
    pub(crate) async fn submit<T: 'static>(
        self: &Arc<Self>,
        id: &str,
        dag: &Dag<T>,
        metadata: Option<serde_json::Value>,
    ) -> Result<Option<FinishWatch>> {
        validate_user_id(id)?;
        let plan = lower(dag)?;
        let id: Arc<str> = id.into();
        let existing = {
            let mut state = self.lock();
            if state.closed {
                return Err(Error::Closed);
            }
            match state.active.get(&id) {
                Some(active) => Some(active.dag_hash),
                None => {
                    state.reserve(&id, plan.dag_hash, false);
                    None
                }
            }
        };
        if let Some(hash) = existing {
            // Active here already: the same DAG waits for it, another is refused.
            let same = match hash {
                0 => read_record(&*self.store, &id)
                    .await?
                    .is_none_or(|record| record.dag_hash == plan.dag_hash),
                hash => hash == plan.dag_hash,
            };
            if !same {
                return Err(Error::AlreadyExists { id: id.to_string() });
            }
            return self.wait_stored(&id).await.map(|()| None);
        }
        let guard = Reservation {
            shared: self,
            id: &id,
        };
        match self.claim_here(&id).await {
            Ok(true) => {}
            Ok(false) => {
                drop(guard);
                return self.submitted_elsewhere(&id, plan.dag_hash).await;
            }
            Err(error) => return guard.fail(error).await,
        }
        let launch = match read_record(&*self.store, &id).await {
            Err(error) => return guard.fail(error).await,
            Ok(Some(record)) if record.dag_hash != plan.dag_hash => {
                return guard
                    .fail(Error::AlreadyExists { id: id.to_string() })
                    .await
            }
            // Successful, failed and canceled workflows are answered from the store.
            Ok(Some(record)) if record.status.is_finished() => return Ok(None),
            Ok(Some(record)) => {
                self.lock().mark_stored(&id);
                match Launch::load(&*self.store, self.registry, id.clone(), record).await {
                    Ok(launch) => launch,
                    Err(error) => return guard.fail(error).await,
                }
            }
            Ok(None) => {
                let queue_seq = {
                    let mut state = self.lock();
                    state.next_queue_seq += 1;
                    state.next_queue_seq
                };
                let record = WorkflowRecord {
                    metadata: metadata.map(|m| m.to_string()),
                    ..WorkflowRecord::pending(&plan, queue_seq)
                };
                match Launch::fresh(id.clone(), plan, record) {
                    Ok(launch) => launch,
                    Err(error) => return guard.fail(error).await,
                }
            }
        };
        guard.launch(launch).await
    }

    /// Answers a submission of workflow `id` that another worker of the fleet holds: the
    /// same DAG is waited for there, another is refused.
    async fn submitted_elsewhere(&self, id: &str, dag_hash: u64) -> Result<Option<FinishWatch>> {
        // The other worker may be writing its records: they are there in a moment.
        for _ in 0..100 {
            if let Some(record) = read_record(&*self.store, id).await? {
                if record.dag_hash != dag_hash {
                    return Err(Error::AlreadyExists { id: id.to_string() });
                }
                return Ok(None);
            }
            if !self.held_in_fleet(id).await? {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        Err(Error::Interrupted {
            id: id.to_string(),
            reason: "another worker of the fleet claimed it but did not store it; submit it \
                     again"
                .to_string(),
        })
    }

    /// Resumes a stored workflow that is not active here; returns once it is running or
    /// queued, or at once if it is finished or active.
    pub(crate) async fn resume_stored(self: &Arc<Self>, id: &str) -> Result<()> {
        self.resume_watching(id).await.map(drop)
    }

    /// As [`resume_stored`](Shared::resume_stored), and returns how the run it started
    /// ends, if it started one.
    pub(crate) async fn resume_watching(self: &Arc<Self>, id: &str) -> Result<Option<FinishWatch>> {
        validate_workflow_id(id)?;
        if let Some((actor, _)) = parse_call_id(id) {
            // The calls of the actor queued before this one are known, and resumed, first.
            self.load_actor(actor).await?;
        }
        let id: Arc<str> = id.into();
        let reserved = {
            let mut state = self.lock();
            if state.closed {
                return Err(Error::Closed);
            }
            state.reserve(&id, 0, true)
        };
        if !reserved {
            return Ok(None);
        }
        let guard = Reservation {
            shared: self,
            id: &id,
        };
        // An actor's call runs where its actor is served, under the actor's claim.
        if parse_call_id(&id).is_none() {
            match self.claim_here(&id).await {
                Ok(true) => {}
                // Another worker runs it: its output is waited for there.
                Ok(false) => return Ok(None),
                Err(error) => return guard.fail(error).await,
            }
        }
        let record = match read_record(&*self.store, &id).await {
            Ok(Some(record)) => record,
            Ok(None) => {
                return guard
                    .fail(Error::NotFound {
                        what: "workflow",
                        id: id.to_string(),
                    })
                    .await
            }
            Err(error) => return guard.fail(error).await,
        };
        match record.status {
            WorkflowStatus::Successful => return Ok(None),
            WorkflowStatus::Canceled => {
                return guard.fail(Error::Canceled { id: id.to_string() }).await
            }
            // A failed actor call is final: the calls behind it went on.
            WorkflowStatus::Failed if parse_call_id(&id).is_some() => {
                return guard.fail(super::queries::failed(&id, &record)).await
            }
            _ => {}
        }
        if let Some(active) = self.lock().active.get_mut(&id) {
            active.dag_hash = record.dag_hash;
        }
        match Launch::load(&*self.store, self.registry, id.clone(), record).await {
            Ok(launch) => guard.launch(launch).await,
            Err(error) => guard.fail(error).await,
        }
    }
}

/// An id reserved by this caller. Dropped without [`launch`](Reservation::launch) (the
/// workflow is finished, or the caller's future was dropped), it frees the id.
pub(crate) struct Reservation<'a> {
    pub(crate) shared: &'a Arc<Shared>,
    pub(crate) id: &'a Arc<str>,
}

impl Reservation<'_> {
    /// Frees the id (and gives back its claim) and tells anyone waiting on it about `error`.
    pub(crate) async fn fail<T>(self, error: Error) -> Result<T> {
        let (shared, id) = (self.shared, self.id);
        std::mem::forget(self);
        shared.end_claimed(id, Finish::Broken(error.clone())).await;
        Err(error)
    }

    /// Starts or queues the workflow, and waits until its records are durable. Returns how
    /// its run ends.
    async fn launch(self, launch: Launch) -> Result<Option<FinishWatch>> {
        let (shared, id) = (self.shared, self.id);
        // Taken before it starts: a run that ends at once is not missed.
        let watches = shared.lock().watches(id);
        let finish = watches.as_ref().map(|(_, finish)| finish.clone());
        if let Err(error) = shared.start_or_queue(launch) {
            return self.fail(error).await;
        }
        std::mem::forget(self);
        super::state::wait_watched(watches).await?;
        Ok(finish)
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        self.shared.lock().release(self.id, Finish::Interrupted);
    }
}
