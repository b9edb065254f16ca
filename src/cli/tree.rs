//! A workflow's graph as an indented tree: each task under the task that takes its output,
//! continuations under the task that returned them, wide fan-outs folded.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::{TaskMetadata, TaskStatus};

/// How many inputs of one task are drawn before the rest are folded into one line.
const UNFOLDED: usize = 12;

/// The lines of the tree of `tasks` (as [`Engine::metadata`](crate::Engine::metadata) lists
/// them), the root first.
pub(crate) fn lines(tasks: &[TaskMetadata]) -> Vec<String> {
    let index: HashMap<&str, usize> = tasks
        .iter()
        .enumerate()
        .map(|(i, task)| (task.task_id.as_str(), i))
        .collect();
    let mut tree = Tree {
        tasks,
        index,
        drawn: HashSet::new(),
        lines: Vec::new(),
    };
    for root in tree.roots(None) {
        tree.draw(root, "", "");
    }
    tree.lines
}

struct Tree<'a> {
    tasks: &'a [TaskMetadata],
    index: HashMap<&'a str, usize>,
    drawn: HashSet<usize>,
    lines: Vec<String>,
}

impl<'a> Tree<'a> {
    /// The tasks of one level (the DAG's own, or one continuation's) whose output no other
    /// task of that level takes: the level's root, normally one.
    fn roots(&self, parent: Option<&str>) -> Vec<usize> {
        let level: Vec<usize> = (0..self.tasks.len())
            .filter(|&i| self.tasks[i].parent.as_deref() == parent)
            .collect();
        let taken: HashSet<&str> = level
            .iter()
            .flat_map(|&i| self.tasks[i].inputs.iter().map(String::as_str))
            .collect();
        level
            .into_iter()
            .filter(|&i| !taken.contains(self.tasks[i].task_id.as_str()))
            .collect()
    }

    fn draw(&mut self, task: usize, lead: &str, indent: &str) {
        let meta = &self.tasks[task];
        if !self.drawn.insert(task) {
            self.lines
                .push(format!("{lead}{} (shared, drawn above)", meta.task_id));
            return;
        }
        self.lines.push(format!(
            "{lead}{} [{}]",
            meta.task_id,
            status_name(meta.status)
        ));
        let inputs: Vec<usize> = meta
            .inputs
            .iter()
            .filter_map(|input| self.index.get(input.as_str()).copied())
            .collect();
        let continuation = self.roots(Some(meta.task_id.as_str()));
        let (shown, folded) = inputs.split_at(inputs.len().min(UNFOLDED));
        let mut children: Vec<Child> = shown.iter().map(|&i| Child::Task(i)).collect();
        if !folded.is_empty() {
            children.push(Child::Folded(folded.to_vec()));
        }
        children.extend(continuation.into_iter().map(Child::Continuation));
        let count = children.len();
        for (k, child) in children.into_iter().enumerate() {
            let last = k + 1 == count;
            let branch = if last { "└─ " } else { "├─ " };
            let next = format!("{indent}{}", if last { "   " } else { "│  " });
            match child {
                Child::Task(i) => self.draw(i, &format!("{indent}{branch}"), &next),
                Child::Continuation(i) => {
                    self.draw(i, &format!("{indent}{branch}continues as "), &next)
                }
                Child::Folded(rest) => {
                    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
                    for &i in &rest {
                        *counts.entry(status_name(self.tasks[i].status)).or_default() += 1;
                        self.drawn.insert(i);
                    }
                    let counts: Vec<String> = counts
                        .into_iter()
                        .map(|(status, n)| format!("{n} {status}"))
                        .collect();
                    self.lines.push(format!(
                        "{indent}{branch}... {} more ({})",
                        rest.len(),
                        counts.join(", ")
                    ));
                }
            }
        }
    }
}

enum Child {
    Task(usize),
    Continuation(usize),
    Folded(Vec<usize>),
}

/// A task status as the command line prints it.
pub(crate) fn status_name(status: TaskStatus) -> &'static str {
    match status {
        TaskStatus::Waiting => "waiting",
        TaskStatus::Running => "running",
        TaskStatus::Interrupted => "interrupted",
        TaskStatus::Successful => "successful",
        TaskStatus::Continued => "continued",
        TaskStatus::Failed => "failed",
        _ => "unknown",
    }
}
