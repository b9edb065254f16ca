//! `Flow<T>`: a task's output, or a continuation DAG that computes it.

use crate::Dag;

/// What a dynamic task returns: its output, or a DAG that computes it.
///
/// A task returning `Flow<T>` is a node of type `Dag<T>` like any other; when it returns
/// [`continuation(dag)`](continuation), the DAG is checkpointed in place of the output and run,
/// and its output becomes the task's output. Loops and recursion work this way to any depth
/// without growing the Rust stack.
///
/// # Examples
///
/// ```
/// use workflow::prelude::*;
///
/// #[task]
/// fn add(a: u64, b: u64) -> u64 {
///     a + b
/// }
///
/// #[task]
/// fn fib(n: u64) -> Flow<u64> {
///     if n <= 1 {
///         return Flow::Done(n);
///     }
///     workflow::continuation(add::bind(fib::bind(n - 1), fib::bind(n - 2)))
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> workflow::Result<()> {
/// let engine = Engine::temporary().await?;
/// assert_eq!(engine.run("fib", fib::bind(10)).await?, 55);
/// # Ok(())
/// # }
/// ```
#[must_use = "a task returns its Flow"]
pub enum Flow<T> {
    /// The task's output.
    Done(T),
    /// A DAG whose output becomes the task's output.
    Continue(Dag<T>),
}

/// Continues a task with `dag`: the task's output is the DAG's output.
///
/// # Examples
///
/// ```
/// use workflow::prelude::*;
///
/// #[task]
/// fn count_down(n: u64) -> Flow<u64> {
///     if n == 0 {
///         Flow::Done(0)
///     } else {
///         workflow::continuation(count_down::bind(n - 1))
///     }
/// }
/// ```
pub fn continuation<T>(dag: Dag<T>) -> Flow<T> {
    Flow::Continue(dag)
}

impl<T> From<Dag<T>> for Flow<T> {
    fn from(dag: Dag<T>) -> Self {
        Flow::Continue(dag)
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Flow<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Flow::Done(value) => f.debug_tuple("Done").field(value).finish(),
            Flow::Continue(dag) => f.debug_tuple("Continue").field(dag).finish(),
        }
    }
}
