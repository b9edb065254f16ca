//! Metrics through the `metrics` facade: task counters, checkpoint latency, queue depth.
//!
//! One test: the recorder is global to this process.

mod support;

use std::collections::HashMap;

use metrics::{SharedString, Unit};
use metrics_util::{
    debugging::{DebugValue, DebuggingRecorder},
    CompositeKey, MetricKind,
};
use support::hit;
use workflow::prelude::*;

#[task]
fn one() -> i64 {
    1
}

#[task]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[task(max_retries = 1, retry_errors = true)]
fn flaky() -> Result<i64, String> {
    if hit("metrics_flaky") < 2 {
        Err("not yet".to_string())
    } else {
        Ok(5)
    }
}

#[task]
fn broken() -> Result<i64, String> {
    Err("always".to_string())
}

/// One reading of every metric (reading resets the counters and histograms).
type Snapshot = HashMap<CompositeKey, (Option<Unit>, Option<SharedString>, DebugValue)>;

/// The value of counter `name` (summed over its labels), 0 if never recorded.
fn counter(snapshot: &Snapshot, name: &str) -> u64 {
    snapshot
        .iter()
        .filter(|(key, _)| key.kind() == MetricKind::Counter && key.key().name() == name)
        .map(|(_, (.., value))| match value {
            DebugValue::Counter(value) => *value,
            _ => 0,
        })
        .sum()
}

#[tokio::test]
async fn engine_records_task_counters_checkpoint_latency_and_gauges() -> workflow::Result<()> {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder
        .install()
        .expect("the only recorder of this process");

    let engine = Engine::temporary().await?;
    let dag = add::bind(add::bind(one::bind(), one::bind()), flaky::bind());
    assert_eq!(engine.run("counted", dag).await?, 7);
    assert!(engine.run("failing", broken::bind()).await.is_err());

    let snapshot = snapshotter.snapshot().into_hashmap();
    // 5 tasks started once, `flaky` once more, `broken` once.
    assert_eq!(counter(&snapshot, workflow::metrics::TASKS_STARTED), 7);
    assert_eq!(counter(&snapshot, workflow::metrics::TASKS_SUCCEEDED), 5);
    assert_eq!(counter(&snapshot, workflow::metrics::TASKS_RETRIED), 1);
    assert_eq!(counter(&snapshot, workflow::metrics::TASKS_FAILED), 1);
    assert_eq!(counter(&snapshot, workflow::metrics::WORKFLOWS_FINISHED), 2);

    let latencies = snapshot
        .iter()
        .find(|(key, _)| key.key().name() == workflow::metrics::CHECKPOINT_SECONDS)
        .map(|(_, (_, _, value))| value)
        .expect("checkpoint latencies");
    match latencies {
        DebugValue::Histogram(samples) => {
            assert!(!samples.is_empty());
            assert!(samples.iter().all(|s| s.0 >= 0.0 && s.0 < 10.0));
        }
        other => panic!("not a histogram: {other:?}"),
    }
    let statuses: Vec<String> = snapshot
        .keys()
        .filter(|key| key.key().name() == workflow::metrics::WORKFLOWS_FINISHED)
        .flat_map(|key| {
            key.key()
                .labels()
                .map(|l| l.value().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(statuses.contains(&"Successful".to_string()), "{statuses:?}");
    assert!(statuses.contains(&"Failed".to_string()), "{statuses:?}");
    let gauges: Vec<&str> = snapshot
        .keys()
        .filter(|key| key.kind() == MetricKind::Gauge)
        .map(|key| key.key().name())
        .collect();
    assert!(
        gauges.contains(&workflow::metrics::QUEUE_DEPTH),
        "{gauges:?}"
    );
    assert!(
        gauges.contains(&workflow::metrics::RUNNING_WORKFLOWS),
        "{gauges:?}"
    );
    Ok(())
}
