//! Procedural macros of [`workflow`](https://docs.rs/workflow). Use them through the
//! `workflow` crate (`use workflow::prelude::*;`), whose documentation shows them in action:
//! the code they generate names only `::workflow::__private`, so they do not work without it.

#![warn(missing_docs)]

mod errors;
mod event_listener;
mod name_option;
mod task;
mod virtual_actor;

use proc_macro::TokenStream;

/// Makes a function a durable task: `#[task] fn add(a: i64, b: i64) -> i64`.
///
/// The function stays callable as written. Next to it, a type of the same name (an enum
/// without variants, so `add(1, 2)` still calls the function) gets `add::bind(a, b)`, which
/// builds a `Dag<i64>` node whose arguments are values or the nodes of other tasks, and the
/// task is registered under its durable name so that a new process can resume stored
/// workflows that use it. The type has the function's visibility.
///
/// ```text
/// #[task(
///     name = "billing.charge",   // durable name; default: module path + function name
///     version = 2,               // default 1
///     max_retries = 5,           // retries after the first attempt; default 3
///     retry_errors = true,       // retry `Err` too, not only panics; default false
///     retry_backoff = "100ms",   // first delay, doubled per retry; default none
///     checkpoint = false,        // keep the output in memory only; default true
///     timeout = "30s",           // per attempt; default none
///     blocking,                  // sync tasks only: run on the blocking pool; default false
/// )]
/// async fn charge(order: Order) -> Result<Receipt, PayError> { .. }
/// ```
///
/// Durations are humantime strings (`"100ms"`, `"30s"`, `"1m 30s"`), checked at compile time.
///
/// Arguments and the output must be owned, serde-able types (`String`, not `&str`); a
/// `Result<T, E>` return (any path ending in `Result`) makes `T` the output and an `Err` a
/// task failure. The function must be a free, non-generic function (not in an `impl` block),
/// and can be declared anywhere else a function can: in a module, or inside a function body
/// such as `main` or a `#[test]`. Its signature's types resolve where it is declared, so they can be types
/// declared in the same function body. See the `workflow` crate's documentation for examples.
#[proc_macro_attribute]
pub fn task(attr: TokenStream, item: TokenStream) -> TokenStream {
    task::expand(attr.into(), item.into()).into()
}

/// Makes an `impl EventListener for T` a listener that workflows can wait for durably.
///
/// It applies `async_trait` to the impl, so its methods are written as `async fn`, and
/// registers `T` under a durable name, so that a process which never built the DAG can resume
/// a workflow waiting on it: by default the module path and the type name, or the one given as
/// `#[event_listener(name = "orders.listener")]`. The impl must be for a concrete, named type
/// (a listener cannot be generic). See `workflow::EventListener` for an example.
#[proc_macro_attribute]
pub fn event_listener(attr: TokenStream, item: TokenStream) -> TokenStream {
    event_listener::expand(attr.into(), item.into()).into()
}

/// Makes an `impl` block a durable virtual actor: `#[virtual_actor] impl Counter { .. }`.
///
/// The type must derive serde's `Serialize` and `Deserialize`: it is the actor's state. The
/// impl needs `fn new(..) -> Self`, run once when an actor is created. Methods taking
/// `&mut self` are writers: calls on one actor run one at a time in arrival order, and each
/// commits the new state with its output. Methods taking `&self` are read-only and run at
/// once on the last committed state. Methods may be `async` and return `T`, `Result<T, E>`
/// or `Flow<T>`; functions without `self` other than `new` are left as they are.
///
/// Beside the impl it generates `Counter::get_or_create(&engine, id, new's args..)`,
/// `Counter::get_actor(&engine, id)` and their handle type `CounterHandle` (with the
/// visibility of `new`), whose methods mirror the actor's and return a `workflow::ActorCall`
/// to `.run().await` or `.spawn().await`. The actor type is stored under a durable name:
/// module path and type name, or `#[virtual_actor(name = "bank.account")]`. See
/// `workflow::ActorCall` for an example.
#[proc_macro_attribute]
pub fn virtual_actor(attr: TokenStream, item: TokenStream) -> TokenStream {
    virtual_actor::expand(attr.into(), item.into()).into()
}
