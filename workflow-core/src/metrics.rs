//! The names of the metrics the engine records through the [`metrics`](https://docs.rs/metrics)
//! facade.
//!
//! Nothing is recorded unless the program installs a recorder (for example
//! `metrics-exporter-prometheus`); without one, each update costs a few nanoseconds.
//!
//! | name | kind | what |
//! |---|---|---|
//! | [`TASKS_STARTED`] | counter | task attempts started |
//! | [`TASKS_SUCCEEDED`] | counter | tasks settled with an output or a continuation |
//! | [`TASKS_FAILED`] | counter | tasks failed for good (after their retries) |
//! | [`TASKS_RETRIED`] | counter | failed attempts that will be retried |
//! | [`CHECKPOINT_SECONDS`] | histogram | time to make one group of checkpoints durable |
//! | [`CHECKPOINT_RECORDS`] | histogram | records written by one group commit |
//! | [`WORKFLOWS_FINISHED`] | counter | workflow runs ended here, labeled by `status` |
//! | [`QUEUE_DEPTH`] | gauge | workflows waiting in the `Pending` queue |
//! | [`RUNNING_WORKFLOWS`] | gauge | workflows holding a running slot |
//!
//! # Examples
//!
//! ```
//! assert_eq!(workflow::metrics::TASKS_STARTED, "workflow_tasks_started_total");
//! ```

/// Counter: task attempts started.
pub const TASKS_STARTED: &str = "workflow_tasks_started_total";
/// Counter: tasks settled with an output (or a caught error) or a continuation.
pub const TASKS_SUCCEEDED: &str = "workflow_tasks_succeeded_total";
/// Counter: tasks failed for good, once their retries are used up.
pub const TASKS_FAILED: &str = "workflow_tasks_failed_total";
/// Counter: failed attempts that will be retried.
pub const TASKS_RETRIED: &str = "workflow_tasks_retried_total";
/// Histogram: seconds to make one group of checkpoints durable (write, and `fsync` under
/// `Durability::Sync`).
pub const CHECKPOINT_SECONDS: &str = "workflow_checkpoint_seconds";
/// Histogram: records written by one group commit.
pub const CHECKPOINT_RECORDS: &str = "workflow_checkpoint_records";
/// Counter: workflow runs that ended in this process, labeled `status` (`Successful`,
/// `Failed`, `Canceled`, `Resumable`).
pub const WORKFLOWS_FINISHED: &str = "workflow_workflows_finished_total";
/// Gauge: workflows waiting in the `Pending` queue for a running slot.
pub const QUEUE_DEPTH: &str = "workflow_queue_depth";
/// Gauge: workflows holding one of the `max_running_workflows` slots.
pub const RUNNING_WORKFLOWS: &str = "workflow_running_workflows";
