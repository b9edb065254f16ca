//! `Dag<T>`: a typed handle to a node of a workflow graph under construction.

use std::{
    marker::PhantomData,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use crate::{
    arg::Input,
    registry::TaskRegistration,
    task::{Task, TaskOptions},
    TaskError,
};

/// The output of a task in a workflow graph, not computed yet.
///
/// `add::bind(1, one::bind())` builds a `Dag<i64>`; passing it to
/// [`Engine::run`](crate::Engine::run) runs the graph durably. A `Dag` is a cheap handle: a
/// clone is the same node, so a node used by several others runs once.
///
/// The per-node methods ([`task_id`](Dag::task_id), [`max_retries`](Dag::max_retries), ...)
/// return a new node with the changed option; apply them before using the node elsewhere.
///
/// # Examples
///
/// ```
/// use workflow::prelude::*;
///
/// #[task]
/// fn one() -> i64 { 1 }
///
/// #[task]
/// fn add(a: i64, b: i64) -> i64 { a + b }
///
/// let shared = one::bind();
/// let dag: Dag<i64> = add::bind(shared.clone(), shared).task_id("sum").max_retries(1);
/// ```
pub struct Dag<T> {
    node: Arc<Node>,
    _output: PhantomData<fn() -> T>,
}

impl<T> Clone for Dag<T> {
    fn clone(&self) -> Self {
        Dag {
            node: self.node.clone(),
            _output: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for Dag<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dag")
            .field("task", &self.node.task_name())
            .field("task_id", &self.node.options.task_id)
            .finish_non_exhaustive()
    }
}

/// A node of a graph under construction.
pub struct Node {
    /// Build order: every input of a node was built before it.
    pub(crate) seq: u64,
    pub(crate) kind: NodeKind,
    pub(crate) options: NodeOptions,
}

pub(crate) enum NodeKind {
    Task {
        task: TaskRegistration,
        inputs: Vec<Input>,
    },
}

/// The options of one node, starting from the task's attribute.
#[derive(Clone, Debug)]
pub(crate) struct NodeOptions {
    pub(crate) task_id: Option<String>,
    pub(crate) max_retries: u32,
    pub(crate) retry_errors: bool,
    pub(crate) retry_backoff: Option<Duration>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) checkpoint: bool,
    pub(crate) metadata: Option<serde_json::Value>,
    pub(crate) catch_errors: bool,
}

impl NodeOptions {
    fn from_task(options: &TaskOptions) -> Self {
        NodeOptions {
            task_id: None,
            max_retries: options.max_retries,
            retry_errors: options.retry_errors,
            retry_backoff: options.retry_backoff,
            timeout: options.timeout,
            checkpoint: options.checkpoint,
            metadata: None,
            catch_errors: false,
        }
    }
}

fn next_seq() -> u64 {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    SEQ.fetch_add(1, Ordering::Relaxed)
}

impl Node {
    pub(crate) fn task_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Task { task, .. } => task.name,
        }
    }

    pub(crate) fn inputs(&self) -> &[Input] {
        match &self.kind {
            NodeKind::Task { inputs, .. } => inputs,
        }
    }
}

impl Clone for NodeKind {
    fn clone(&self) -> Self {
        match self {
            NodeKind::Task { task, inputs } => NodeKind::Task {
                task: *task,
                inputs: inputs.clone(),
            },
        }
    }
}

impl Drop for Node {
    // A chain of a million nodes must not drop recursively: unlink children onto a heap stack.
    fn drop(&mut self) {
        let mut stack: Vec<Input> = match &mut self.kind {
            NodeKind::Task { inputs, .. } => std::mem::take(inputs),
        };
        while let Some(input) = stack.pop() {
            match input {
                Input::Node(node) | Input::NodeObject(node, _) => {
                    if let Ok(mut node) = Arc::try_unwrap(node) {
                        match &mut node.kind {
                            NodeKind::Task { inputs, .. } => stack.append(inputs),
                        }
                    }
                }
                Input::List(items) => stack.extend(items),
                Input::Value(..) | Input::Object(..) | Input::Invalid(_) => {}
            }
        }
    }
}

/// Builds the node of one call of task `M`; `#[task]`'s `bind` is sugar for it.
pub fn bind<M: Task>(inputs: Vec<Input>) -> Dag<M::Output> {
    bind_registration(TaskRegistration::of::<M>(), inputs)
}

/// Builds the node of one call of the task `task` describes, whose output is a `T`.
pub(crate) fn bind_registration<T>(task: TaskRegistration, inputs: Vec<Input>) -> Dag<T> {
    Dag::from_node(Node {
        seq: next_seq(),
        options: NodeOptions::from_task(&task.options),
        kind: NodeKind::Task { task, inputs },
    })
}

impl<T> Dag<T> {
    pub(crate) fn from_node(node: Node) -> Self {
        Dag {
            node: Arc::new(node),
            _output: PhantomData,
        }
    }

    pub(crate) fn node(&self) -> &Arc<Node> {
        &self.node
    }

    pub(crate) fn into_node(self) -> Arc<Node> {
        self.node
    }

    fn with_options<U>(self, change: impl FnOnce(&mut NodeOptions)) -> Dag<U> {
        let mut options = self.node.options.clone();
        change(&mut options);
        Dag::from_node(Node {
            seq: next_seq(),
            kind: self.node.kind.clone(),
            options,
        })
    }

    /// Sets the node's task id (default: the function's name, with `_1`, `_2`, ... for repeats).
    ///
    /// # Examples
    ///
    /// ```
    /// # use workflow::prelude::*;
    /// #[task]
    /// fn charge(amount: u64) -> u64 { amount }
    ///
    /// let node = charge::bind(10).task_id("charge-1");
    /// ```
    pub fn task_id(self, id: impl Into<String>) -> Self {
        let id = id.into();
        self.with_options(|o| o.task_id = Some(id))
    }

    /// Sets how many times the node is retried after its first attempt.
    ///
    /// # Examples
    ///
    /// ```
    /// # use workflow::prelude::*;
    /// # #[task] fn flaky() -> u64 { 1 }
    /// let node = flaky::bind().max_retries(0);
    /// ```
    pub fn max_retries(self, retries: u32) -> Self {
        self.with_options(|o| o.max_retries = retries)
    }

    /// Sets whether an `Err` output is retried too, not only panics and lost workers.
    ///
    /// # Examples
    ///
    /// ```
    /// # use workflow::prelude::*;
    /// # #[task] fn flaky() -> Result<u64, String> { Ok(1) }
    /// let node = flaky::bind().retry_errors(true);
    /// ```
    pub fn retry_errors(self, retry: bool) -> Self {
        self.with_options(|o| o.retry_errors = retry)
    }

    /// Waits `backoff` before the first retry, doubling for each later one (capped at 30 s).
    ///
    /// # Examples
    ///
    /// ```
    /// # use workflow::prelude::*;
    /// # use std::time::Duration;
    /// # #[task] fn flaky() -> u64 { 1 }
    /// let node = flaky::bind().retry_backoff(Duration::from_millis(100));
    /// ```
    pub fn retry_backoff(self, backoff: Duration) -> Self {
        self.with_options(|o| o.retry_backoff = Some(backoff))
    }

    /// Limits each attempt to `timeout`; a timed-out attempt is a failure.
    ///
    /// # Examples
    ///
    /// ```
    /// # use workflow::prelude::*;
    /// # use std::time::Duration;
    /// # #[task] async fn fetch() -> u64 { 1 }
    /// let node = fetch::bind().timeout(Duration::from_secs(30));
    /// ```
    pub fn timeout(self, timeout: Duration) -> Self {
        self.with_options(|o| o.timeout = Some(timeout))
    }

    /// Sets whether the output is checkpointed; `false` keeps it in memory only, so after a
    /// crash the task runs again.
    ///
    /// # Examples
    ///
    /// ```
    /// # use workflow::prelude::*;
    /// # #[task] fn cheap() -> u64 { 1 }
    /// let node = cheap::bind().checkpoint(false);
    /// ```
    pub fn checkpoint(self, checkpoint: bool) -> Self {
        self.with_options(|o| o.checkpoint = checkpoint)
    }

    /// Attaches user metadata, shown by [`Engine::metadata`](crate::Engine::metadata).
    ///
    /// # Examples
    ///
    /// ```
    /// # use workflow::prelude::*;
    /// # #[task] fn charge() -> u64 { 1 }
    /// let node = charge::bind().metadata(serde_json::json!({ "customer": 42 }));
    /// ```
    pub fn metadata(self, metadata: serde_json::Value) -> Self {
        self.with_options(|o| o.metadata = Some(metadata))
    }

    /// Turns a failure of this node into a value: dependents receive `Err(TaskError)`
    /// instead of the workflow failing.
    ///
    /// # Examples
    ///
    /// ```
    /// # use workflow::prelude::*;
    /// #[task]
    /// fn risky() -> Result<u64, String> { Err("no".into()) }
    ///
    /// #[task]
    /// fn report(r: Result<u64, TaskError>) -> String {
    ///     match r { Ok(v) => v.to_string(), Err(e) => e.message().to_string() }
    /// }
    ///
    /// let dag = report::bind(risky::bind().catch_errors());
    /// ```
    pub fn catch_errors(self) -> Dag<Result<T, TaskError>> {
        self.with_options(|o| o.catch_errors = true)
    }
}
