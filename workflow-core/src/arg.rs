//! What a task argument accepts: a value, another node's output, or a list of nodes.

use std::sync::Arc;

use crate::{
    dag::{Dag, Node},
    value::encode_value,
    TaskValue,
};

/// One input of a node before lowering.
#[derive(Clone)]
pub enum Input {
    /// A value given at bind time, postcard-encoded.
    Value(Arc<[u8]>),
    /// The output of another node.
    Node(Arc<Node>),
    /// A `Vec<T>` argument assembled from the outputs of several nodes.
    List(Vec<Input>),
    /// A value that could not be encoded: reported when the workflow is submitted.
    Invalid(String),
}

/// A value that can be passed as a task argument of type `T`.
///
/// Implemented for `T` itself, for [`Dag<T>`] (the output of another task), for `&str` when
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

fn encoded<T: serde::Serialize + ?Sized>(value: &T) -> Input {
    match encode_value(value) {
        Ok(bytes) => Input::Value(bytes.into()),
        Err(error) => Input::Invalid(error.to_string()),
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
