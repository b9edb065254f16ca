//! Continuation scopes: the workflow's own DAG, and one sub-graph per task that returned a
//! continuation, nested as the continuations are.

use std::collections::HashMap;

use crate::WorkflowMetadata;

/// The index of the workflow's own scope in [`Scopes::list`].
pub(super) const ROOT: usize = 0;

/// One scope: the tasks sharing a `parent`.
#[derive(Clone, Debug)]
pub(super) struct Scope<'a> {
    /// The `parent` its tasks name (the task that returned the continuation); `None` for the
    /// workflow's own DAG.
    pub(super) key: Option<&'a str>,
    /// The index of the task named by `key`, when the metadata holds it.
    pub(super) host: Option<usize>,
    /// The scope it is drawn inside: its host's scope, or [`ROOT`] when the host is unknown or
    /// the parents form a cycle. The root is its own parent.
    pub(super) parent: usize,
    /// How many scopes it is nested in: 0 for the root.
    pub(super) depth: usize,
}

/// Every scope of a workflow, and the scope of each task.
#[derive(Clone, Debug)]
pub(super) struct Scopes<'a> {
    /// The scopes, the root first, then in the order their first task appears.
    pub(super) list: Vec<Scope<'a>>,
    /// For each task (by index in the metadata), its scope.
    pub(super) of_task: Vec<usize>,
}

impl<'a> Scopes<'a> {
    /// The scopes of `meta`, whose task ids are indexed by `index` (task id to task index).
    pub(super) fn new(meta: &'a WorkflowMetadata, index: &HashMap<&str, usize>) -> Scopes<'a> {
        let mut list = vec![Scope {
            key: None,
            host: None,
            parent: ROOT,
            depth: 0,
        }];
        let mut by_key: HashMap<&'a str, usize> = HashMap::new();
        let mut of_task = Vec::with_capacity(meta.tasks.len());
        for task in &meta.tasks {
            let scope = match task.parent.as_deref() {
                None => ROOT,
                Some(key) => *by_key.entry(key).or_insert_with(|| {
                    list.push(Scope {
                        key: Some(key),
                        host: index.get(key).copied(),
                        parent: ROOT,
                        depth: 0,
                    });
                    list.len() - 1
                }),
            };
            of_task.push(scope);
        }
        for scope in list.iter_mut().skip(1) {
            scope.parent = scope.host.map_or(ROOT, |host| of_task[host]);
        }
        resolve_depths(&mut list);
        Scopes { list, of_task }
    }

    /// The ancestor of `scope` (itself included) whose parent is `above`, when `above` is a
    /// proper ancestor of `scope`.
    pub(super) fn child_toward(&self, scope: usize, above: usize) -> Option<usize> {
        let mut current = scope;
        while current != ROOT {
            let parent = self.list[current].parent;
            if parent == above {
                return Some(current);
            }
            current = parent;
        }
        None
    }

    /// Whether scope `inner` is `outer` or nested in it.
    pub(super) fn within(&self, inner: usize, outer: usize) -> bool {
        inner == outer || self.child_toward(inner, outer).is_some()
    }

    /// The deepest scope holding both `a` and `b`.
    pub(super) fn common(&self, mut a: usize, mut b: usize) -> usize {
        while self.list[a].depth > self.list[b].depth {
            a = self.list[a].parent;
        }
        while self.list[b].depth > self.list[a].depth {
            b = self.list[b].parent;
        }
        while a != b {
            a = self.list[a].parent;
            b = self.list[b].parent;
        }
        a
    }
}

/// Sets every scope's depth, first hanging any scope whose parents lead back to itself
/// under the root. Iterative, so deeply nested continuations need no deep stack.
fn resolve_depths(list: &mut [Scope<'_>]) {
    const NEW: u8 = 0;
    const ON_PATH: u8 = 1;
    const DONE: u8 = 2;
    let mut mark = vec![NEW; list.len()];
    mark[ROOT] = DONE;
    let mut path = Vec::new();
    for start in 1..list.len() {
        let mut current = start;
        while mark[current] == NEW {
            mark[current] = ON_PATH;
            path.push(current);
            current = list[current].parent;
        }
        if mark[current] == ON_PATH {
            // `current` leads back to itself: cut the cycle there.
            list[current].parent = ROOT;
            list[current].depth = 1;
            mark[current] = DONE;
        }
        while let Some(scope) = path.pop() {
            if mark[scope] != DONE {
                list[scope].depth = list[list[scope].parent].depth + 1;
                mark[scope] = DONE;
            }
        }
    }
}
