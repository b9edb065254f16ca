//! How far a workflow is: its settled steps out of the steps known so far.

use serde::{Deserialize, Serialize};

/// How far a workflow is: `done` of its `known` tasks have settled.
///
/// `known` counts every task of the workflow's DAG, and grows when a task returns a
/// continuation. `done` counts the tasks whose output (or caught error, or continuation) is
/// settled. Read it from [`Engine::progress`](crate::Engine::progress) or
/// [`WorkflowHandle::progress`](crate::WorkflowHandle::progress), as a watch that changes as
/// the workflow runs.
///
/// # Examples
///
/// ```
/// # use workflow::prelude::*;
/// #[task]
/// fn one() -> i64 { 1 }
///
/// #[task]
/// fn add(a: i64, b: i64) -> i64 { a + b }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> workflow::Result<()> {
/// let engine = Engine::temporary().await?;
/// let handle = engine.spawn("sum", add::bind(one::bind(), one::bind())).await?;
/// assert_eq!(handle.output().await?, 2);
/// let progress = *handle.progress().await?.borrow();
/// assert_eq!((progress.done, progress.known), (3, 3));
/// assert_eq!(progress.fraction(), 1.0);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Progress {
    /// Tasks settled.
    pub done: u64,
    /// Tasks known: the DAG's, and those of the continuations returned so far.
    pub known: u64,
}

impl Progress {
    /// `done` out of `known`.
    pub(crate) fn new(done: u64, known: u64) -> Progress {
        Progress { done, known }
    }

    /// The share of known tasks that settled, from 0.0 to 1.0 (0.0 while none is known).
    ///
    /// # Examples
    ///
    /// ```
    /// let progress = workflow::Progress::default();
    /// assert_eq!(progress.fraction(), 0.0);
    /// ```
    pub fn fraction(&self) -> f64 {
        if self.known == 0 {
            0.0
        } else {
            self.done as f64 / self.known as f64
        }
    }
}
