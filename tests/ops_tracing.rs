//! Tracing: a span per workflow run and per task attempt, and events for retries, failures,
//! checkpoints and cancellation, seen by a subscriber that collects them.

mod support;

use std::{
    collections::HashMap,
    sync::{Mutex, OnceLock},
    time::Duration,
};

use support::{gated, hit, open_gate};
use tracing::{
    field::{Field, Visit},
    span::{Attributes, Id},
    Event, Subscriber,
};
use tracing_subscriber::{layer::Context, prelude::*, registry::LookupSpan, Layer};
use workflow::prelude::*;

/// A span as the collector saw it open.
#[derive(Clone, Debug)]
struct SpanSeen {
    name: &'static str,
    fields: HashMap<String, String>,
    parent: Option<u64>,
}

/// An event, with the span it happened in.
#[derive(Clone, Debug)]
struct EventSeen {
    level: tracing::Level,
    fields: HashMap<String, String>,
    span: Option<u64>,
}

#[derive(Default)]
struct Seen {
    spans: HashMap<u64, SpanSeen>,
    events: Vec<EventSeen>,
}

fn seen() -> &'static Mutex<Seen> {
    static SEEN: OnceLock<Mutex<Seen>> = OnceLock::new();
    SEEN.get_or_init(|| {
        tracing_subscriber::registry().with(Collector).init();
        Default::default()
    })
}

struct Collector;

#[derive(Default)]
struct Fields(HashMap<String, String>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(
            field.name().to_string(),
            format!("{value:?}").trim_matches('"').to_string(),
        );
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Collector {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let parent = ctx
            .span(id)
            .and_then(|span| span.parent().map(|parent| parent.id().into_u64()));
        seen().lock().unwrap().spans.insert(
            id.into_u64(),
            SpanSeen {
                name: attrs.metadata().name(),
                fields: fields.0,
                parent,
            },
        );
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let span = ctx.event_span(event).map(|span| span.id().into_u64());
        seen().lock().unwrap().events.push(EventSeen {
            level: *event.metadata().level(),
            fields: fields.0,
            span,
        });
    }
}

/// The id of the `workflow` span of workflow `id` (the latest, if it ran more than once).
fn workflow_span(id: &str) -> u64 {
    let seen = seen().lock().unwrap();
    seen.spans
        .iter()
        .filter(|(_, span)| {
            span.name == "workflow"
                && span.fields.get("workflow.id").map(String::as_str) == Some(id)
        })
        .map(|(&span, _)| span)
        .max()
        .unwrap_or_else(|| panic!("no span for workflow {id}"))
}

fn task_spans(workflow: u64) -> Vec<SpanSeen> {
    let seen = seen().lock().unwrap();
    seen.spans
        .values()
        .filter(|span| span.name == "task" && span.parent == Some(workflow))
        .cloned()
        .collect()
}

fn events_in(workflow: u64, message: &str) -> Vec<EventSeen> {
    let seen = seen().lock().unwrap();
    seen.events
        .iter()
        .filter(|event| {
            event.fields.get("message").map(String::as_str) == Some(message)
                && event.span.is_some_and(|span| {
                    span == workflow
                        || seen.spans.get(&span).and_then(|s| s.parent) == Some(workflow)
                })
        })
        .cloned()
        .collect()
}

/// Waits until workflow span `workflow` holds an event `message`.
async fn wait_event(workflow: u64, message: &str) -> Vec<EventSeen> {
    for _ in 0..1000 {
        let events = events_in(workflow, message);
        if !events.is_empty() {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("no event `{message}`")
}

#[task]
fn one() -> i64 {
    1
}

#[task]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[task(max_retries = 2, retry_errors = true)]
fn flaky(key: String) -> Result<i64, String> {
    if hit(&key) < 2 {
        Err("not yet".to_string())
    } else {
        Ok(10)
    }
}

#[task]
fn broken() -> Result<i64, String> {
    Err("always".to_string())
}

#[tokio::test]
async fn spans_form_a_tree_of_the_workflow_and_its_task_attempts() -> workflow::Result<()> {
    seen();
    let engine = Engine::temporary().await?;
    let dag = add::bind(
        add::bind(one::bind(), one::bind()),
        flaky::bind("trace_flaky".to_string()),
    );
    assert_eq!(engine.run("traced", dag).await?, 12);

    let workflow = workflow_span("traced");
    let tasks = task_spans(workflow);
    let attempts = |task_id: &str| -> Vec<String> {
        let mut attempts: Vec<String> = tasks
            .iter()
            .filter(|span| span.fields["task.id"] == task_id)
            .map(|span| span.fields["attempt"].clone())
            .collect();
        attempts.sort();
        attempts
    };
    assert_eq!(attempts("one"), ["1"]);
    assert_eq!(attempts("one_1"), ["1"]);
    assert_eq!(attempts("add"), ["1"]);
    assert_eq!(attempts("add_1"), ["1"]);
    // The flaky task failed once: two attempts, each its own span.
    assert_eq!(attempts("flaky"), ["1", "2"]);
    assert_eq!(tasks.len(), 6);
    assert!(tasks
        .iter()
        .all(|span| span.fields["workflow.id"] == "traced"));
    assert!(tasks
        .iter()
        .any(|span| span.fields["task.name"].ends_with("flaky")));

    let retries = events_in(workflow, "task attempt failed, retrying");
    assert_eq!(retries.len(), 1);
    assert_eq!(retries[0].fields["task.id"], "flaky");
    assert_eq!(retries[0].fields["error"], "not yet");
    assert_eq!(retries[0].level, tracing::Level::INFO);
    let checkpoints = events_in(workflow, "task checkpointed");
    assert_eq!(checkpoints.len(), 5, "{checkpoints:?}");
    let ended = events_in(workflow, "workflow run ended");
    assert_eq!(ended[0].fields["outcome"], "Successful");
    Ok(())
}

#[tokio::test]
async fn failures_and_cancellations_are_events_of_their_workflow() -> workflow::Result<()> {
    seen();
    let engine = Engine::temporary().await?;
    assert!(engine.run("trace_failing", broken::bind()).await.is_err());
    let workflow = workflow_span("trace_failing");
    let failed = events_in(workflow, "task failed; the workflow fails");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].level, tracing::Level::WARN);
    assert_eq!(failed[0].fields["task.id"], "broken");
    assert_eq!(
        events_in(workflow, "workflow run ended")[0].fields["outcome"],
        "Failed"
    );

    engine
        .spawn("trace_canceled", gated::bind("trace_gate".to_string(), 1))
        .await?;
    tokio::time::sleep(Duration::from_millis(20)).await;
    engine.cancel("trace_canceled").await?;
    let workflow = workflow_span("trace_canceled");
    assert_eq!(
        wait_event(workflow, "workflow run ended").await[0].fields["outcome"],
        "Canceled"
    );
    assert_eq!(events_in(workflow, "workflow canceled").len(), 1);
    open_gate("trace_gate");
    Ok(())
}
