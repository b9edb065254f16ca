//! The tasks of a workflow's steps, each kept once however many steps run it.

use std::collections::HashMap;

use crate::registry::TaskRegistration;

/// Which task each step runs, as an index into the distinct tasks of the workflow.
#[derive(Default)]
pub(crate) struct StepTasks {
    distinct: Vec<TaskRegistration>,
    by_name: HashMap<&'static str, u32>,
    of_step: Vec<u32>,
}

impl StepTasks {
    pub(crate) fn new(tasks: Vec<TaskRegistration>) -> StepTasks {
        let mut step_tasks = StepTasks::default();
        step_tasks.extend(tasks);
        step_tasks
    }

    /// Adds the tasks of steps appended to the workflow.
    pub(crate) fn extend(&mut self, tasks: Vec<TaskRegistration>) {
        self.of_step.reserve(tasks.len());
        for task in tasks {
            let index = *self.by_name.entry(task.name).or_insert_with(|| {
                self.distinct.push(task);
                (self.distinct.len() - 1) as u32
            });
            self.of_step.push(index);
        }
    }

    pub(crate) fn get(&self, step: usize) -> &TaskRegistration {
        &self.distinct[self.of_step[step] as usize]
    }
}
