//! `WorkflowHandle`: a started workflow's id and output.

use std::marker::PhantomData;

use tokio::sync::watch;

use crate::{driver::Finish, Engine, Progress, Result, TaskValue, WorkflowStatus};

/// How the run this handle started ended, once it has.
pub(crate) type FinishWatch = watch::Receiver<Option<Finish>>;

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
    /// The run started with the handle: a run that broke (its store failed) is reported
    /// with its cause even when it ended before the output was asked for.
    finish: Option<FinishWatch>,
    _output: PhantomData<fn() -> T>,
}

impl<T> Clone for WorkflowHandle<T> {
    fn clone(&self) -> Self {
        WorkflowHandle {
            engine: self.engine.clone(),
            id: self.id.clone(),
            finish: self.finish.clone(),
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
            finish: None,
            _output: PhantomData,
        }
    }

    /// A handle that reports how the run `finish` watches ended, if it broke.
    pub(crate) fn watching(mut self, finish: Option<FinishWatch>) -> Self {
        self.finish = finish;
        self
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
        if let Some(mut finish) = self.finish.clone() {
            let broken = match finish.wait_for(Option::is_some).await {
                Ok(finished) => match &*finished {
                    Some(Finish::Broken(error)) => Some(error.clone()),
                    _ => None,
                },
                Err(_) => None,
            };
            // Reported while the workflow is still left as that run left it: a later run
            // (a resume) answers for itself.
            if let Some(error) = broken {
                if self.engine.status(&self.id).await? == WorkflowStatus::Resumable {
                    return Err(error);
                }
            }
        }
        self.engine.output(&self.id).await
    }
}
