//! Events against real crashes: the child process is killed with SIGKILL at a bad moment and
//! a new process resumes the workflow.

mod support;

use serde::{Deserialize, Serialize};
use support::crash::{child_runs, hang_in_child, is_child, record_run, run_counts, Scenario};
use workflow::prelude::*;

/// Polls once (recording it), and hangs in the child while acknowledging.
#[derive(Serialize, Deserialize)]
struct Acknowledged {
    runs: String,
}

#[event_listener]
impl EventListener for Acknowledged {
    type Event = u64;

    async fn poll_for_event(&self) -> workflow::Result<u64> {
        record_run(&self.runs, "poll");
        Ok(41)
    }

    async fn event_checkpointed(&self, event: &u64) -> workflow::Result<()> {
        record_run(&self.runs, &format!("ack-{event}"));
        hang_in_child();
        Ok(())
    }
}

#[task]
fn after_event(runs: String, event: u64) -> u64 {
    record_run(&runs, "after");
    event + 1
}

fn acknowledged(runs: &str) -> Dag<u64> {
    let event = workflow::wait_for_event(Acknowledged {
        runs: runs.to_string(),
    });
    after_event::bind(runs, event)
}

#[tokio::test(flavor = "multi_thread")]
async fn crash_between_event_checkpoint_and_acknowledgement() -> workflow::Result<()> {
    if is_child() {
        child_runs("acknowledged", acknowledged).await;
    }
    let scenario = Scenario::new();
    let mut child =
        scenario.spawn_child("crash_between_event_checkpoint_and_acknowledgement", "sync");
    // The acknowledgement starts only once the event is checkpointed.
    scenario.wait_for(|counts| counts.contains_key("ack-41"));
    child.kill().unwrap();
    child.wait().unwrap();

    let engine = Engine::open(&scenario.store).await?;
    assert_eq!(
        engine.status("acknowledged").await?,
        WorkflowStatus::Resumable
    );
    assert_eq!(engine.resume::<u64>("acknowledged").await?, 42);
    let counts = run_counts(&scenario.runs);
    assert_eq!(
        counts["poll"], 1,
        "the checkpointed event is not polled again: {counts:?}"
    );
    assert_eq!(
        counts["ack-41"], 2,
        "the acknowledgement runs again: {counts:?}"
    );
    assert_eq!(counts["after"], 1, "{counts:?}");
    engine.close().await
}
