//! Everything a workflow needs to run, from a fresh plan or from the store alone.

use std::sync::Arc;

use workflow_storage::{Batch, Storage};

use crate::offer::{Notice, NOTICES};
use crate::task_error::FailureKind;
use crate::{
    actor::records::parse_call_id,
    lower::Plan,
    object::ObjectSpace,
    records::{
        created_key, decode, encode, step_key, step_of_key, workflow_prefix, AttemptRecord,
        ResultRecord, StepOutcome, StepRecord, WorkflowRecord, ATTEMPTS, CREATED, RESULTS, STEPS,
        WORKFLOWS,
    },
    registry::{Lookup, Registry, TaskRegistration},
    Error, Result, TaskError,
};

/// A finished step's output as dependents need it.
#[derive(Clone, Debug)]
pub(crate) enum StepResult {
    Value(Arc<[u8]>),
    Caught(TaskError),
    /// The step continued; its output will be that of this later step.
    Continued(u32),
}

/// A workflow ready for its driver.
pub(crate) struct Launch {
    pub(crate) id: Arc<str>,
    pub(crate) record: WorkflowRecord,
    pub(crate) steps: Vec<StepRecord>,
    pub(crate) tasks: Vec<TaskRegistration>,
    /// Checkpointed results, by step.
    pub(crate) results: Vec<Option<StepResult>>,
    /// Attempts already started, by step.
    pub(crate) attempts: Vec<Option<AttemptRecord>>,
    /// Records to write with the driver's first commit (a fresh workflow's own records).
    pub(crate) initial: Batch,
    /// Told once the driver has handed its first commit to the committer, whose commits are
    /// applied in the order they are handed over.
    pub(crate) submitted: Option<tokio::sync::oneshot::Sender<()>>,
    /// Steps an earlier run offered to the fleet that are still out: they run elsewhere.
    pub(crate) offered: Vec<u32>,
    /// Steps an earlier run offered whose attempt failed elsewhere, not yet taken in.
    pub(crate) failed: Vec<(u32, FailureKind, String)>,
}

impl Launch {
    /// A new workflow from its plan; its records are written by the first commit.
    pub(crate) fn fresh(id: Arc<str>, plan: Plan, record: WorkflowRecord) -> Result<Launch> {
        let mut initial = Batch::new();
        for (step, record) in plan.steps.iter().enumerate() {
            initial.put(STEPS, step_key(&id, step as u32), encode(record)?);
        }
        ObjectSpace::own(&mut initial, &id, &plan.refs);
        if parse_call_id(&id).is_none() {
            initial.put(CREATED, created_key(record.created_us, &id), []);
        }
        let count = plan.steps.len();
        Ok(Launch {
            id,
            record,
            steps: plan.steps,
            tasks: plan.tasks,
            results: vec![None; count],
            attempts: vec![None; count],
            initial,
            submitted: None,
            offered: Vec::new(),
            failed: Vec::new(),
        })
    }

    /// A stored workflow, read back from the store; every step's task must be registered with
    /// the same version and signature.
    pub(crate) async fn load(
        store: &dyn Storage,
        registry: &Registry,
        id: Arc<str>,
        record: WorkflowRecord,
    ) -> Result<Launch> {
        let prefix = workflow_prefix(&id);
        let count = record.step_count as usize;
        let mut steps = Vec::with_capacity(count);
        let mut tasks = Vec::with_capacity(count);
        for (key, bytes) in store.scan_prefix(STEPS, &prefix).await? {
            let step: StepRecord = decode(STEPS, &key, &bytes)?;
            if step_of_key(prefix.len(), &key) != Some(steps.len() as u32) {
                return Err(corrupt(
                    STEPS.name(),
                    &key,
                    "steps are not numbered in order",
                ));
            }
            if step
                .parent
                .is_some_and(|parent| parent as usize >= steps.len())
            {
                return Err(corrupt(
                    STEPS.name(),
                    &key,
                    "its parent step does not come before it",
                ));
            }
            tasks.push(check_task(registry, &step)?);
            steps.push(step);
        }
        if count == 0 || steps.len() != count || record.root as usize >= count {
            return Err(corrupt(
                WORKFLOWS.name(),
                id.as_bytes(),
                &format!("{} steps stored, {count} expected", steps.len()),
            ));
        }
        // Offers first, notices last: a step whose run elsewhere is durable shows in its
        // result or its notice, and one still out is on offer.
        let on_offer = match store.fleet() {
            Some(fleet) => fleet.offered_steps(&id).await?,
            None => Vec::new(),
        };
        let mut results = vec![None; count];
        for (key, bytes) in store.scan_prefix(RESULTS, &prefix).await? {
            let step = stored_step(prefix.len(), &key, count, RESULTS.name())?;
            let result: ResultRecord = decode(RESULTS, &key, &bytes)?;
            results[step] = Some(match result.outcome {
                StepOutcome::Value { bytes, .. } => StepResult::Value(bytes.into()),
                StepOutcome::Caught(error) => StepResult::Caught(error),
                StepOutcome::Continued { root } => StepResult::Continued(root),
            });
        }
        let mut attempts = vec![None; count];
        for (key, bytes) in store.scan_prefix(ATTEMPTS, &prefix).await? {
            let step = stored_step(prefix.len(), &key, count, ATTEMPTS.name())?;
            attempts[step] = Some(decode(ATTEMPTS, &key, &bytes)?);
        }
        let mut initial = Batch::new();
        let (offered, failed) =
            adopt_offers(store, &id, on_offer, &mut results, &mut initial).await?;
        Ok(Launch {
            id,
            record,
            steps,
            tasks,
            results,
            attempts,
            initial,
            submitted: None,
            offered,
            failed,
        })
    }
}

/// On a fleet, sorts out the steps of workflow `id` that an earlier run offered (`on_offer`,
/// read before `results`): those that ran elsewhere are settled (from their notice if their
/// result was committed after `results` was read), those whose attempt failed are returned
/// to be taken in as failures, and the others are still out. The offers that ended are
/// withdrawn, and their notices deleted by `initial`.
async fn adopt_offers(
    store: &dyn Storage,
    id: &str,
    on_offer: Vec<u32>,
    results: &mut [Option<StepResult>],
    initial: &mut Batch,
) -> Result<(Vec<u32>, Vec<(u32, FailureKind, String)>)> {
    let Some(fleet) = store.fleet() else {
        return Ok((Vec::new(), Vec::new()));
    };
    let prefix = workflow_prefix(id);
    let mut ended = Vec::new();
    let mut failed = Vec::new();
    for (key, bytes) in store.scan_prefix(NOTICES, &prefix).await? {
        let step = stored_step(prefix.len(), &key, results.len(), NOTICES.name())?;
        match decode(NOTICES, &key, &bytes)? {
            Notice::Value(value) => {
                results[step].get_or_insert(StepResult::Value(value.into()));
            }
            Notice::Failed { kind, message } | Notice::FailedAttempt { kind, message, .. }
                if results[step].is_none() =>
            {
                failed.push((step as u32, kind, message));
            }
            Notice::Failed { .. } | Notice::FailedAttempt { .. } => {}
        }
        ended.push(step as u32);
        initial.delete(NOTICES, key);
    }
    let mut out = Vec::new();
    for step in on_offer {
        let settled = results.get(step as usize).is_none_or(Option::is_some);
        if settled || ended.contains(&step) {
            ended.push(step);
        } else {
            out.push(step);
        }
    }
    fleet.withdraw_offers(id, Some(&ended)).await?;
    Ok((out, failed))
}

/// Reads a workflow's head record.
pub(crate) async fn read_record(store: &dyn Storage, id: &str) -> Result<Option<WorkflowRecord>> {
    match store.get(WORKFLOWS, id.as_bytes()).await? {
        None => Ok(None),
        Some(bytes) => Ok(Some(decode(WORKFLOWS, id.as_bytes(), &bytes)?)),
    }
}

pub(crate) fn check_task(registry: &Registry, step: &StepRecord) -> Result<TaskRegistration> {
    let task = match registry.lookup(&step.task) {
        Lookup::Found(task) => task,
        Lookup::Ambiguous => {
            return Err(Error::DuplicateTask {
                name: step.task.clone(),
            })
        }
        Lookup::Missing => {
            return Err(Error::IncompatibleTask {
                task: step.task.clone(),
                reason: format!(
                    "no task of that name is linked into this program (stored version {})",
                    step.version
                ),
            })
        }
    };
    if task.version != step.version {
        return Err(Error::IncompatibleTask {
            task: step.task.clone(),
            reason: format!(
                "stored version {}, this program has version {}",
                step.version, task.version
            ),
        });
    }
    if task.signature != step.signature {
        return Err(Error::IncompatibleTask {
            task: step.task.clone(),
            reason: format!(
                "its argument or output types changed (version {} in both; bump the version when the signature changes)",
                step.version
            ),
        });
    }
    Ok(*task)
}

fn stored_step(
    prefix_len: usize,
    key: &[u8],
    count: usize,
    keyspace: &'static str,
) -> Result<usize> {
    match step_of_key(prefix_len, key) {
        Some(step) if (step as usize) < count => Ok(step as usize),
        _ => Err(corrupt(
            keyspace,
            key,
            "the key names no step of its workflow",
        )),
    }
}

fn corrupt(keyspace: &'static str, key: &[u8], reason: &str) -> Error {
    Error::Corrupt {
        keyspace,
        key: workflow_storage::render_key(key),
        reason: reason.to_string(),
    }
}
