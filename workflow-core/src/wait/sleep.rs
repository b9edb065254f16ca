//! `workflow::sleep`: a durable timer, as a step of the DAG.

use std::time::Duration;

use crate::{
    arg::IntoArg,
    context::context,
    dag::bind_registration,
    records::now_us,
    registry::TaskRegistration,
    task::{plain, signature_hash, Invocation, Task, TaskOptions},
    Dag,
};

/// A step that waits for `duration`, counted from the moment it starts.
///
/// Its deadline is durable: the start of the step is stored before it waits, so a workflow
/// resumed after a restart sleeps only for what is left, or not at all once the deadline has
/// passed. Its task id is `sleep` (then `sleep_1`, ...).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use workflow::prelude::*;
///
/// #[task]
/// fn after(_slept: (), text: String) -> String {
///     text
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> workflow::Result<()> {
/// let engine = Engine::temporary().await?;
/// let dag = after::bind(workflow::sleep(Duration::from_millis(20)), "done");
/// assert_eq!(engine.run("nap", dag).await?, "done");
/// # Ok(())
/// # }
/// ```
pub fn sleep(duration: Duration) -> Dag<()> {
    let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    bind_registration(REGISTRATION, vec![IntoArg::<u64>::into_input(millis)])
}

/// The task behind [`sleep`]: registered like any task, so a stored sleep resumes anywhere.
struct Sleep;

impl Task for Sleep {
    type Args = (u64,);
    type Output = ();
    const NAME: &'static str = "workflow::sleep";
    const FUNCTION: &'static str = "sleep";
    const VERSION: u32 = 1;
    const SIGNATURE: u64 = signature_hash("fn(u64) -> ()");
    const OPTIONS: TaskOptions = TaskOptions::DEFAULT;

    fn invoke((millis,): (u64,)) -> Invocation<()> {
        Invocation::Async(Box::pin(async move {
            let started = context().first_start_us;
            let deadline = started.saturating_add(millis.saturating_mul(1_000));
            let left = deadline.saturating_sub(now_us());
            if left > 0 {
                tokio::time::sleep(Duration::from_micros(left)).await;
            }
            plain(())
        }))
    }
}

const REGISTRATION: TaskRegistration = TaskRegistration {
    timer_millis: Some(millis_of),
    ..TaskRegistration::of::<Sleep>().waiting()
};

/// The duration of a sleep, from its encoded arguments.
fn millis_of(args: &[u8]) -> Option<u64> {
    crate::value::decode_value::<(u64,)>(args, "workflow::sleep")
        .ok()
        .map(|(millis,)| millis)
}

inventory::submit! { REGISTRATION }
