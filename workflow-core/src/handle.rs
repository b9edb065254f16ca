//! `WorkflowHandle`: a started workflow's id and output.

use std::marker::PhantomData;

use crate::{Engine, Result, TaskValue};

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

    /// Waits for the workflow and returns its output, as [`Engine::output`] does.
    pub async fn output(&self) -> Result<T> {
        self.engine.output(&self.id).await
    }
}
