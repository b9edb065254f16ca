//! The link-time registry of tasks, so that a new process finds a stored step's code by name.

use std::{
    collections::HashMap,
    sync::{Arc, OnceLock},
};

use crate::{
    dag::Node,
    object::{collect_refs, ObjectId},
    task::{BoxFuture, Invocation, OutcomeKind, Task, TaskOptions},
    value::{decode_value, encode_value, fingerprint, short_type_name},
    value_type::ValueType,
    Result, TaskValue,
};

/// One task's entry in the registry: its durable identity and a type-erased runner.
///
/// `#[task]` submits one per function with `inventory`; a `Dag` node holds a copy.
#[derive(Clone, Copy)]
pub struct TaskRegistration {
    pub(crate) name: &'static str,
    pub(crate) function: &'static str,
    pub(crate) version: u32,
    pub(crate) signature: u64,
    pub(crate) options: TaskOptions,
    pub(crate) start: fn(&[u8]) -> Result<ErasedInvocation>,
    pub(crate) output_type: fn() -> String,
    pub(crate) output_fingerprint: fn() -> u64,
    /// Whether the task only waits (a sleep or an event): a workflow whose running steps all
    /// wait gives its running slot back.
    pub(crate) waits: bool,
    /// For a sleep: its duration in milliseconds, read from its encoded arguments, so that
    /// its deadline can be indexed.
    pub(crate) timer_millis: Option<TimerMillis>,
    /// Whether its steps run only on the worker that runs their workflow, never on another
    /// worker of a fleet: a task that may continue (its continuation extends the workflow's
    /// step table), an actor's method, an event listener's acknowledgement.
    pub(crate) stays_local: bool,
    /// The types of its arguments and output, for JSON.
    pub(crate) value_types: &'static [ValueType],
    /// For an actor's method: the actor's durable name and its state's type, for JSON.
    pub(crate) actor_state: Option<(&'static str, ValueType)>,
}

impl std::fmt::Debug for TaskRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskRegistration")
            .field("name", &self.name)
            .field("version", &self.version)
            .field("signature", &self.signature)
            .finish_non_exhaustive()
    }
}

impl TaskRegistration {
    /// The registration of task `M`.
    pub const fn of<M: Task>() -> Self {
        TaskRegistration {
            name: M::NAME,
            function: M::FUNCTION,
            version: M::VERSION,
            signature: M::SIGNATURE,
            options: M::OPTIONS,
            start: start_erased::<M>,
            output_type: short_type_name::<M::Output>,
            output_fingerprint: fingerprint::<M::Output>,
            waits: false,
            timer_millis: None,
            stays_local: M::CONTINUES,
            value_types: &[],
            actor_state: None,
        }
    }

    /// This registration, with the types of its arguments and output, which lets their
    /// values be read and written as JSON (outputs shown by the command line, events sent
    /// from it).
    pub const fn with_value_types(self, value_types: &'static [ValueType]) -> Self {
        TaskRegistration {
            value_types,
            ..self
        }
    }

    /// This registration, for a method of the actor named `name` whose state is `state`.
    pub(crate) const fn with_actor_state(self, name: &'static str, state: ValueType) -> Self {
        TaskRegistration {
            actor_state: Some((name, state)),
            ..self
        }
    }

    /// This registration with output `T`: for a step whose registration serves every output
    /// type (found by name on resume, with the type read from each stored step).
    pub(crate) fn with_output<T: TaskValue>(self) -> Self {
        TaskRegistration {
            output_type: short_type_name::<T>,
            output_fingerprint: fingerprint::<T>,
            ..self
        }
    }

    /// This registration, for a task whose steps run only on their workflow's worker.
    pub(crate) const fn local(self) -> Self {
        TaskRegistration {
            stays_local: true,
            ..self
        }
    }

    /// This registration, for a task that only waits.
    pub(crate) const fn waiting(self) -> Self {
        TaskRegistration {
            waits: true,
            ..self
        }
    }
}

inventory::collect!(TaskRegistration);

/// The output fingerprint of a registration that serves every output type: none.
pub(crate) fn any_fingerprint() -> u64 {
    0
}

/// Reads a sleep's duration in milliseconds from its encoded arguments.
pub(crate) type TimerMillis = fn(&[u8]) -> Option<u64>;

/// A started attempt whose output is already encoded.
pub(crate) enum ErasedInvocation {
    Sync(Box<dyn FnOnce() -> ErasedOutcome + Send + 'static>),
    Async(BoxFuture<ErasedOutcome>),
}

/// An attempt's result: the encoded output, or why it failed.
pub(crate) enum ErasedOutcome {
    /// The encoded output and the objects it refers to.
    Value(Vec<u8>, Vec<ObjectId>),
    Continue(Arc<Node>),
    Failed(String),
    Unencodable(String),
    /// A value a waiting step was given from outside (an external event, an actor call's
    /// output): its encoding, its type's fingerprint (the step's registration, shared by
    /// every type, does not know it), and the key of an event record that the checkpoint
    /// storing it removes.
    Delivered {
        bytes: Vec<u8>,
        fingerprint: u64,
        consumed: Option<Vec<u8>>,
    },
}

fn start_erased<M: Task>(args: &[u8]) -> Result<ErasedInvocation> {
    let args: M::Args = decode_value(args, M::NAME)?;
    Ok(match M::invoke(args) {
        Invocation::Sync(body) => ErasedInvocation::Sync(Box::new(move || erase(body().kind))),
        Invocation::Async(future) => {
            ErasedInvocation::Async(Box::pin(async move { erase(future.await.kind) }))
        }
    })
}

fn erase<T: serde::Serialize>(kind: OutcomeKind<T>) -> ErasedOutcome {
    match kind {
        OutcomeKind::Value(value) => match collect_refs(|| encode_value(&value)) {
            (Ok(bytes), refs) => ErasedOutcome::Value(bytes, refs),
            (Err(error), _) => ErasedOutcome::Unencodable(error.to_string()),
        },
        OutcomeKind::Failed(message) => ErasedOutcome::Failed(message),
        OutcomeKind::Continue(node) => ErasedOutcome::Continue(node),
    }
}

/// Every task linked into this program, by durable name.
pub(crate) struct Registry {
    /// `None` marks a name that two tasks share: neither can be found by it.
    by_name: HashMap<&'static str, Option<TaskRegistration>>,
}

/// What the registry knows of a durable name.
pub(crate) enum Lookup<'a> {
    Found(&'a TaskRegistration),
    Missing,
    Ambiguous,
}

impl Registry {
    /// The process-wide registry, built once from `inventory`.
    pub(crate) fn global() -> &'static Registry {
        static REGISTRY: OnceLock<Registry> = OnceLock::new();
        REGISTRY.get_or_init(|| {
            let mut by_name = HashMap::new();
            for task in inventory::iter::<TaskRegistration> {
                by_name
                    .entry(task.name)
                    .and_modify(|entry| *entry = None)
                    .or_insert(Some(*task));
            }
            Registry { by_name }
        })
    }

    pub(crate) fn lookup(&self, name: &str) -> Lookup<'_> {
        match self.by_name.get(name) {
            Some(Some(task)) => Lookup::Found(task),
            Some(None) => Lookup::Ambiguous,
            None => Lookup::Missing,
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&TaskRegistration> {
        match self.lookup(name) {
            Lookup::Found(task) => Some(task),
            Lookup::Missing | Lookup::Ambiguous => None,
        }
    }
}
