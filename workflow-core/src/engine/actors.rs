//! Virtual actors in the engine: creating them, queuing their calls in order, and finishing
//! the calls a stopped process left behind.

use std::{future::Future, pin::Pin, sync::Arc};

use workflow_storage::Batch;

use super::Shared;
use crate::{
    actor::records::{
        call_key, call_of_key, call_workflow_id, calls_prefix, parse_call_id, ActorRecord,
        CallEntry, InboxEntry, ACTORS, ACTOR_CALLS, ACTOR_INBOX, ACTOR_PENDING, ACTOR_STATE,
        CALL_ORIGINS,
    },
    actor::{turn_step, ActorSpace},
    arg::{encoded, Input},
    dag::{bind_registration, Dag},
    driver::Finish,
    id::validate_user_id,
    launch::{read_record, Launch},
    lower::lower,
    records::{decode, encode, now_us, WorkflowRecord},
    registry::TaskRegistration,
    Error, Result, WorkflowStatus,
};

impl Shared {
    /// Opens actor `id` of the type named `type_name`; creates it with the state `create`
    /// makes if it does not exist and `create` is given.
    pub(crate) async fn open_actor(
        self: &Arc<Self>,
        id: &str,
        type_name: &str,
        create: Option<impl FnOnce() -> Result<Vec<u8>>>,
    ) -> Result<()> {
        validate_user_id(id)?;
        let lock = self.actors.lock_of(id);
        let _numbering = lock.lock().await;
        match self.actors.record(id).await? {
            Some(record) if record.type_name == type_name => Ok(()),
            Some(record) => Err(Error::ActorTypeMismatch {
                id: id.to_string(),
                stored: record.type_name,
                requested: type_name.to_string(),
            }),
            None => {
                let Some(create) = create else {
                    return Err(Error::NotFound {
                        what: "actor",
                        id: id.to_string(),
                    });
                };
                let record = ActorRecord {
                    type_name: type_name.to_string(),
                    next_call: 0,
                    created_us: now_us(),
                };
                let mut batch = self.actors.state_write(id, create()?)?;
                batch.put(ACTORS, id.as_bytes().to_vec(), encode(&record)?);
                // Created once, even by two processes of a fleet at the same moment.
                batch.expect(ACTORS, id.as_bytes().to_vec(), None);
                match self.committer.commit(batch).await {
                    Ok(()) => Ok(()),
                    Err(error)
                        if matches!(*error, workflow_storage::StorageError::Conflict { .. }) =>
                    {
                        match self.actors.record(id).await? {
                            Some(record) if record.type_name == type_name => Ok(()),
                            Some(record) => Err(Error::ActorTypeMismatch {
                                id: id.to_string(),
                                stored: record.type_name,
                                requested: type_name.to_string(),
                            }),
                            None => Err(Error::from_storage(error)),
                        }
                    }
                    Err(error) => Err(Error::from_storage(error)),
                }
            }
        }
    }

    /// Queues a call of `method` on actor `actor` as workflow `{actor}@{n}`, and returns its
    /// id once it is durably stored.
    pub(crate) async fn spawn_call(
        self: &Arc<Self>,
        actor: &str,
        method: TaskRegistration,
        writes: bool,
        args: Vec<Input>,
    ) -> Result<String> {
        self.spawn_call_from(actor, method, writes, args, None)
            .await
    }

    /// [`spawn_call`](Shared::spawn_call) from a step of a workflow: `origin` is the step's
    /// key in [`CALL_ORIGINS`], written with the call.
    pub(crate) async fn spawn_call_from(
        self: &Arc<Self>,
        actor: &str,
        method: TaskRegistration,
        writes: bool,
        args: Vec<Input>,
        origin: Option<Vec<u8>>,
    ) -> Result<String> {
        match self.load_actor(actor).await {
            Ok(()) => {}
            Err(Error::ActorElsewhere { .. }) if self.fleet().is_some() => {
                return self.forward_call(actor, method, writes, args, origin).await;
            }
            Err(error) => return Err(error),
        }
        self.queue_call(actor, method, writes, args, origin, None)
            .await
    }

    /// Numbers a call of `method` on `actor`, which this worker serves, and stores it; for a
    /// call from the actor's inbox, `inbox` is its entry, marked queued in the same commit.
    pub(crate) async fn queue_call(
        self: &Arc<Self>,
        actor: &str,
        method: TaskRegistration,
        writes: bool,
        args: Vec<Input>,
        origin: Option<Vec<u8>>,
        inbox: Option<(Vec<u8>, InboxEntry)>,
    ) -> Result<String> {
        let lock = self.actors.lock_of(actor);
        // Held until the call's first commit is queued, so that calls are numbered and
        // stored in order.
        let numbering = lock.lock().await;
        if let Some(origin) = &origin {
            // An earlier attempt of the calling step queued it already (from this worker or
            // through the inbox): numbered, or durable.
            let known = match self.actors.origin_call(origin) {
                Some(id) => Some(id.into_bytes()),
                None => self.store.get(CALL_ORIGINS, origin).await?,
            };
            if let Some(id) = known {
                drop(numbering);
                return match inbox {
                    Some((key, entry)) => self.mark_queued(key, entry, id).await,
                    None => String::from_utf8(id).map_err(|_| Error::Corrupt {
                        keyspace: CALL_ORIGINS.name(),
                        key: workflow_storage::render_key(origin),
                        reason: "the call id is not UTF-8".to_string(),
                    }),
                };
            }
        }
        let mut record = self
            .actors
            .head(actor)
            .await?
            .ok_or_else(|| Error::NotFound {
                what: "actor",
                id: actor.to_string(),
            })?;
        let call = record.next_call;
        record.next_call += 1;
        // Numbered here from now on, whether or not this call is stored: a number is never
        // given twice (one whose call failed to be stored is skipped).
        self.actors.set_head(actor, record.clone());
        let id: Arc<str> = call_workflow_id(actor, call).into();
        // The method's arguments follow the actor id and the call number: their encodings
        // make the encoding of the task's `(String, u64, Args)`. A writer's method first
        // waits for the step of its turn, whose `()` output encodes to nothing.
        let mut inputs = Vec::with_capacity(args.len() + 3);
        if writes {
            inputs.push(Input::Node(turn_step(actor, call).into_node()));
        }
        inputs.extend([encoded(&actor.to_string()), encoded(&call)]);
        inputs.extend(args);
        let dag: Dag<()> = bind_registration(method, inputs);
        let mut plan = lower(&dag)?;
        // The call's output is the method's, whose type the registration knows.
        plan.output_type = (method.output_type)();
        plan.output_fingerprint = (method.output_fingerprint)();
        let head = WorkflowRecord::pending(&plan, 0);
        let mut launch = Launch::fresh(id.clone(), plan, head)?;
        launch
            .initial
            .put(ACTORS, actor.as_bytes().to_vec(), encode(&record)?);
        if let Some(origin) = &origin {
            launch
                .initial
                .put(CALL_ORIGINS, origin.clone(), id.as_bytes().to_vec());
        }
        launch.initial.put(
            ACTOR_CALLS,
            call_key(actor, call),
            encode(&CallEntry { writes })?,
        );
        let forwarded = match inbox {
            Some((key, mut entry)) => {
                entry.queued = Some(Ok(id.to_string()));
                entry.taken_us = now_us();
                launch.initial.put(ACTOR_INBOX, key, encode(&entry)?);
                true
            }
            None => false,
        };
        let (submitted, handed_over) = tokio::sync::oneshot::channel();
        launch.submitted = Some(submitted);
        let watches;
        {
            let mut state = self.lock();
            if state.closed {
                return Err(Error::Closed);
            }
            if !state.reserve(&id, launch.record.dag_hash, false) {
                return Err(Error::AlreadyExists { id: id.to_string() });
            }
            if writes {
                self.actors.add_writer(actor, call);
            }
            if forwarded {
                self.actors.add_forwarded(&id);
            }
            if let Some(origin) = &origin {
                self.actors.add_origin(origin.clone(), &id);
            }
            watches = state.watches(&id);
            self.start_uncounted(&mut state, launch);
        }
        // The next call is numbered once this one's first commit is in the committer's
        // queue, behind this one: calls queued at once share their fsyncs.
        let _ = handed_over.await;
        drop(numbering);
        let stored = super::state::wait_watched(watches).await;
        if let Some(origin) = &origin {
            // Durable (or never to be): the store tells from now on.
            self.actors.forget_origin(origin);
        }
        match stored {
            Ok(()) => Ok(id.to_string()),
            Err(error) => {
                self.actors.call_ended(actor, call);
                Err(error)
            }
        }
    }

    /// Marks the inbox entry `key` queued as call `id`.
    async fn mark_queued(&self, key: Vec<u8>, entry: InboxEntry, id: Vec<u8>) -> Result<String> {
        let id = String::from_utf8(id).map_err(|_| Error::Corrupt {
            keyspace: CALL_ORIGINS.name(),
            key: workflow_storage::render_key(&key),
            reason: "the call id is not UTF-8".to_string(),
        })?;
        self.mark_taken(key, entry, Ok(id.clone())).await?;
        Ok(id)
    }

    /// Reads the unfinished calls of `actor` once per process, and resumes those not
    /// running, so that the calls queued behind them can go.
    pub(crate) async fn load_actor(self: &Arc<Self>, actor: &str) -> Result<()> {
        if self.actors.is_loaded(actor) {
            return Ok(());
        }
        self.claim_actor(actor).await?;
        let loaded = self.load_claimed_actor(actor).await;
        if loaded.is_err() {
            // Served by nobody then: let the next caller try.
            self.release_actor(actor).await;
        }
        loaded
    }

    async fn load_claimed_actor(self: &Arc<Self>, actor: &str) -> Result<()> {
        let prefix = calls_prefix(actor);
        let mut writers = Vec::new();
        let mut resume = Vec::new();
        let mut stale = Batch::new();
        for (key, bytes) in self.store.scan_prefix(ACTOR_CALLS, &prefix).await? {
            let Some(call) = call_of_key(prefix.len(), &key) else {
                stale.delete(ACTOR_CALLS, key);
                continue;
            };
            let entry: CallEntry = decode(ACTOR_CALLS, &key, &bytes)?;
            let id = call_workflow_id(actor, call);
            match read_record(&*self.store, &id).await? {
                Some(record) if !record.status.is_finished() => {
                    if entry.writes {
                        writers.push(call);
                        // Its method may have left a pending state before the process stopped.
                        self.actors.may_be_pending(&id);
                    }
                    resume.push(id);
                }
                // A call that finished before its index entry went: its pending state, if
                // the process stopped before applying it, is applied now.
                record => {
                    let succeeded = record.is_some_and(|r| r.status == WorkflowStatus::Successful);
                    stale.append(self.settle_writes(actor, call, succeeded).await?);
                }
            }
        }
        if !self.actors.load(actor, writers) {
            return Ok(());
        }
        if !stale.is_empty() {
            self.committer
                .commit(stale)
                .await
                .map_err(Error::from_storage)?;
        }
        for id in resume {
            let shared = self.clone();
            tokio::spawn(resume_call(shared, id));
        }
        if self.fleet().is_some() {
            // Calls other workers queued while nobody served the actor.
            let shared = self.clone();
            let actor = actor.to_string();
            tokio::spawn(async move { shared.drain_inbox(&actor).await });
        }
        Ok(())
    }

    /// A call's workflow ended as `finish`: if for good, the writers behind it may go. A
    /// continuing writer left a state to apply (or drop) first: that is returned, for the
    /// caller to settle before it reports the call's end, so that whoever waited for the call
    /// then reads the actor's new state.
    pub(crate) fn call_finished(self: &Arc<Self>, id: &str, finish: &Finish) -> Option<Settle> {
        let (actor, call) = parse_call_id(id)?;
        let succeeded = match finish {
            Finish::Successful(_) => true,
            Finish::Failed { .. } | Finish::Canceled => false,
            // Not finished in the store: the writers behind it look again (and resume it).
            Finish::Interrupted | Finish::Broken(_) => {
                self.actors.poke(actor);
                return None;
            }
        };
        if self.actors.take_pending(id) {
            return Some(Settle {
                actor: actor.to_string(),
                call,
                succeeded,
            });
        }
        self.actors.call_ended(actor, call);
        let mut batch = Batch::new();
        batch.delete(ACTOR_CALLS, call_key(actor, call));
        // Not atomic with the call's last write: an entry left by a crash is dropped when
        // the actor's calls are next read.
        self.committer.submit(batch, Box::new(|_| {}));
        None
    }

    /// Applies (if `succeeded`) or drops the pending state of a finished call, drops its index
    /// entry, and then lets the writers behind it go.
    pub(crate) async fn settle_call(self: &Arc<Self>, actor: &str, call: u64, succeeded: bool) {
        let settle = Settle {
            actor: actor.to_string(),
            call,
            succeeded,
        };
        let written = self.write_settle(&settle).await;
        self.after_settle(&settle, written);
    }

    /// The writes of [`settle_call`](Shared::settle_call), committed.
    pub(crate) async fn write_settle(&self, settle: &Settle) -> Result<()> {
        let batch = self
            .settle_writes(&settle.actor, settle.call, settle.succeeded)
            .await?;
        self.committer
            .commit(batch)
            .await
            .map_err(Error::from_storage)
    }

    /// Lets the writers behind a settled call go; if its writes failed, they look again (and
    /// settle it themselves).
    pub(crate) fn after_settle(&self, settle: &Settle, written: Result<()>) {
        match written {
            Ok(()) => self.actors.call_ended(&settle.actor, settle.call),
            Err(error) => {
                let id = call_workflow_id(&settle.actor, settle.call);
                tracing::warn!(workflow.id = %id, %error, "cannot apply an actor call's state");
                self.actors.poke(&settle.actor);
            }
        }
    }

    /// The writes that settle finished call `call` of `actor`: its pending state made the
    /// actor's (if it `succeeded`) or dropped, and its index entry dropped.
    async fn settle_writes(&self, actor: &str, call: u64, succeeded: bool) -> Result<Batch> {
        let id = call_workflow_id(actor, call);
        let mut batch = Batch::new();
        if succeeded {
            if let Some(state) = self.store.get(ACTOR_PENDING, id.as_bytes()).await? {
                batch.put(ACTOR_STATE, actor.as_bytes().to_vec(), state);
            }
        }
        batch.delete(ACTOR_PENDING, id.into_bytes());
        batch.delete(ACTOR_CALLS, call_key(actor, call));
        Ok(batch)
    }

    /// Waits until every writer call of `actor` numbered before `call` has finished,
    /// resuming those that are not running here.
    pub(crate) async fn wait_turn(self: &Arc<Self>, actor: &str, call: u64) -> Result<()> {
        /// Forgets the wake-up of the call however the wait ends, even when it is dropped.
        struct Waiting<'a>(&'a ActorSpace, &'a str, u64);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.stop_waiting(self.1, self.2);
            }
        }
        let _waiting = Waiting(&self.actors, actor, call);
        self.wait_turn_inner(actor, call).await
    }

    async fn wait_turn_inner(self: &Arc<Self>, actor: &str, call: u64) -> Result<()> {
        loop {
            let (blocker, changed) = self.actors.turn_of(actor, call);
            let notified = changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let Some(blocker) = blocker else {
                return Ok(());
            };
            let id = call_workflow_id(actor, blocker);
            if !self.lock().active.contains_key(id.as_str()) {
                match self.resume_stored(&id).await {
                    Ok(()) => {}
                    // Failed for good, or gone: the turn moves on.
                    Err(
                        Error::TaskFailed { .. } | Error::Canceled { .. } | Error::NotFound { .. },
                    ) => {
                        self.settle_call(actor, blocker, false).await;
                        continue;
                    }
                    Err(error) => return Err(error),
                }
                if !self.lock().active.contains_key(id.as_str()) {
                    // Not running here after all: it finished (its record says how) or its
                    // run here just ended unfinished (then it is resumed again).
                    let status = read_record(&*self.store, &id).await?.map(|r| r.status);
                    match status {
                        Some(WorkflowStatus::Successful) => {
                            self.settle_call(actor, blocker, true).await
                        }
                        Some(WorkflowStatus::Failed | WorkflowStatus::Canceled) | None => {
                            self.settle_call(actor, blocker, false).await
                        }
                        Some(_) => tokio::task::yield_now().await,
                    }
                    continue;
                }
            }
            notified.await;
        }
    }
}

/// Resumes call `id` in the background.
fn resume_call(shared: Arc<Shared>, id: String) -> Pin<Box<dyn Future<Output = ()> + Send>> {
    Box::pin(async move {
        if let Err(error) = shared.resume_stored(&id).await {
            tracing::warn!(workflow.id = %id, %error, "cannot resume an actor call");
        }
    })
}

/// A finished call of a continuing writer whose state is still to be applied or dropped.
pub(crate) struct Settle {
    pub(crate) actor: String,
    pub(crate) call: u64,
    pub(crate) succeeded: bool,
}
