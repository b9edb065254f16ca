//! Submitting and resuming workflows.

use std::sync::Arc;

use tokio::sync::oneshot;
use workflow_storage::StorageError;

use super::Shared;
use crate::{
    driver::Finish,
    id::validate_workflow_id,
    launch::{read_record, Launch},
    lower::lower,
    records::{encode, now_us, WorkflowRecord, WORKFLOWS},
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
    ) -> Result<()> {
        validate_workflow_id(id)?;
        let plan = lower(dag)?;
        let id: Arc<str> = id.into();
        let reserved = {
            let mut state = self.lock();
            if state.closed {
                return Err(Error::Closed);
            }
            match state.active.get(&id) {
                Some(active) if active.dag_hash != plan.dag_hash && active.dag_hash != 0 => {
                    return Err(Error::AlreadyExists { id: id.to_string() })
                }
                Some(_) => false,
                None => state.reserve(&id, plan.dag_hash).is_some(),
            }
        };
        if !reserved {
            return Ok(());
        }
        let mut guard = Reservation {
            shared: self,
            id: &id,
            armed: true,
        };
        match read_record(&*self.store, &id).await? {
            Some(record) => {
                if record.dag_hash != plan.dag_hash {
                    return Err(Error::AlreadyExists { id: id.to_string() });
                }
                if record.status.is_finished() {
                    // Successful, failed and canceled workflows are answered from the store.
                    return Ok(());
                }
                let launch = Launch::load(&*self.store, self.registry, id.clone(), record).await?;
                guard.armed = false;
                self.launch(launch).await
            }
            None => {
                let metadata = metadata.map(|m| m.to_string());
                let queue_seq = {
                    let mut state = self.lock();
                    state.next_queue_seq += 1;
                    state.next_queue_seq
                };
                let record = WorkflowRecord {
                    status: WorkflowStatus::Pending,
                    dag_hash: plan.dag_hash,
                    step_count: plan.steps.len() as u32,
                    root: plan.root,
                    queue_seq,
                    created_us: now_us(),
                    start_us: None,
                    end_us: None,
                    output_type: plan.output_type.clone(),
                    output_fingerprint: plan.output_fingerprint,
                    metadata,
                    failure: None,
                };
                let launch = Launch::fresh(id.clone(), plan, record)?;
                guard.armed = false;
                self.launch(launch).await
            }
        }
    }

    /// Resumes a stored workflow that is not active here; returns once it is running or
    /// queued, or at once if it is finished or active.
    pub(crate) async fn resume_stored(self: &Arc<Self>, id: &str) -> Result<()> {
        validate_workflow_id(id)?;
        let id: Arc<str> = id.into();
        let reserved = {
            let mut state = self.lock();
            if state.closed {
                return Err(Error::Closed);
            }
            state.reserve(&id, 0).is_some()
        };
        if !reserved {
            return Ok(());
        }
        let mut guard = Reservation {
            shared: self,
            id: &id,
            armed: true,
        };
        let Some(record) = read_record(&*self.store, &id).await? else {
            return Err(Error::NotFound {
                what: "workflow",
                id: id.to_string(),
            });
        };
        match record.status {
            WorkflowStatus::Successful => return Ok(()),
            WorkflowStatus::Canceled => return Err(Error::Canceled { id: id.to_string() }),
            _ => {}
        }
        if let Some(active) = self.lock().active.get_mut(&id) {
            active.dag_hash = record.dag_hash;
        }
        let launch = Launch::load(&*self.store, self.registry, id.clone(), record).await?;
        guard.armed = false;
        self.launch(launch).await
    }

    /// Starts or queues a loaded or fresh workflow, and waits until its records are durable.
    async fn launch(self: &Arc<Self>, mut launch: Launch) -> Result<()> {
        let id = launch.id.clone();
        let fresh = !launch.initial.is_empty();
        let (started_sender, started) = oneshot::channel();
        if fresh {
            launch.started = Some(started_sender);
        }
        let queued = match self.try_start(launch) {
            Ok(queued) => queued,
            Err(error) => {
                self.lock().release(&id, Finish::Broken(error.clone()));
                return Err(error);
            }
        };
        let Some(mut launch) = queued else {
            if fresh {
                let started = started.await.unwrap_or(Err(Arc::new(StorageError::Closed)));
                started.map_err(Error::from_storage)?;
            }
            return Ok(());
        };
        if fresh {
            // A queued workflow is stored as Pending before it joins the queue.
            let mut batch = std::mem::take(&mut launch.initial);
            launch.started = None;
            batch.put(WORKFLOWS, id.as_bytes().to_vec(), encode(&launch.record)?);
            if let Err(error) = self.committer.commit(batch).await {
                let error = Error::from_storage(error);
                self.lock().release(&id, Finish::Broken(error.clone()));
                return Err(error);
            }
        }
        self.enqueue(launch);
        Ok(())
    }
}

/// Drops a reservation that did not lead to a running or queued workflow.
struct Reservation<'a> {
    shared: &'a Arc<Shared>,
    id: &'a Arc<str>,
    armed: bool,
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if self.armed {
            let mut state = self.shared.lock();
            state.release(self.id, Finish::Interrupted);
        }
    }
}
