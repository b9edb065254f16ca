//! Large graphs: folding of wide fan-outs, and graphs too large to fold that must still draw
//! quickly. Timings are printed (`--nocapture`), never asserted.

use std::time::Instant;

use serde_json::Value;

use super::{attr_values, inside, meta, rect_after, task};
use crate::web::graph::{draw, node_states, Drawing};
use crate::web::state::TaskState;
use crate::WorkflowMetadata;

/// `src`, then `step_0..` (`done` successful, `running` running, `retrying` running again),
/// then `sum` of all steps.
pub(super) fn fan_out(done: usize, running: usize, retrying: usize) -> WorkflowMetadata {
    let mut tasks = vec![task("src", "my_crate::src", "Successful", &[], None)];
    let ids: Vec<String> = (0..done + running + retrying)
        .map(|i| format!("step_{i}"))
        .collect();
    for (i, id) in ids.iter().enumerate() {
        let status = if i < done { "Successful" } else { "Running" };
        let mut step = task(id, "my_crate::step", status, &["src"], None);
        if i >= done + running {
            step["attempts"] = 3.into();
        }
        tasks.push(step);
    }
    let inputs: Vec<&str> = ids.iter().map(String::as_str).collect();
    tasks.push(task("sum", "my_crate::sum", "Waiting", &inputs, None));
    meta("Running", tasks)
}

/// `n` tasks with their own names, each taking one or two earlier tasks as inputs.
pub(super) fn random_dag(n: usize, seed: u64) -> WorkflowMetadata {
    let mut state = seed;
    let mut next = move |below: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize % below.max(1)
    };
    let statuses = ["Successful", "Running", "Waiting", "Failed", "Interrupted"];
    let tasks: Vec<Value> = (0..n)
        .map(|i| {
            let mut inputs = Vec::new();
            if i > 0 {
                inputs.push(format!("t{}", next(i)));
                if i > 3 && next(3) == 0 {
                    inputs.push(format!("t{}", next(i)));
                }
            }
            let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
            task(
                &format!("t{i}"),
                &format!("m::t{i}"),
                statuses[next(5)],
                &inputs,
                None,
            )
        })
        .collect();
    meta("Running", tasks)
}

/// A chain of `n` tasks of one name, each taking the previous.
fn chain(n: usize) -> WorkflowMetadata {
    let tasks = (0..n)
        .map(|i| {
            let input = format!("c{}", i.wrapping_sub(1));
            let inputs: &[&str] = if i == 0 { &[] } else { &[&input] };
            task(&format!("c{i}"), "m::step", "Successful", inputs, None)
        })
        .collect();
    meta("Running", tasks)
}

/// `n` continuations each started by the single task of the one before.
fn nest(n: usize) -> WorkflowMetadata {
    let tasks = (0..n)
        .map(|i| {
            let parent = (i > 0).then(|| format!("k{}", i - 1));
            task(
                &format!("k{i}"),
                "m::again",
                "Continued",
                &[],
                parent.as_deref(),
            )
        })
        .collect();
    meta("Running", tasks)
}

/// Draws `meta`, printing how long drawing and folding alone took.
fn timed(what: &str, meta: &WorkflowMetadata) -> Drawing {
    let start = Instant::now();
    let drawing = draw(meta);
    let drawn = start.elapsed();
    let start = Instant::now();
    let views = node_states(meta);
    let folded = start.elapsed();
    println!(
        "{what}: {} tasks, {} nodes, {} KiB of SVG: draw {drawn:?}, node_states {folded:?}",
        meta.tasks.len(),
        views.len(),
        drawing.svg.len() / 1024
    );
    drawing
}

#[test]
fn a_fan_out_of_ten_thousand_folds_into_one_group() {
    let drawing = timed("fan-out", &fan_out(9_870, 100, 30));
    let ids: Vec<&str> = drawing.nodes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["src", "group:step_0", "sum"]);
    let group = &drawing.nodes[1];
    assert_eq!(group.tasks, 10_000);
    assert_eq!(group.state, TaskState::Retrying);
    let expected = [
        (TaskState::Done, 9_870),
        (TaskState::Running, 100),
        (TaskState::Retrying, 30),
    ];
    assert_eq!(group.counts, Some(expected.into_iter().collect()));
    let svg = &drawing.svg;
    assert_eq!(svg.matches(r#"<path class="edge""#).count(), 2);
    assert!(svg.contains(r#"data-node="group:step_0" data-kind="group""#));
    assert!(svg.contains(">step ×10,000</text>"));
    assert!(svg.contains("9,870 done · 100 running · 30 retrying</title>"));
    assert!(
        svg.contains(r#"<text class="counts""#)
            && svg.contains(">9,870 done · 100 running …</text>")
    );
}

#[test]
fn a_pipeline_per_item_folds_by_layer() {
    let mut tasks = Vec::new();
    for i in 0..1_000 {
        tasks.push(task(
            &format!("load_{i}"),
            "m::load",
            "Successful",
            &[],
            None,
        ));
        tasks.push(task(
            &format!("step_{i}"),
            "m::step",
            "Running",
            &[&format!("load_{i}")],
            None,
        ));
    }
    let steps: Vec<String> = (0..1_000).map(|i| format!("step_{i}")).collect();
    let inputs: Vec<&str> = steps.iter().map(String::as_str).collect();
    tasks.push(task("sum", "m::sum", "Waiting", &inputs, None));
    let drawing = timed("pipeline", &meta("Running", tasks));
    let ids: Vec<&str> = drawing.nodes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["group:load_0", "group:step_0", "sum"]);
    assert_eq!(drawing.nodes[1].tasks, 1_000);
    assert_eq!(
        attr_values(&drawing.svg, "data-from"),
        ["group:load_0", "group:step_0"]
    );
}

#[test]
fn a_chain_of_ten_thousand_draws() {
    let drawing = timed("chain", &chain(10_000));
    assert_eq!(drawing.nodes.len(), 10_000);
    assert_eq!(drawing.svg.matches(r#"<path class="edge""#).count(), 9_999);
    let y = |id: &str| rect_after(&drawing.svg, &format!("data-node=\"{id}\"")).1;
    assert!(y("c0") < y("c1") && y("c1") < y("c9999"));
}

#[test]
fn ten_thousand_unrelated_tasks_draw_in_wrapped_rows() {
    let tasks = (0..10_000)
        .map(|i| task(&format!("u{i}"), &format!("m::u{i}"), "Waiting", &[], None))
        .collect();
    let drawing = timed("unrelated", &meta("Running", tasks));
    assert_eq!(drawing.nodes.len(), 10_000);
    let size: Vec<f64> = attr_values(&drawing.svg, "width")[..1]
        .iter()
        .chain(&attr_values(&drawing.svg, "height")[..1])
        .filter_map(|v| v.parse().ok())
        .collect();
    assert_eq!(size.len(), 2);
    assert!(
        size[0] < 8.0 * size[1] && size[1] < 8.0 * size[0],
        "{size:?}"
    );
}

#[test]
fn a_long_chain_under_the_cap_lays_out_on_a_test_thread() {
    let drawing = timed("chain under the cap", &chain(1_400));
    assert_eq!(drawing.nodes.len(), 1_400);
    let y = |id: &str| rect_after(&drawing.svg, &format!("data-node=\"{id}\"")).1;
    assert!(y("c0") < y("c1") && y("c1") < y("c1399"));
}

#[test]
fn deeply_nested_continuations_draw() {
    for depth in [300, 2_000] {
        let drawing = timed("nested", &nest(depth));
        let clusters = attr_values(&drawing.svg, "data-cluster");
        assert_eq!(clusters.len(), depth - 1);
        let innermost = rect_after(&drawing.svg, &format!("data-node=\"k{}\"", depth - 1));
        let outermost = rect_after(&drawing.svg, "data-cluster=\"k0\"");
        assert!(inside(innermost, outermost));
    }
}

#[test]
fn a_random_dag_draws_every_task() {
    let meta = random_dag(1_200, 11);
    let drawing = timed("random", &meta);
    assert_eq!(attr_values(&drawing.svg, "data-node").len(), 1_200);
}

#[test]
fn a_wide_layer_under_the_cap_draws_on_a_test_thread() {
    let mut tasks = vec![task("src", "m::src", "Successful", &[], None)];
    let ids: Vec<String> = (0..1_490).map(|i| format!("w{i}")).collect();
    for id in &ids {
        tasks.push(task(id, &format!("m::{id}"), "Running", &["src"], None));
    }
    let inputs: Vec<&str> = ids.iter().map(String::as_str).collect();
    tasks.push(task("sink", "m::sink", "Waiting", &inputs, None));
    let drawing = timed("wide layer", &meta("Running", tasks));
    assert_eq!(drawing.nodes.len(), 1_492);
    let y = |id: &str| rect_after(&drawing.svg, &format!("data-node=\"{id}\"")).1;
    assert!(y("src") < y("w0") && y("w0") == y("w1489") && y("w1489") < y("sink"));
}

#[test]
fn a_fan_out_of_continuations_draws() {
    let mut tasks = Vec::new();
    for i in 0..3_000 {
        let id = format!("f{i}");
        tasks.push(task(&id, "m::fetch", "Continued", &[], None));
        tasks.push(task(
            &format!("{id}.a"),
            "m::a",
            "Successful",
            &[],
            Some(&id),
        ));
        let input = format!("{id}.a");
        tasks.push(task(
            &format!("{id}.b"),
            "m::b",
            "Running",
            &[&input],
            Some(&id),
        ));
    }
    let drawing = timed("fan-out of continuations", &meta("Running", tasks));
    assert_eq!(drawing.nodes.len(), 9_000);
    assert_eq!(attr_values(&drawing.svg, "data-cluster").len(), 3_000);
    let inner = rect_after(&drawing.svg, "data-node=\"f2999.b\"");
    assert!(inside(
        inner,
        rect_after(&drawing.svg, "data-cluster=\"f2999\"")
    ));
}
