//! Lowering: a `Dag<T>` becomes a table of serializable step records, once, at submission.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use crate::{
    arg::Input,
    dag::{Dag, Node, NodeKind},
    id::validate_task_id,
    object::ObjectId,
    records::{InputRecord, StepOptions, StepRecord},
    registry::TaskRegistration,
    value::{fingerprint, short_type_name, stable_hash},
    Error, Result,
};

/// A workflow's step table, ready to store and to run.
pub(crate) struct Plan {
    pub(crate) steps: Vec<StepRecord>,
    /// The objects the DAG's inputs refer to.
    pub(crate) refs: Vec<ObjectId>,
    pub(crate) tasks: Vec<TaskRegistration>,
    pub(crate) root: u32,
    pub(crate) dag_hash: u64,
    pub(crate) output_type: String,
    pub(crate) output_fingerprint: u64,
}

/// Lowers the graph under `dag`: each distinct node (by identity) becomes one step, numbered
/// in build order, so every step's inputs come before it.
pub(crate) fn lower<T: 'static>(dag: &Dag<T>) -> Result<Plan> {
    let lowered = lower_nodes(dag.node(), 0, None, &mut TaskIds::default())?;
    Ok(Plan {
        refs: lowered.refs,
        root: lowered.root,
        steps: lowered.steps,
        tasks: lowered.tasks,
        dag_hash: lowered.hash,
        output_type: short_type_name::<T>(),
        output_fingerprint: fingerprint::<T>(),
    })
}

/// Steps lowered from a graph, to be appended to a workflow's step table.
pub(crate) struct Lowered {
    pub(crate) steps: Vec<StepRecord>,
    pub(crate) tasks: Vec<TaskRegistration>,
    /// The absolute step number of the graph's root.
    pub(crate) root: u32,
    pub(crate) hash: u64,
    /// The objects its inputs refer to.
    pub(crate) refs: Vec<ObjectId>,
}

/// Lowers the graph under `root` into steps numbered from `offset`; `parent` is the step whose
/// continuation the graph is, and `ids` the task ids already taken in the workflow.
pub(crate) fn lower_nodes(
    root: &Arc<Node>,
    offset: u32,
    parent: Option<u32>,
    ids: &mut TaskIds,
) -> Result<Lowered> {
    let nodes = collect_nodes(root);
    let index: HashMap<*const Node, u32> = nodes
        .iter()
        .enumerate()
        .map(|(i, node)| (Arc::as_ptr(node), offset + i as u32))
        .collect();
    let mut steps = Vec::with_capacity(nodes.len());
    let mut tasks = Vec::with_capacity(nodes.len());
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    let mut scratch = Vec::new();
    let mut refs = Vec::new();
    for node in &nodes {
        let NodeKind::Task { task, inputs } = &node.kind;
        collect_input_refs(inputs, &mut refs);
        let task_id = match &node.options.task_id {
            Some(id) => {
                validate_task_id(id)?;
                ids.assign(id)
            }
            None => ids.assign(task.function),
        };
        let inputs = inputs
            .iter()
            .map(|input| lower_input(input, &index, &task_id))
            .collect::<Result<Vec<_>>>()?;
        let options = &node.options;
        let step = StepRecord {
            task_id,
            task: task.name.to_string(),
            version: task.version,
            signature: task.signature,
            options: StepOptions {
                max_retries: options.max_retries,
                retry_errors: options.retry_errors,
                retry_backoff_ms: options.retry_backoff.map(|d| d.as_millis() as u64),
                timeout_ms: options.timeout.map(|d| d.as_millis() as u64),
                checkpoint: options.checkpoint,
                catch_errors: options.catch_errors,
                metadata: options.metadata.as_ref().map(|m| m.to_string()),
            },
            inputs,
            parent,
        };
        scratch.clear();
        scratch = postcard::to_extend(&step, scratch).map_err(|e| Error::Codec {
            message: format!("cannot encode step `{}`: {e}", step.task_id),
        })?;
        hasher.update(&scratch);
        steps.push(step);
        tasks.push(*task);
    }
    refs.sort_unstable();
    refs.dedup();
    Ok(Lowered {
        root: offset + steps.len() as u32 - 1,
        steps,
        tasks,
        hash: hasher.digest(),
        refs,
    })
}

/// The objects that the inputs of the graph under `root` refer to.
pub(crate) fn refs_of(root: &Arc<Node>) -> Vec<ObjectId> {
    let mut refs = Vec::new();
    for node in collect_nodes(root) {
        collect_input_refs(node.inputs(), &mut refs);
    }
    refs.sort_unstable();
    refs.dedup();
    refs
}

fn collect_input_refs(inputs: &[Input], refs: &mut Vec<ObjectId>) {
    for input in inputs {
        match input {
            Input::Value(_, found) => refs.extend_from_slice(found),
            Input::Object(id, _) => refs.push(*id),
            Input::List(items) => collect_input_refs(items, refs),
            Input::Node(_) | Input::NodeObject(..) | Input::Invalid(_) => {}
        }
    }
}

/// The task ids taken in a workflow: the given id or the function's name, and for repeats
/// `_1`, `_2`, ... in the order nodes are lowered (build order within one graph).
///
/// Ids taken are kept as 64-bit hashes, 8 bytes each however long the workflow runs: a
/// (vanishingly rare) collision only makes a free id look taken, so ids stay unique.
#[derive(Default)]
pub(crate) struct TaskIds {
    used: HashSet<u64>,
    next_suffix: HashMap<String, u32>,
}

impl TaskIds {
    /// The ids of an existing step table.
    pub(crate) fn of<'a>(ids: impl IntoIterator<Item = &'a str>) -> TaskIds {
        TaskIds {
            used: ids
                .into_iter()
                .map(|id| stable_hash(id.as_bytes()))
                .collect(),
            next_suffix: HashMap::new(),
        }
    }

    fn assign(&mut self, base: &str) -> String {
        if self.used.insert(stable_hash(base.as_bytes())) {
            return base.to_string();
        }
        let suffix = self.next_suffix.entry(base.to_string()).or_insert(1);
        loop {
            let candidate = format!("{base}_{suffix}");
            *suffix += 1;
            if self.used.insert(stable_hash(candidate.as_bytes())) {
                return candidate;
            }
        }
    }
}

/// Every node reachable from `root`, once each, in build order (root last).
fn collect_nodes(root: &Arc<Node>) -> Vec<Arc<Node>> {
    let mut seen: HashSet<*const Node> = HashSet::new();
    let mut nodes = Vec::new();
    let mut stack: Vec<&Input> = Vec::new();
    seen.insert(Arc::as_ptr(root));
    nodes.push(root.clone());
    stack.extend(root.inputs());
    while let Some(input) = stack.pop() {
        match input {
            Input::Node(node) | Input::NodeObject(node, _) => {
                if seen.insert(Arc::as_ptr(node)) {
                    nodes.push(node.clone());
                    stack.extend(node.inputs());
                }
            }
            Input::List(items) => stack.extend(items),
            Input::Value(..) | Input::Object(..) | Input::Invalid(_) => {}
        }
    }
    nodes.sort_by_key(|node| node.seq);
    nodes
}

fn lower_input(
    input: &Input,
    index: &HashMap<*const Node, u32>,
    task_id: &str,
) -> Result<InputRecord> {
    Ok(match input {
        Input::Value(bytes, _) => InputRecord::Value(bytes.to_vec()),
        Input::Object(id, fingerprint) => InputRecord::Object {
            id: id.0,
            fingerprint: *fingerprint,
        },
        Input::Node(node) => InputRecord::Step(index[&Arc::as_ptr(node)]),
        Input::NodeObject(node, fingerprint) => InputRecord::StepObject {
            step: index[&Arc::as_ptr(node)],
            fingerprint: *fingerprint,
        },
        Input::List(items) => InputRecord::List(
            items
                .iter()
                .map(|item| lower_input(item, index, task_id))
                .collect::<Result<_>>()?,
        ),
        Input::Invalid(message) => {
            return Err(Error::Codec {
                message: format!("an argument of task `{task_id}`: {message}"),
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        arg::IntoArg,
        dag::bind,
        task::{plain, Invocation, Task, TaskOptions},
    };

    struct Add;

    impl Task for Add {
        type Args = (i64, i64);
        type Output = i64;
        const NAME: &'static str = "lower::tests::add";
        const FUNCTION: &'static str = "add";
        const VERSION: u32 = 1;
        const SIGNATURE: u64 = 7;
        const OPTIONS: TaskOptions = TaskOptions::DEFAULT;

        fn invoke((a, b): (i64, i64)) -> Invocation<i64> {
            Invocation::Sync(Box::new(move || plain(a + b)))
        }
    }

    fn add(a: impl IntoArg<i64>, b: impl IntoArg<i64>) -> Dag<i64> {
        bind::<Add>(vec![a.into_input(), b.into_input()])
    }

    #[test]
    fn steps_come_in_build_order_with_numbered_ids() {
        let a = add(1, 2);
        let b = add(3, 4);
        let root = add(a.clone(), add(a, b).task_id("inner"));
        let plan = lower(&root).unwrap();
        let ids: Vec<&str> = plan.steps.iter().map(|s| s.task_id.as_str()).collect();
        assert_eq!(ids, ["add", "add_1", "inner", "add_2"]);
        assert_eq!(plan.root, 3);
        assert_eq!(
            plan.steps[3].inputs,
            [InputRecord::Step(0), InputRecord::Step(2)]
        );
    }

    #[test]
    fn explicit_ids_that_collide_get_suffixes_too() {
        let root = add(add(1, 1).task_id("add_1"), add(2, 2));
        let plan = lower(&root).unwrap();
        let ids: Vec<&str> = plan.steps.iter().map(|s| s.task_id.as_str()).collect();
        assert_eq!(ids, ["add_1", "add", "add_2"]);
    }

    #[test]
    fn the_hash_follows_structure_and_values() {
        let hash = |dag: Dag<i64>| lower(&dag).unwrap().dag_hash;
        assert_eq!(hash(add(1, add(2, 3))), hash(add(1, add(2, 3))));
        assert_ne!(hash(add(1, add(2, 3))), hash(add(1, add(2, 4))));
        assert_ne!(hash(add(1, 2)), hash(add(1, 2).max_retries(0)));
    }

    #[test]
    fn a_deep_chain_lowers_and_drops_without_recursion() {
        let mut dag = add(0, 0);
        for i in 0..200_000 {
            dag = add(dag, i);
        }
        let plan = lower(&dag).unwrap();
        assert_eq!(plan.steps.len(), 200_001);
        assert_eq!(plan.steps[200_000].task_id, "add_200000");
        drop(dag);
    }
}
