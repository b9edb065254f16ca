//! The driver's view of the step table: which steps must run, what they wait for, and their
//! assembled arguments.

use std::collections::HashMap;

use super::StepMeta;
use crate::{
    attempt::{ArgPart, Args},
    launch::StepResult,
    object::ObjectId,
    records::{InputRecord, StepRecord},
    value::{decode_value, encode_value},
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
    /// For the root of a running continuation, the steps whose output will be its output.
    pub(crate) waiters: HashMap<u32, Vec<u32>>,
}

/// The distinct steps that `step` takes as inputs.
pub(crate) fn input_steps(step: &StepRecord) -> Vec<u32> {
    let mut out = Vec::new();
    let mut stack: Vec<&InputRecord> = step.inputs.iter().collect();
    while let Some(input) = stack.pop() {
        match input {
            InputRecord::Value(_) | InputRecord::Object { .. } => {}
            InputRecord::Step(i) | InputRecord::StepObject { step: i, .. } => out.push(*i),
            InputRecord::List(items) => stack.extend(items),
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Whether a step's output is there for dependents to take.
pub(crate) fn is_available(result: &Option<StepResult>) -> bool {
    matches!(result, Some(StepResult::Value(_) | StepResult::Caught(_)))
}

/// The step a continued step's output now comes from: stored pointers are followed to the
/// latest level, stopping at a step that catches errors (it must settle on its own first).
pub(crate) fn latest_level(
    steps: &[StepRecord],
    results: &[Option<StepResult>],
    root: u32,
) -> Result<u32> {
    let mut at = root;
    for _ in 0..=steps.len() {
        match &results[at as usize] {
            Some(StepResult::Continued(next)) if !steps[at as usize].options.catch_errors => {
                if *next as usize >= steps.len() || *next <= at {
                    return Err(corrupt(at, "its continuation points at no later step"));
                }
                at = *next;
            }
            _ => return Ok(at),
        }
    }
    Err(corrupt(root, "its continuations form a cycle"))
}

fn corrupt(step: u32, reason: &str) -> Error {
    Error::Corrupt {
        keyspace: "results",
        key: format!("step {step}"),
        reason: reason.to_string(),
    }
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
            waiters: HashMap::new(),
        };
        let mut required = vec![false; count];
        let mut stack = vec![root];
        while let Some(step) = stack.pop() {
            let s = step as usize;
            if required[s] {
                continue;
            }
            required[s] = true;
            match &results[s] {
                Some(StepResult::Value(_) | StepResult::Caught(_)) => {}
                Some(StepResult::Continued(next)) => {
                    if *next as usize >= count || *next <= step {
                        return Err(corrupt(step, "its continuation points at no later step"));
                    }
                    let latest = if steps[s].options.catch_errors {
                        latest_level(steps, results, *next)?
                    } else {
                        latest_level(steps, results, step)?
                    };
                    graph.waiters.entry(latest).or_default().push(step);
                    stack.push(latest);
                }
                None => {
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
                        if !is_available(&results[i]) {
                            graph.unmet[s] += 1;
                        }
                        stack.push(input);
                    }
                }
            }
        }
        Ok(graph)
    }

    /// Adds the steps of a continuation, all to run; returns those ready now.
    pub(crate) fn extend(&mut self, new_steps: &[StepRecord], offset: u32) -> Vec<u32> {
        let mut ready = Vec::new();
        for (k, step) in new_steps.iter().enumerate() {
            let s = offset + k as u32;
            self.needed.push(true);
            self.dependents.push(Vec::new());
            self.consumers_left.push(0);
            let inputs = input_steps(step);
            self.unmet.push(inputs.len() as u32);
            for input in inputs {
                self.dependents[input as usize].push(s);
                self.consumers_left[input as usize] += 1;
            }
            if self.unmet[s as usize] == 0 {
                ready.push(s);
            }
        }
        ready
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
/// without knowing their types. Objects passed as values are read when the attempt starts.
pub(crate) fn assemble_args(
    step: &StepRecord,
    meta: &[StepMeta],
    results: &[Option<StepResult>],
) -> Result<Args> {
    let mut parts = Vec::new();
    let mut out = Vec::new();
    for input in &step.inputs {
        append_input(input, meta, results, &mut out, &mut parts)?;
    }
    if parts.is_empty() {
        return Ok(Args::Ready(out.into()));
    }
    parts.push(ArgPart::Bytes(out));
    Ok(Args::Parts(parts))
}

fn append_input(
    input: &InputRecord,
    meta: &[StepMeta],
    results: &[Option<StepResult>],
    out: &mut Vec<u8>,
    parts: &mut Vec<ArgPart>,
) -> Result<()> {
    match input {
        InputRecord::Value(bytes) => out.extend_from_slice(bytes),
        InputRecord::Step(i) => {
            let i = *i as usize;
            append_output(i, meta[i].catch, results, out)?
        }
        InputRecord::Object { id, fingerprint } => {
            parts.push(ArgPart::Bytes(std::mem::take(out)));
            parts.push(ArgPart::Object(ObjectId(*id), *fingerprint));
        }
        InputRecord::StepObject { step, fingerprint } => {
            let mut reference = Vec::new();
            let i = *step as usize;
            append_output(i, meta[i].catch, results, &mut reference)?;
            let id: ObjectId = decode_value(&reference, "an object reference")?;
            parts.push(ArgPart::Bytes(std::mem::take(out)));
            parts.push(ArgPart::Object(id, *fingerprint));
        }
        InputRecord::List(items) => {
            let length = postcard::to_stdvec(&items.len()).map_err(|e| Error::Codec {
                message: format!("cannot encode a list length: {e}"),
            })?;
            out.extend_from_slice(&length);
            for item in items {
                append_input(item, meta, results, out, parts)?;
            }
        }
    }
    Ok(())
}

/// Step `i`'s output as its dependents see it: wrapped in `Ok`/`Err` under `catch_errors`.
pub(crate) fn append_output(
    i: usize,
    caught: bool,
    results: &[Option<StepResult>],
    out: &mut Vec<u8>,
) -> Result<()> {
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
        (Some(StepResult::Caught(_)), false) | (Some(StepResult::Continued(_)), _) | (None, _) => {
            return Err(Error::Corrupt {
                keyspace: "results",
                key: format!("step {i}"),
                reason: "the output of this step is missing".to_string(),
            })
        }
    }
    Ok(())
}
