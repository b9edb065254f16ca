//! What a task argument accepts: a value, another node's output, or a list of nodes.

use std::sync::Arc;

use crate::{
    dag::{Dag, Node},
    object::{collect_refs, ObjectId, ObjectRef},
    value::{encode_value, fingerprint},
    TaskValue,
};

/// One input of a node before lowering.
#[derive(Clone)]
pub enum Input {
    /// A value given at bind time, postcard-encoded, and the objects it refers to.
    Value(Arc<[u8]>, Vec<ObjectId>),
    /// An object passed as an argument of its value's type, with that type's fingerprint.
    Object(ObjectId, u64),
    /// The object another node outputs a reference to, passed as its value.
    NodeObject(Arc<Node>, u64),
    /// The output of another node.
    Node(Arc<Node>),
    /// A `Vec<T>` argument assembled from the outputs of several nodes.
    List(Vec<Input>),
    /// A value that could not be encoded: reported when the workflow is submitted.
    Invalid(String),
}

/// A value that can be passed as a task argument of type `T`.
///
/// Implemented for `T` itself, for [`Dag<T>`] (the output of another task), for
/// [`ObjectRef<T>`] and `Dag<ObjectRef<T>>` (the object's value is passed), for `&str` when
/// `T` is `String`, and for `Vec<Dag<T>>` when the argument is a `Vec<T>` (fan-in).
///
/// # Examples
///
/// ```
/// use workflow::prelude::*;
///
/// #[task]
/// fn one() -> i64 { 1 }
///
/// #[task]
/// fn add(a: i64, b: i64) -> i64 { a + b }
///
/// #[task]
/// fn total(values: Vec<i64>) -> i64 { values.into_iter().sum() }
///
/// let _sum: Dag<i64> = add::bind(100, one::bind());
/// let _all: Dag<i64> = total::bind(vec![one::bind(), add::bind(1, 2)]);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an argument of type `{T}`",
    label = "expected `{T}`, a `Dag<{T}>` or an `ObjectRef<{T}>`",
    note = "a task argument takes a value of its own type or the output of another task"
)]
pub trait IntoArg<T> {
    /// Turns the argument into a node input.
    #[doc(hidden)]
    fn into_input(self) -> Input;
}

pub(crate) fn encoded<T: serde::Serialize + ?Sized>(value: &T) -> Input {
    match collect_refs(|| encode_value(value)) {
        (Ok(bytes), refs) => Input::Value(bytes.into(), refs),
        (Err(error), _) => Input::Invalid(error.to_string()),
    }
}

impl<T: TaskValue> IntoArg<T> for T {
    fn into_input(self) -> Input {
        encoded(&self)
    }
}

impl<T: TaskValue> IntoArg<T> for Dag<T> {
    fn into_input(self) -> Input {
        Input::Node(self.into_node())
    }
}

impl<T: TaskValue> IntoArg<T> for &Dag<T> {
    fn into_input(self) -> Input {
        Input::Node(self.node().clone())
    }
}

impl<T: TaskValue> IntoArg<T> for ObjectRef<T> {
    fn into_input(self) -> Input {
        Input::Object(self.id(), fingerprint::<T>())
    }
}

impl<T: TaskValue> IntoArg<T> for &ObjectRef<T> {
    fn into_input(self) -> Input {
        Input::Object(self.id(), fingerprint::<T>())
    }
}

impl<T: TaskValue> IntoArg<T> for Dag<ObjectRef<T>> {
    fn into_input(self) -> Input {
        Input::NodeObject(self.into_node(), fingerprint::<T>())
    }
}

impl IntoArg<String> for &str {
    fn into_input(self) -> Input {
        encoded(&self)
    }
}

impl<T: TaskValue> IntoArg<Vec<T>> for Vec<Dag<T>> {
    fn into_input(self) -> Input {
        Input::List(
            self.into_iter()
                .map(|dag| Input::Node(dag.into_node()))
                .collect(),
        )
    }
}
