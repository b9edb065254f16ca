//! The runtime of `workflow`: typed DAGs, the task registry and the durable engine.
//!
//! Users depend on the facade crate `workflow`, which re-exports everything here.

#![warn(missing_docs)]

mod actor;
pub mod admin;
mod arg;
mod attempt;
mod committer;
mod context;
mod create;
mod dag;
mod driver;
mod engine;
mod error;
mod flow;
#[doc(hidden)]
pub mod fuzz_support;
mod handle;
mod id;
mod launch;
mod list_query;
mod lower;
mod metadata;
pub mod metrics;
mod object;
mod offer;
mod progress;
mod records;
mod registry;
mod status;
mod task;
mod task_error;
mod value;
mod value_type;
mod wait;

#[doc(hidden)]
pub mod __private;

pub use actor::{ActorCall, ActorDetail, ActorInfo, ActorPage};
pub use arg::IntoArg;
pub use context::{context, try_context, TaskContext};
pub use create::{create, Workflow};
pub use dag::Dag;
pub use engine::{Engine, EngineBuilder};
pub use error::{Error, Result};
pub use flow::{continuation, Flow};
pub use handle::WorkflowHandle;
pub use list_query::{ListQuery, WorkflowPage, MAX_PAGE};
pub use metadata::{
    PendingEvent, PendingTimer, QueuedEvents, StoreStats, TaskMetadata, TaskStatus, Waits,
    WorkflowInfo, WorkflowMetadata,
};
pub use object::{put, ObjectRef};
pub use progress::Progress;
pub use status::{ParseStatusError, WorkflowStatus};
pub use task::{Task, TaskOptions};
pub use task_error::TaskError;
pub use value::TaskValue;
pub use wait::{sleep, wait_for_event, EventListener, EventSource, ExternalEvent};
