//! The `Task` trait that `#[task]` implements, and what one invocation returns.

use std::{fmt::Display, future::Future, pin::Pin, sync::Arc, time::Duration};

use serde::de::DeserializeOwned;

use crate::{dag::Node, Flow, TaskValue};

/// A boxed, `Send` future, as returned by an async task.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// A task definition: what `#[task]` generates for a function.
///
/// Users never implement it by hand; the attribute does. The engine runs tasks through a
/// type-erased [`TaskRegistration`](crate::registry::TaskRegistration) built from it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a task",
    note = "put `#[workflow::task]` on the function"
)]
pub trait Task: Send + Sync + 'static {
    /// The arguments as a tuple, in order: `(a, b)` for `fn add(a: i64, b: i64)`.
    type Args: DeserializeOwned + Send + 'static;
    /// The output of the node: `T` for `T`, `Result<T, E>` and `Flow<T>` returns alike.
    type Output: TaskValue;

    /// The durable name stored with each step: by default module path and function name.
    const NAME: &'static str;
    /// The function's own name, the default task id of its nodes.
    const FUNCTION: &'static str;
    /// The version of the task's code (`#[task(version = N)]`, default 1).
    const VERSION: u32;
    /// A hash of the argument and output types as written in the source.
    const SIGNATURE: u64;
    /// The options given on the attribute.
    const OPTIONS: TaskOptions;
    /// Whether the function may return a continuation (it returns a `Flow`). Such a step
    /// runs on the worker that runs its workflow, since its continuation extends the
    /// workflow's step table.
    const CONTINUES: bool = false;

    /// Starts one attempt of the task with decoded arguments.
    fn invoke(args: Self::Args) -> Invocation<Self::Output>;
}

/// The options of `#[task(...)]`; per-node methods of [`Dag`](crate::Dag) override most.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskOptions {
    /// Attempts after the first one (default 3).
    pub max_retries: u32,
    /// Whether an `Err` output is retried too (default: only panics and lost workers are).
    pub retry_errors: bool,
    /// Delay before the first retry, doubled for each later one and capped at 30 s.
    pub retry_backoff: Option<Duration>,
    /// Whether the output is checkpointed (default true).
    pub checkpoint: bool,
    /// A limit on each attempt's duration.
    pub timeout: Option<Duration>,
    /// Whether a sync task runs on tokio's blocking pool instead of inline.
    pub blocking: bool,
}

impl TaskOptions {
    /// The defaults of API: 3 retries of panics only, checkpointed, inline, no timeout.
    pub const DEFAULT: TaskOptions = TaskOptions {
        max_retries: 3,
        retry_errors: false,
        retry_backoff: None,
        checkpoint: true,
        timeout: None,
        blocking: false,
    };
}

impl Default for TaskOptions {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// One started attempt of a task: sync work still to run, or a future.
pub enum Invocation<T> {
    /// A sync function body, run inline or on the blocking pool.
    Sync(Box<dyn FnOnce() -> Outcome<T> + Send + 'static>),
    /// An async function body.
    Async(BoxFuture<Outcome<T>>),
}

/// What an attempt of a task produced: a value or a failure message.
pub struct Outcome<T> {
    pub(crate) kind: OutcomeKind<T>,
}

pub(crate) enum OutcomeKind<T> {
    Value(T),
    Failed(String),
    Continue(Arc<Node>),
}

/// The outcome of a task that returns a plain value.
pub fn plain<T>(value: T) -> Outcome<T> {
    Outcome {
        kind: OutcomeKind::Value(value),
    }
}

/// The outcome of a task that returns `Result<T, E>`: an `Err` is a task failure.
pub fn fallible<T, E: Display>(result: Result<T, E>) -> Outcome<T> {
    Outcome {
        kind: match result {
            Ok(value) => OutcomeKind::Value(value),
            Err(error) => OutcomeKind::Failed(error.to_string()),
        },
    }
}

/// The outcome of a task that returns `Flow<T>`.
pub fn flow<T>(flow: Flow<T>) -> Outcome<T> {
    Outcome {
        kind: match flow {
            Flow::Done(value) => OutcomeKind::Value(value),
            Flow::Continue(dag) => OutcomeKind::Continue(dag.into_node()),
        },
    }
}

/// The outcome of a task that returns `Result<Flow<T>, E>`.
pub fn fallible_flow<T, E: Display>(result: Result<Flow<T>, E>) -> Outcome<T> {
    match result {
        Ok(value) => flow(value),
        Err(error) => Outcome {
            kind: OutcomeKind::Failed(error.to_string()),
        },
    }
}

/// The signature hash of a task, from its types as written: `fn(i64, i64) -> i64`.
pub const fn signature_hash(signature: &str) -> u64 {
    xxhash_rust::const_xxh3::xxh3_64(signature.as_bytes())
}

/// A compile-time check, spanned at the user's type, that it can be stored.
pub const fn assert_task_value<T: TaskValue>() {}
