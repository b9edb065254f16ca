//! The value types of registered tasks, by fingerprint: what lets a program that only holds
//! encoded bytes (an output, an event sent from the command line) read or write them as JSON.

use std::{collections::HashMap, sync::OnceLock};

use crate::{
    registry::TaskRegistration,
    value::{decode_value, encode_value, fingerprint, short_type_name},
    Error, Result, TaskValue,
};

/// One value type: its fingerprint, its name, and its JSON conversions.
///
/// `#[task]` registers one for each of its argument types and its output type.
#[derive(Clone, Copy)]
pub struct ValueType {
    fingerprint: fn() -> u64,
    type_name: fn() -> String,
    to_json: fn(&[u8]) -> Result<serde_json::Value>,
    from_json: fn(serde_json::Value) -> Result<Vec<u8>>,
}

impl ValueType {
    /// The value type `T`.
    pub const fn of<T: TaskValue>() -> ValueType {
        ValueType {
            fingerprint: fingerprint::<T>,
            type_name: short_type_name::<T>,
            to_json: to_json::<T>,
            from_json: from_json::<T>,
        }
    }

    /// The name of the type, without module paths.
    pub(crate) fn name(&self) -> String {
        (self.type_name)()
    }

    /// Decodes a stored value of this type into JSON.
    pub(crate) fn decode_json(&self, bytes: &[u8]) -> Result<serde_json::Value> {
        (self.to_json)(bytes)
    }

    /// Encodes a JSON value as a value of this type.
    pub(crate) fn encode_json(&self, json: serde_json::Value) -> Result<Vec<u8>> {
        (self.from_json)(json)
    }

    /// The value type with fingerprint `fingerprint` among those of the tasks linked into
    /// this program.
    pub(crate) fn find(fingerprint: u64) -> Option<ValueType> {
        static TYPES: OnceLock<HashMap<u64, ValueType>> = OnceLock::new();
        TYPES
            .get_or_init(|| {
                inventory::iter::<TaskRegistration>
                    .into_iter()
                    .flat_map(|task| task.value_types.iter())
                    .map(|value_type| ((value_type.fingerprint)(), *value_type))
                    .collect()
            })
            .get(&fingerprint)
            .copied()
    }

    /// The state type of the actors named `actor_type` (an actor's durable type name), among
    /// the actors linked into this program.
    pub(crate) fn of_actor(actor_type: &str) -> Option<ValueType> {
        inventory::iter::<TaskRegistration>
            .into_iter()
            .filter_map(|task| task.actor_state)
            .find(|(name, _)| *name == actor_type)
            .map(|(_, state)| state)
    }

    /// The value type with fingerprint `fingerprint`, or an error that names `type_name` and
    /// says how to make it known.
    pub(crate) fn require(fingerprint: u64, type_name: &str) -> Result<ValueType> {
        ValueType::find(fingerprint).ok_or_else(|| Error::Codec {
            message: format!(
                "no task linked into this program takes or returns a `{type_name}`, so it \
                 cannot be converted to or from JSON here; link the crate whose tasks use it"
            ),
        })
    }
}

impl std::fmt::Debug for ValueType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ValueType").field(&self.name()).finish()
    }
}

fn to_json<T: TaskValue>(bytes: &[u8]) -> Result<serde_json::Value> {
    let value: T = decode_value(bytes, &short_type_name::<T>())?;
    serde_json::to_value(&value).map_err(|error| Error::Codec {
        message: format!(
            "a `{}` cannot be shown as JSON: {error}",
            short_type_name::<T>()
        ),
    })
}

fn from_json<T: TaskValue>(json: serde_json::Value) -> Result<Vec<u8>> {
    let value: T = serde_json::from_value(json).map_err(|error| Error::Codec {
        message: format!("the JSON is not a `{}`: {error}", short_type_name::<T>()),
    })?;
    encode_value(&value)
}
