//! The driver's view of the step table: which steps must run, what they wait for, and their
//! assembled arguments.

use std::sync::Arc;

use crate::{
    launch::StepResult,
    records::{InputRecord, StepRecord},
    value::encode_value,
    Error, Result,
};

/// Dependencies between the steps that still have to run.
pub(crate) struct Graph {
    /// Whether the step must run (it is not checkpointed and something needs it).
    pub(crate) needed: Vec<bool>,
    /// Inputs of a needed step that are not available yet.
    pub(crate) unmet: Vec<u32>,
    /// Needed steps that take each step's output.
    pub(crate) dependents: Vec<Vec<u32>>,
    /// Needed steps that have not yet taken each step's output: at zero it is dropped.
    pub(crate) consumers_left: Vec<u32>,
}

/// The distinct steps that `step` takes as inputs.
pub(crate) fn input_steps(step: &StepRecord) -> Vec<u32> {
    let mut out = Vec::new();
    let mut stack: Vec<&InputRecord> = step.inputs.iter().collect();
    while let Some(input) = stack.pop() {
        match input {
            InputRecord::Value(_) => {}
            InputRecord::Step(i) => out.push(*i),
            InputRecord::List(items) => stack.extend(items),
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

impl Graph {
    /// Finds the steps to run so that `root` gets its output, given the available `results`.
    pub(crate) fn new(
        steps: &[StepRecord],
        root: u32,
        results: &[Option<StepResult>],
    ) -> Result<Graph> {
        let count = steps.len();
        let mut graph = Graph {
            needed: vec![false; count],
            unmet: vec![0; count],
            dependents: vec![Vec::new(); count],
            consumers_left: vec![0; count],
        };
        let mut stack = Vec::new();
        if results[root as usize].is_none() {
            stack.push(root);
        }
        while let Some(step) = stack.pop() {
            let s = step as usize;
            if graph.needed[s] {
                continue;
            }
            graph.needed[s] = true;
            for input in input_steps(&steps[s]) {
                let i = input as usize;
                if i >= s {
                    return Err(Error::Corrupt {
                        keyspace: "steps",
                        key: format!("step {s}"),
                        reason: format!("input step {i} does not come before it"),
                    });
                }
                graph.dependents[i].push(step);
                graph.consumers_left[i] += 1;
                if results[i].is_none() {
                    graph.unmet[s] += 1;
                    stack.push(input);
                }
            }
        }
        Ok(graph)
    }

    /// Needed steps whose inputs are all available.
    pub(crate) fn ready(&self) -> Vec<u32> {
        (0..self.needed.len())
            .filter(|&s| self.needed[s] && self.unmet[s] == 0)
            .map(|s| s as u32)
            .collect()
    }
}

/// The encoded argument tuple of `step`: postcard encodes a tuple as its fields one after the
/// other and a `Vec` as a length and its items, so arguments are assembled from stored bytes
/// without knowing their types.
pub(crate) fn assemble_args(
    step: &StepRecord,
    steps: &[StepRecord],
    results: &[Option<StepResult>],
) -> Result<Arc<[u8]>> {
    let mut out = Vec::new();
    for input in &step.inputs {
        append_input(input, steps, results, &mut out)?;
    }
    Ok(out.into())
}

fn append_input(
    input: &InputRecord,
    steps: &[StepRecord],
    results: &[Option<StepResult>],
    out: &mut Vec<u8>,
) -> Result<()> {
    match input {
        InputRecord::Value(bytes) => out.extend_from_slice(bytes),
        InputRecord::Step(i) => append_output(*i as usize, steps, results, out)?,
        InputRecord::List(items) => {
            let length = postcard::to_stdvec(&items.len()).map_err(|e| Error::Codec {
                message: format!("cannot encode a list length: {e}"),
            })?;
            out.extend_from_slice(&length);
            for item in items {
                append_input(item, steps, results, out)?;
            }
        }
    }
    Ok(())
}

/// Step `i`'s output as its dependents see it: wrapped in `Ok`/`Err` under `catch_errors`.
pub(crate) fn append_output(
    i: usize,
    steps: &[StepRecord],
    results: &[Option<StepResult>],
    out: &mut Vec<u8>,
) -> Result<()> {
    let caught = steps[i].options.catch_errors;
    match (&results[i], caught) {
        (Some(StepResult::Value(bytes)), false) => out.extend_from_slice(bytes),
        (Some(StepResult::Value(bytes)), true) => {
            out.push(0); // Result::Ok
            out.extend_from_slice(bytes);
        }
        (Some(StepResult::Caught(error)), true) => {
            out.push(1); // Result::Err
            out.extend_from_slice(&encode_value(error)?);
        }
        (Some(StepResult::Caught(_)), false) | (None, _) => {
            return Err(Error::Corrupt {
                keyspace: "results",
                key: steps[i].task_id.clone(),
                reason: "the output of this step is missing".to_string(),
            })
        }
    }
    Ok(())
}
