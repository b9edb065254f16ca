//! `workflow::context()`: what a running task knows about itself.

use std::{
    cell::RefCell,
    future::Future,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::Instant,
};

use workflow_storage::Batch;

use crate::{
    actor::ActorSpace,
    object::{ObjectSpace, StagedObjects},
    wait::EventHub,
};

/// The context of the task attempt that is running: ids, attempt number, cancellation.
///
/// # Examples
///
/// ```
/// use workflow::prelude::*;
///
/// #[task]
/// fn long_job(items: u32) -> u32 {
///     let mut done = 0;
///     for _ in 0..items {
///         if workflow::context().is_canceled() {
///             break;
///         }
///         done += 1;
///     }
///     done
/// }
/// ```
#[derive(Clone)]
pub struct TaskContext {
    pub(crate) workflow_id: Arc<str>,
    pub(crate) task_id: Arc<str>,
    pub(crate) attempt: u32,
    pub(crate) workflow_canceled: Arc<AtomicBool>,
    /// When the attempt's timeout runs out.
    pub(crate) deadline: Option<Instant>,
    pub(crate) objects: Arc<ObjectSpace>,
    pub(crate) events: Arc<EventHub>,
    /// Objects this attempt made with `workflow::put` or `remote`.
    pub(crate) staged: StagedObjects,
    pub(crate) actors: Arc<ActorSpace>,
    /// The engine, for steps that queue actor calls.
    pub(crate) engine: std::sync::Weak<crate::engine::Shared>,
    /// Records to commit with this attempt's checkpoint (an actor's new state).
    pub(crate) writes: Arc<Mutex<Batch>>,
    /// When the step's first attempt started (microseconds since the Unix epoch), as stored.
    pub(crate) first_start_us: u64,
}

impl TaskContext {
    /// The id of the workflow the task runs in.
    pub fn workflow_id(&self) -> &str {
        &self.workflow_id
    }

    /// The task's id in its workflow.
    pub fn task_id(&self) -> &str {
        &self.task_id
    }

    /// The attempt number; the first attempt is 1.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Whether the workflow was canceled or this attempt timed out: a long sync task should
    /// check it and return early.
    pub fn is_canceled(&self) -> bool {
        self.workflow_canceled.load(Ordering::Relaxed)
            || self
                .deadline
                .is_some_and(|deadline| Instant::now() >= deadline)
    }
}

impl TaskContext {
    /// Adds `batch` to the records committed with this attempt's checkpoint.
    pub(crate) fn stage_write(&self, batch: Batch) {
        self.writes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .append(batch);
    }

    /// The records staged for this attempt's checkpoint.
    pub(crate) fn take_writes(&self) -> Batch {
        std::mem::take(&mut *self.writes.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl std::fmt::Debug for TaskContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskContext")
            .field("workflow_id", &self.workflow_id)
            .field("task_id", &self.task_id)
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

tokio::task_local! {
    static CURRENT: TaskContext;
}

thread_local! {
    static BLOCKING_CURRENT: RefCell<Option<TaskContext>> = const { RefCell::new(None) };
}

/// Runs `future` with `context` as the current task context.
pub(crate) fn scope<F: Future>(context: TaskContext, future: F) -> impl Future<Output = F::Output> {
    CURRENT.scope(context, future)
}

/// Runs `body` on this thread with `context` as the current task context.
pub(crate) fn scope_blocking<R>(context: TaskContext, body: impl FnOnce() -> R) -> R {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            BLOCKING_CURRENT.with(|current| current.borrow_mut().take());
        }
    }
    BLOCKING_CURRENT.with(|current| *current.borrow_mut() = Some(context));
    let _reset = Reset;
    body()
}

/// The context of the running task, or `None` outside a task.
///
/// # Examples
///
/// ```
/// assert!(workflow::try_context().is_none());
/// ```
pub fn try_context() -> Option<TaskContext> {
    CURRENT
        .try_with(Clone::clone)
        .ok()
        .or_else(|| BLOCKING_CURRENT.with(|current| current.borrow().clone()))
}

/// The context of the running task.
///
/// # Panics
///
/// Panics when called outside a task; use [`try_context`] where that can happen.
///
/// # Examples
///
/// ```
/// use workflow::prelude::*;
///
/// #[task]
/// fn which() -> String {
///     let ctx = workflow::context();
///     format!("{}/{} attempt {}", ctx.workflow_id(), ctx.task_id(), ctx.attempt())
/// }
/// ```
pub fn context() -> TaskContext {
    try_context().expect("workflow::context() was called outside a task")
}

/// Runs a sync task body inline with `context` as the current task context.
pub(crate) fn scope_sync<R>(context: TaskContext, body: impl FnOnce() -> R) -> R {
    CURRENT.sync_scope(context, body)
}
