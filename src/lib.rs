//! Durable, typed workflows.
//!
//! Write ordinary functions, mark them `#[task]`, bind them into a DAG, and run it on an
//! [`Engine`]: every task's output is checkpointed in an embedded store, so a crashed
//! workflow resumes where it stopped and a finished task never runs again.

pub use workflow_core::*;
pub use workflow_macros::task;
pub use workflow_storage::Durability;

/// Everything a workflow program needs: `use workflow::prelude::*;`.
pub mod prelude {
    pub use crate::{
        task, Dag, Durability, Engine, EngineBuilder, Error, IntoArg, TaskContext, TaskError,
        TaskMetadata, TaskStatus, TaskValue, Workflow, WorkflowHandle, WorkflowInfo,
        WorkflowMetadata, WorkflowStatus,
    };
}
