//! Steering workflows: resume, cancel, delete, close.

use std::{sync::Arc, time::Duration};

use tokio::sync::watch;
use workflow_storage::Batch;

use super::{state::put_record, submit::Reservation, Engine};
use crate::{
    driver::{DriverEvent, Finish},
    id::validate_workflow_id,
    records::{created_key, now_us, workflow_prefix, CREATED, STEP_KEYSPACES, WORKFLOWS},
    Error, Result, TaskValue, WorkflowStatus,
};

impl Engine {
    /// Continues a `Resumable` or `Failed` workflow and returns its output.
    ///
    /// A `Successful` workflow returns its stored output and runs nothing; a running one is
    /// waited for. Steps whose output is checkpointed never run again; a failed workflow's
    /// unfinished steps get a fresh set of attempts.
    ///
    /// # Errors
    ///
    /// [`Error::Canceled`] for a canceled workflow; [`Error::IncompatibleTask`] if a stored
    /// step's task is missing from this program or changed.
    ///
    /// # Examples
    ///
    /// ```
    /// # use workflow::prelude::*;
    /// # #[task] fn one() -> i64 { 1 }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// let engine = Engine::temporary().await?;
    /// engine.run("w", one::bind()).await?;
    /// assert_eq!(engine.resume::<i64>("w").await?, 1);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn resume<T: TaskValue>(&self, id: &str) -> Result<T> {
        let finish = self.shared().resume_watching(id).await?;
        crate::WorkflowHandle::new(self.clone(), id.to_string())
            .watching(finish)
            .output()
            .await
    }

    /// Resumes every `Resumable` workflow in the background; returns their ids.
    ///
    /// Workflows whose sleeps are due come first, earliest deadline first (found through the
    /// store's index of timers, not by reading every workflow), then the others.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// let engine = workflow::Engine::temporary().await?;
    /// assert!(engine.resume_all().await?.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn resume_all(&self) -> Result<Vec<String>> {
        let shared = self.shared();
        let due = shared.due_timers().await?;
        // Actor calls included: each finishes before the calls queued behind it.
        let rest = shared
            .list_all(Some(WorkflowStatus::Resumable), true)
            .await?;
        let first: std::collections::HashSet<&String> = due.iter().collect();
        let rest = rest
            .into_iter()
            .map(|info| info.id)
            .filter(|id| !first.contains(id));
        let mut resumed = Vec::new();
        for id in due.iter().cloned().chain(rest) {
            if shared.held_in_fleet(&id).await? {
                continue;
            }
            match shared.resume_stored(&id).await {
                Ok(()) => resumed.push(id),
                Err(error) => {
                    tracing::warn!(workflow.id = %id, %error, "cannot resume workflow")
                }
            }
        }
        Ok(resumed)
    }

    /// Cancels a workflow: running tasks stop at their next `.await` (a sync task can check
    /// [`TaskContext::is_canceled`](crate::TaskContext::is_canceled)), and it never runs again.
    /// A pending, resumable or failed workflow becomes `Canceled` too; canceling a successful
    /// or canceled one changes nothing.
    ///
    /// # Durability
    ///
    /// When this returns, the workflow is stored as `Canceled`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use workflow::prelude::*;
    /// # #[task] async fn slow() -> i64 { tokio::time::sleep(std::time::Duration::from_secs(60)).await; 1 }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// let engine = Engine::temporary().await?;
    /// let handle = engine.spawn("w", slow::bind()).await?;
    /// engine.cancel("w").await?;
    /// assert_eq!(engine.status("w").await?, WorkflowStatus::Canceled);
    /// assert!(matches!(handle.output().await, Err(Error::Canceled { .. })));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn cancel(&self, id: &str) -> Result<()> {
        self.shared().cancel(id).await
    }

    /// Removes every record of a workflow that is not running or pending, and the objects
    /// that no other workflow refers to.
    ///
    /// # Errors
    ///
    /// [`Error::StillRunning`] for a running or pending workflow; [`Error::NotFound`] for an
    /// unknown one.
    ///
    /// # Examples
    ///
    /// ```
    /// # use workflow::prelude::*;
    /// # #[task] fn one() -> i64 { 1 }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// let engine = Engine::temporary().await?;
    /// engine.run("w", one::bind()).await?;
    /// engine.delete("w").await?;
    /// assert!(matches!(engine.status("w").await, Err(Error::NotFound { .. })));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn delete(&self, id: &str) -> Result<()> {
        validate_workflow_id(id)?;
        let shared = self.shared();
        let id: Arc<str> = id.into();
        {
            let mut state = shared.lock();
            if state.active.contains_key(&id) {
                return Err(Error::StillRunning { id: id.to_string() });
            }
            state.reserve(&id, 0, true);
        }
        let reservation = Reservation { shared, id: &id };
        if !shared.claim_here(&id).await? {
            return Err(Error::StillRunning { id: id.to_string() });
        }
        let deleted = shared.delete_records(&id).await;
        std::mem::forget(reservation);
        shared.end_claimed(&id, Finish::Interrupted).await;
        deleted
    }
}

impl super::Shared {
    /// Deletes the records of workflow `id`, reserved (and claimed) by the caller.
    async fn delete_records(&self, id: &str) -> Result<()> {
        let shared = self;
        let record = shared.record(id).await?;
        let prefix = workflow_prefix(id);
        let mut batch = Batch::new();
        for keyspace in STEP_KEYSPACES {
            for (key, _) in shared.store.scan_prefix(keyspace, &prefix).await? {
                batch.delete(keyspace, key);
            }
        }
        batch.delete(WORKFLOWS, id.as_bytes().to_vec());
        batch.delete(CREATED, created_key(record.created_us, id));
        // Steps a closed run left on offer are not to run any more.
        shared.abandon_offers(id).await?;
        shared.objects.disown_all(id, batch).await
    }
}

impl Engine {
    /// Shuts the engine down gracefully: starts no more tasks, lets the running ones finish
    /// and checkpoint for up to `grace`, then [closes](Engine::close) it.
    ///
    /// New runs are refused with [`Error::Closed`] from the moment it is called, and queued
    /// workflows stay `Pending`. Tasks still running when `grace` ends, and tasks that only
    /// wait (sleeps, external events), are stopped as `close` stops them: their workflows stay
    /// `Resumable` and their attempts are not counted, so the next
    /// [`resume`](Engine::resume) or [`resume_all`](Engine::resume_all) goes on from the
    /// last checkpoint.
    ///
    /// # Examples
    ///
    /// Draining on Ctrl-C, as a long-running program would:
    ///
    /// ```no_run
    /// # use std::time::Duration;
    /// # #[tokio::main]
    /// # async fn main() -> workflow::Result<()> {
    /// let engine = workflow::Engine::open("workflows.db").await?;
    /// // ... spawn workflows ...
    /// tokio::signal::ctrl_c().await.expect("a Ctrl-C handler");
    /// engine.drain(Duration::from_secs(10)).await?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// A task that is running when the drain begins still finishes and is checkpointed:
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use workflow::prelude::*;
    /// #[task]
    /// async fn slow(x: i64) -> i64 {
    ///     tokio::time::sleep(Duration::from_millis(50)).await;
    ///     x
    /// }
    ///
    /// #[task]
    /// fn double(x: i64) -> i64 { x * 2 }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// let engine = Engine::open(dir.path()).await?;
    /// engine.spawn("job", double::bind(slow::bind(21))).await?;
    /// tokio::time::sleep(Duration::from_millis(10)).await;
    /// engine.drain(Duration::from_secs(5)).await?;
    ///
    /// let engine = Engine::open(dir.path()).await?;
    /// assert_eq!(engine.status("job").await?, WorkflowStatus::Resumable);
    /// // `slow` finished during the drain: only `double` is left to run.
    /// assert_eq!(engine.task_output::<i64>("job", "slow").await?, 21);
    /// assert_eq!(engine.resume::<i64>("job").await?, 42);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn drain(&self, grace: Duration) -> Result<()> {
        let shared = self.shared();
        let drained = shared.drain_drivers();
        // A drain given up half-way (its future dropped) still stops what it held back.
        let mut abandoned = ShutDownOnDrop(Some(shared));
        tracing::info!(
            workflows = drained.len(),
            grace_ms = grace.as_millis() as u64,
            "draining the engine"
        );
        let all = async {
            for driver in drained {
                let _ = driver.await;
            }
        };
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::info!("drain grace ended with tasks still running; they stay resumable");
        }
        abandoned.0 = None;
        self.close().await
    }

    /// Stops running workflows (they stay `Resumable`), flushes and releases the store.
    /// Dropping the last handle does the same without waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// let engine = workflow::Engine::open(dir.path()).await?;
    /// engine.close().await?;
    /// let again = workflow::Engine::open(dir.path()).await?; // the store is free again
    /// # Ok(())
    /// # }
    /// ```
    pub async fn close(&self) -> Result<()> {
        self.stop_admin();
        let shared = self.shared();
        let (running, queued) = shared.lock().claimed_here();
        for mut finish in shared.shut_down() {
            let _ = finish.wait_for(Option::is_some).await;
        }
        // Calls that ended while closing report their end once their state is applied.
        let settling = std::mem::take(&mut shared.lock().settling);
        for task in settling {
            let _ = task.await;
        }
        shared.leave_fleet(running, queued).await;
        {
            let mut state = shared.lock();
            let queued: Vec<_> = state.active.keys().cloned().collect();
            for id in queued {
                state.unqueue(&id);
                state.release(&id, Finish::Interrupted);
            }
        }
        shared.store.close().await?;
        let temp_dir = shared
            .temp_dir
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        drop(temp_dir);
        Ok(())
    }
}

impl Engine {
    /// Returns the space of deleted workflows to the disk: writes out what the store buffers
    /// in memory and merges its files without the deleted records (on PostgreSQL, a `VACUUM`
    /// makes their space reusable by the store's table).
    ///
    /// [`delete`](Engine::delete) removes records at once, but the embedded store frees their
    /// bytes only when it merges its files, which it does by itself as it grows; call this
    /// after deleting many workflows to get the space back now. Workflows keep running
    /// meanwhile. On a store in memory it does nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// # use workflow::prelude::*;
    /// # #[task] fn one() -> i64 { 1 }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// let engine = Engine::temporary().await?;
    /// engine.run("w", one::bind()).await?;
    /// engine.delete("w").await?;
    /// engine.compact().await?;
    /// assert_eq!(engine.stats().await?.workflows, 0);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn compact(&self) -> Result<()> {
        self.shared().store.compact().await?;
        Ok(())
    }
}

/// Stops the engine's drivers when dropped while armed: a drain whose future is dropped.
struct ShutDownOnDrop<'a>(Option<&'a super::Shared>);

impl Drop for ShutDownOnDrop<'_> {
    fn drop(&mut self) {
        if let Some(shared) = self.0 {
            shared.shut_down();
        }
    }
}

impl super::Shared {
    /// Cancels workflow `id`, here or, on a fleet, where it runs.
    pub(crate) async fn cancel(self: &Arc<Self>, id: &str) -> Result<()> {
        validate_workflow_id(id)?;
        let shared = self;
        let id: Arc<str> = id.into();
        enum Next {
            /// Its driver was asked to cancel; wait for it to stop.
            Wait(watch::Receiver<Option<Finish>>),
            /// Taken out of the queue, or reserved here: write the record ourselves.
            Write,
        }
        let next = {
            let mut state = shared.lock();
            if state.unqueue(&id) {
                Next::Write
            } else if let Some(active) = state.active.get_mut(&id) {
                match &active.events {
                    Some(events) => {
                        let _ = events.send(DriverEvent::Cancel);
                    }
                    None => active.cancel_requested = true,
                }
                Next::Wait(active.finish.clone())
            } else if state.closed {
                return Err(Error::Closed);
            } else {
                state.reserve(&id, 0, true);
                Next::Write
            }
        };
        match next {
            Next::Wait(mut finish) => {
                let _ = finish.wait_for(Option::is_some).await;
                shared.record(&id).await.map(|_| ())
            }
            Next::Write => {
                if !shared.claim_here(&id).await.inspect_err(|_| {
                    shared.lock().release(&id, Finish::Interrupted);
                })? {
                    // Another worker runs it: it cancels it there.
                    shared.lock().release(&id, Finish::Interrupted);
                    shared.send_cancel(&id).await?;
                    shared.wait_elsewhere(&id).await?;
                    return shared.record(&id).await.map(|_| ());
                }
                let written = async {
                    let mut record = shared.record(&id).await?;
                    if matches!(
                        record.status,
                        WorkflowStatus::Successful | WorkflowStatus::Canceled
                    ) {
                        return Ok(false);
                    }
                    record.status = WorkflowStatus::Canceled;
                    record.end_us = Some(now_us());
                    put_record(shared, &id, &record).await?;
                    shared.abandon_offers(&id).await?;
                    Ok(true)
                }
                .await;
                let finish = match &written {
                    Ok(true) => Finish::Canceled,
                    _ => Finish::Interrupted,
                };
                let settle = shared.call_finished(&id, &finish);
                shared.end_claimed(&id, finish).await;
                if let Some(settle) = settle {
                    let shared = Arc::clone(shared);
                    tokio::spawn(async move {
                        let (actor, call, succeeded) =
                            (settle.actor, settle.call, settle.succeeded);
                        shared.settle_call(&actor, call, succeeded).await;
                    });
                }
                written.map(|_| ())
            }
        }
    }
}
