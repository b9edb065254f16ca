//! `WorkflowHandle`: a started workflow's id and output.

use std::marker::PhantomData;

use crate::{Engine, Progress, Result, TaskValue};

/// A workflow started with [`Engine::spawn`]; its output can be awaited.
///
/// # Examples
///
/// ```
/// # use workflow::prelude::*;
/// # #[task] fn one() -> i64 { 1 }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> workflow::Result<()> {
/// let engine = Engine::temporary().await?;
/// let handle: WorkflowHandle<i64> = engine.spawn("run_2", one::bind()).await?;
/// assert_eq!(handle.id(), "run_2");
/// assert_eq!(handle.output().await?, 1);
/// # Ok(())
/// # }
/// ```
pub struct WorkflowHandle<T> {
    engine: Engine,
    id: String,
    _output: PhantomData<fn() -> T>,
}

impl<T> Clone for WorkflowHandle<T> {
    fn clone(&self) -> Self {
        WorkflowHandle {
            engine: self.engine.clone(),
            id: self.id.clone(),
            _output: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for WorkflowHandle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkflowHandle")
            .field("id", &self.id)
            .finish()
    }
}

impl<T: TaskValue> WorkflowHandle<T> {
    pub(crate) fn new(engine: Engine, id: String) -> Self {
        WorkflowHandle {
            engine,
            id,
            _output: PhantomData,
        }
    }

    /// The workflow id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// How far the workflow is, as a watch that changes while it runs; see
    /// [`Engine::progress`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use workflow::prelude::*;
    /// # #[task] fn one() -> i64 { 1 }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// let engine = Engine::temporary().await?;
    /// let handle = engine.spawn("w", one::bind()).await?;
    /// let mut progress = handle.progress().await?;
    /// while progress.changed().await.is_ok() {}
    /// assert_eq!(progress.borrow().done, 1);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn progress(&self) -> Result<tokio::sync::watch::Receiver<Progress>> {
        self.engine.progress(&self.id).await
    }

    /// Waits for the workflow and returns its output, as [`Engine::output`] does.
    pub async fn output(&self) -> Result<T> {
        self.engine.output(&self.id).await
    }
}
