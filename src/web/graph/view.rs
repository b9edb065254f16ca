//! What the page knows of one drawn node: its id, its state and, for a group, its counts.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::web::state::TaskState;

/// One drawn node as the page sees it: sent as JSON on live updates, matched to the SVG by
/// `data-node`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct NodeView {
    /// The node id: a task id, or `group:<task id of the group's first task>`.
    pub(crate) id: String,
    /// The task's state; for a group, the most urgent state among its tasks (see [`urgency`]).
    pub(crate) state: TaskState,
    /// For a group, how many of its tasks are in each state (states with none left out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) counts: Option<BTreeMap<TaskState, u64>>,
    /// How many tasks the node stands for: 1 for a task.
    pub(crate) tasks: u64,
}

impl NodeView {
    /// The view of a single task.
    pub(super) fn task(id: &str, state: TaskState) -> NodeView {
        NodeView {
            id: id.to_owned(),
            state,
            counts: None,
            tasks: 1,
        }
    }

    /// The view of a group with no tasks yet; [`NodeView::add`] counts them in.
    pub(super) fn group(id: String) -> NodeView {
        NodeView {
            id,
            state: TaskState::Done,
            counts: Some(BTreeMap::new()),
            tasks: 0,
        }
    }

    /// Counts one more task, in `state`, into a group: the group takes the most urgent
    /// state of its tasks.
    pub(super) fn add(&mut self, state: TaskState) {
        if self.tasks == 0 || urgency(state) > urgency(self.state) {
            self.state = state;
        }
        self.tasks += 1;
        *self
            .counts
            .get_or_insert_with(BTreeMap::new)
            .entry(state)
            .or_insert(0) += 1;
    }
}

/// How much a state asks for attention, highest first: failed, retrying, running,
/// interrupted, waiting, canceled, done. A group is drawn in its most urgent member's state.
pub(super) fn urgency(state: TaskState) -> u8 {
    match state {
        TaskState::Failed => 6,
        TaskState::Retrying => 5,
        TaskState::Running => 4,
        TaskState::Interrupted => 3,
        TaskState::Waiting => 2,
        TaskState::Canceled => 1,
        TaskState::Done => 0,
    }
}
