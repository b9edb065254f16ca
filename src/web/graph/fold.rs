//! Folding: which tasks are drawn as one group node.
//!
//! Tasks of one scope are folded into a group when more than [`FOLD_ABOVE`] of them share a
//! name, the same inputs and the same dependents: a fan-out such as `sum(vec of step(i))`.
//! Such tasks are interchangeable in the picture, so the group loses nothing but their ids.
//! When the graph still has more than [`LAYER_FOLD_ABOVE`] nodes, a coarser rule applies:
//! tasks of one scope with the same name in the same layer (longest path from the scope's
//! first tasks) fold, which also folds pipelines like `step(load(i))` whose tasks each have
//! their own input. Every class under the first rule lies inside one class under the second,
//! so the coarser rule only merges groups. A task that returned a continuation is never
//! folded: its continuation's cluster hangs off its node.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::adjacency::Adjacency;
use super::layer;
use super::scope::Scopes;
use super::view::NodeView;
use crate::web::state::TaskState;
use crate::WorkflowMetadata;

/// Tasks of one class fold into a group when there are more than this many.
pub(super) const FOLD_ABOVE: usize = 8;

/// Above this many nodes after the first rule, tasks fold by name and layer.
pub(super) const LAYER_FOLD_ABOVE: usize = 600;

/// One drawn node: a task, or a group of tasks.
#[derive(Clone, Debug)]
pub(super) struct Node {
    /// What the page is told about it.
    pub(super) view: NodeView,
    /// The scope it is drawn in.
    pub(super) scope: usize,
    /// Its first task, by index in the metadata.
    pub(super) first: usize,
    /// Its last task in metadata order (the first, for a task).
    pub(super) last: usize,
}

/// A workflow's tasks folded into the nodes to draw.
#[derive(Clone, Debug)]
pub(super) struct Folded<'a> {
    /// The metadata folded.
    pub(super) meta: &'a WorkflowMetadata,
    /// Its continuation scopes.
    pub(super) scopes: Scopes<'a>,
    /// The nodes, in the order of their first task in the metadata.
    pub(super) nodes: Vec<Node>,
    /// For each task, the node drawing it.
    pub(super) node_of: Vec<usize>,
    /// For each task, the tasks it takes as inputs (those the metadata holds), sorted.
    inputs: Adjacency,
    /// For each node, the scope of the continuation its task returned, if any.
    hosted: Vec<Option<usize>>,
}

impl<'a> Folded<'a> {
    /// Folds the tasks of `meta`.
    pub(super) fn new(meta: &'a WorkflowMetadata) -> Folded<'a> {
        let tasks = &meta.tasks;
        let n = tasks.len();
        let mut index: HashMap<&str, usize> = HashMap::with_capacity(n);
        let mut names: HashMap<&str, usize> = HashMap::new();
        let mut name_of = Vec::with_capacity(n);
        for (i, task) in tasks.iter().enumerate() {
            index.entry(task.task_id.as_str()).or_insert(i);
            let next = names.len();
            name_of.push(*names.entry(task.name.as_str()).or_insert(next));
        }
        let mut inputs = Adjacency::with_capacity(n);
        let mut row = Vec::new();
        for task in tasks {
            row.clear();
            row.extend(
                task.inputs
                    .iter()
                    .filter_map(|id| index.get(id.as_str()).copied()),
            );
            row.sort_unstable();
            row.dedup();
            inputs.push(&row);
        }
        let dependents =
            Adjacency::from_edges(n, inputs.edges().map(|(task, input)| (input, task)));
        let scopes = Scopes::new(meta, &index);
        let mut is_host = vec![false; n];
        for host in scopes.list.iter().filter_map(|scope| scope.host) {
            is_host[host] = true;
        }

        let class = classify(&scopes, &name_of, &is_host, &inputs, &dependents);
        let (nodes, node_of) = make_nodes(meta, &scopes, &class);
        let mut hosted = vec![None; nodes.len()];
        for (s, scope) in scopes.list.iter().enumerate() {
            if let Some(host) = scope.host {
                hosted[node_of[host]] = Some(s);
            }
        }
        Folded {
            meta,
            scopes,
            nodes,
            node_of,
            inputs,
            hosted,
        }
    }

    /// The continuation scope an edge from node `from` to node `to` leaves from, when `from`
    /// returned a continuation and `to` lies outside it: `to` takes the continuation's
    /// output, so the edge is drawn (and ranked) from the continuation's cluster.
    pub(super) fn output_scope(&self, from: usize, to: usize) -> Option<usize> {
        let scope = self.hosted.get(from).copied().flatten()?;
        let inner = self.nodes.get(to)?.scope;
        (!self.scopes.within(inner, scope)).then_some(scope)
    }

    /// The edges between nodes (`input`, `dependent`), sorted, without repeats or loops.
    pub(super) fn edges(&self) -> Vec<(usize, usize)> {
        let mut edges: Vec<(usize, usize)> = self
            .inputs
            .edges()
            .map(|(task, input)| (self.node_of[input], self.node_of[task]))
            .filter(|(from, to)| from != to)
            .collect();
        edges.sort_unstable();
        edges.dedup();
        edges
    }
}

/// The class of each task: tasks of a class larger than [`FOLD_ABOVE`] fold into a group.
/// By scope, name, inputs and dependents; by scope, name and layer when that leaves more
/// than [`LAYER_FOLD_ABOVE`] nodes. A task that returned a continuation is alone in its class.
fn classify(
    scopes: &Scopes<'_>,
    name_of: &[usize],
    is_host: &[bool],
    inputs: &Adjacency,
    dependents: &Adjacency,
) -> Vec<usize> {
    let n = name_of.len();
    let exact = |t: usize| {
        let key = Key::Exact(
            scopes.of_task[t],
            name_of[t],
            inputs.of(t),
            dependents.of(t),
        );
        (!is_host[t]).then_some(key)
    };
    let class = classes(n, exact);
    if visible(&class) <= LAYER_FOLD_ABOVE {
        return class;
    }
    let same_scope: Vec<(usize, usize)> = inputs
        .edges()
        .filter(|&(task, input)| scopes.of_task[input] == scopes.of_task[task])
        .map(|(task, input)| (input, task))
        .collect();
    let layers = layer::longest_path(n, &same_scope);
    classes(n, |t| {
        (!is_host[t]).then(|| Key::Layer(scopes.of_task[t], name_of[t], layers[t]))
    })
}

/// The nodes drawing the tasks of `meta` whose classes are `class`, and each task's node.
fn make_nodes(
    meta: &WorkflowMetadata,
    scopes: &Scopes<'_>,
    class: &[usize],
) -> (Vec<Node>, Vec<usize>) {
    let sizes = class_sizes(class);
    let mut nodes: Vec<Node> = Vec::new();
    let mut node_of = vec![0; meta.tasks.len()];
    let mut node_of_class: Vec<Option<usize>> = vec![None; sizes.len()];
    for (t, task) in meta.tasks.iter().enumerate() {
        let c = class[t];
        let state = TaskState::of(task, meta.status);
        if sizes[c] <= FOLD_ABOVE {
            node_of[t] = nodes.len();
            nodes.push(Node {
                view: NodeView::task(&task.task_id, state),
                scope: scopes.of_task[t],
                first: t,
                last: t,
            });
            continue;
        }
        let node = *node_of_class[c].get_or_insert_with(|| {
            nodes.push(Node {
                view: NodeView::group(format!("group:{}", task.task_id)),
                scope: scopes.of_task[t],
                first: t,
                last: t,
            });
            nodes.len() - 1
        });
        nodes[node].view.add(state);
        nodes[node].last = t;
        node_of[t] = node;
    }
    (nodes, node_of)
}

/// What tasks must share to fold together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key<'k> {
    /// Scope, name (numbered), inputs and dependents.
    Exact(usize, usize, &'k [usize], &'k [usize]),
    /// Scope, name (numbered) and layer.
    Layer(usize, usize, usize),
}

/// Numbers the classes of `n` tasks by first appearance; a task whose key is `None` is alone
/// in its class.
fn classes<'k>(n: usize, key: impl Fn(usize) -> Option<Key<'k>>) -> Vec<usize> {
    let mut ids: HashMap<Key<'k>, usize, BuildHasherDefault<NumberHasher>> =
        HashMap::with_capacity_and_hasher(n, BuildHasherDefault::default());
    let mut next = 0;
    let mut class = Vec::with_capacity(n);
    for t in 0..n {
        let id = match key(t) {
            Some(key) => *ids.entry(key).or_insert_with(|| {
                next += 1;
                next - 1
            }),
            None => {
                next += 1;
                next - 1
            }
        };
        class.push(id);
    }
    class
}

/// How many tasks each class holds.
fn class_sizes(class: &[usize]) -> Vec<usize> {
    let mut sizes = vec![0; class.iter().max().map_or(0, |max| max + 1)];
    for &c in class {
        sizes[c] += 1;
    }
    sizes
}

/// How many nodes `class` draws: one per folded class, one per task of the others.
fn visible(class: &[usize]) -> usize {
    class_sizes(class)
        .into_iter()
        .map(|size| if size > FOLD_ABOVE { 1 } else { size })
        .sum()
}

/// A fast hasher for [`Key`]s, which hold only numbers this module assigned (indices, name
/// numbers, layers), never text from the metadata. A multiply-rotate mix, as in `FxHash`.
#[derive(Clone, Copy, Debug, Default)]
struct NumberHasher(u64);

impl NumberHasher {
    /// Mixes `value` in.
    fn mix(&mut self, value: u64) {
        self.0 = (self.0.rotate_left(5) ^ value).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for NumberHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.mix(u64::from(byte));
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.mix(value);
    }

    fn write_usize(&mut self, value: usize) {
        self.mix(value as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}
