//! Tests of the drawing: small graphs, continuations, escaping; large graphs in [`large`].

mod large;
mod parts;

use serde_json::{json, Value};

use super::{draw, node_states};
use crate::web::state::TaskState;
use crate::WorkflowMetadata;

/// A task as the metadata JSON holds it.
fn task(id: &str, name: &str, status: &str, inputs: &[&str], parent: Option<&str>) -> Value {
    json!({
        "task_id": id,
        "name": name,
        "status": status,
        "attempts": 1,
        "start_time": null,
        "end_time": null,
        "user_metadata": null,
        "inputs": inputs,
        "parent": parent,
        "error": null,
    })
}

/// `task` with its attempts set.
fn attempts(mut task: Value, attempts: u32) -> Value {
    task["attempts"] = json!(attempts);
    task
}

/// A workflow in `status` with `tasks`.
fn meta(status: &str, tasks: Vec<Value>) -> WorkflowMetadata {
    serde_json::from_value(json!({
        "id": "w",
        "status": status,
        "user_metadata": null,
        "start_time": null,
        "end_time": null,
        "tasks": tasks,
    }))
    .expect("valid metadata JSON")
}

/// The values of attribute `attr` in `svg`, in order, still escaped.
fn attr_values<'s>(svg: &'s str, attr: &str) -> Vec<&'s str> {
    let needle = format!(" {attr}=\"");
    svg.split(needle.as_str())
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap_or_default())
        .collect()
}

/// The first `<rect>` after `marker` in `svg`, as (x, y, width, height).
fn rect_after(svg: &str, marker: &str) -> (f64, f64, f64, f64) {
    let start = svg
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not in the SVG"));
    let rest = &svg[start..];
    let rect = &rest[rest.find("<rect").expect("a rect")..];
    let rect = &rect[..rect.find("/>").expect("a closed rect")];
    let get = |name: &str| -> f64 {
        attr_values(rect, name)
            .first()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {rect}"))
    };
    (get("x"), get("y"), get("width"), get("height"))
}

/// Whether rectangle `inner` lies inside `outer`.
fn inside(inner: (f64, f64, f64, f64), outer: (f64, f64, f64, f64)) -> bool {
    inner.0 >= outer.0
        && inner.1 >= outer.1
        && inner.0 + inner.2 <= outer.0 + outer.2
        && inner.1 + inner.3 <= outer.1 + outer.3
}

/// The workflow `d(b(a), c(a))`, one task in each state worth telling apart.
fn diamond() -> WorkflowMetadata {
    meta(
        "Running",
        vec![
            task("a", "my_crate::load", "Successful", &[], None),
            task("b", "my_crate::add", "Running", &["a"], None),
            attempts(task("c", "my_crate::mul", "Running", &["a"], None), 2),
            task("d", "my_crate::sum", "Waiting", &["b", "c"], None),
        ],
    )
}

#[test]
fn small_dag_draws_each_task_and_edge() {
    let drawing = draw(&diamond());
    let svg = &drawing.svg;
    assert!(svg.starts_with(r#"<svg xmlns="http://www.w3.org/2000/svg""#));
    assert!(svg.contains(" viewBox=\"0 0 ") && svg.ends_with("</svg>"));
    assert_eq!(attr_values(svg, "data-node"), ["a", "b", "c", "d"]);
    assert_eq!(svg.matches(r#"<path class="edge""#).count(), 4);
    assert_eq!(attr_values(svg, "data-from"), ["a", "a", "b", "c"]);
    assert_eq!(attr_values(svg, "data-to"), ["b", "c", "d", "d"]);
    assert!(svg.contains(r#"marker-end="url(#workflow-dag-arrow)""#));
    for (id, state) in [
        ("a", "done"),
        ("b", "running"),
        ("c", "retrying"),
        ("d", "waiting"),
    ] {
        let node = format!(r#"<g class="node state-{state}" data-node="{id}" data-kind="task">"#);
        assert!(svg.contains(&node), "{node}");
    }
    assert!(svg.contains(">add</text>") && !svg.contains(">my_crate::add</text>"));
    assert!(svg.contains("<title>c\nmy_crate::mul\nretrying · attempt 2</title>"));
    // Layered top to bottom.
    let y = |id: &str| rect_after(svg, &format!("data-node=\"{id}\"")).1;
    assert!(y("a") < y("b") && y("b") < y("d") && y("a") < y("c") && y("c") < y("d"));
    let states: Vec<TaskState> = drawing.nodes.iter().map(|n| n.state).collect();
    assert_eq!(
        states,
        [
            TaskState::Done,
            TaskState::Running,
            TaskState::Retrying,
            TaskState::Waiting
        ]
    );
}

#[test]
fn nodes_do_not_overlap() {
    let mut tasks = vec![task("root", "m::root", "Successful", &[], None)];
    for i in 0..6 {
        tasks.push(task(
            &format!("x{i}"),
            &format!("m::x{i}"),
            "Waiting",
            &["root"],
            None,
        ));
        tasks.push(task(
            &format!("y{i}"),
            "m::y",
            "Waiting",
            &[&format!("x{i}")],
            None,
        ));
    }
    let svg = draw(&meta("Running", tasks)).svg;
    let ids = attr_values(&svg, "data-node");
    let rects: Vec<_> = ids
        .iter()
        .map(|id| rect_after(&svg, &format!("data-node=\"{id}\"")))
        .collect();
    for (i, a) in rects.iter().enumerate() {
        for b in &rects[i + 1..] {
            let apart =
                a.0 + a.2 <= b.0 || b.0 + b.2 <= a.0 || a.1 + a.3 <= b.1 || b.1 + b.3 <= a.1;
            assert!(apart, "{a:?} overlaps {b:?}");
        }
    }
}

#[test]
fn a_fan_out_of_nine_folds_and_of_eight_does_not() {
    for (width, nodes) in [(8, 10), (9, 3)] {
        let mut tasks = vec![task("src", "m::src", "Successful", &[], None)];
        let ids: Vec<String> = (0..width).map(|i| format!("step_{i}")).collect();
        for id in &ids {
            tasks.push(task(id, "m::step", "Successful", &["src"], None));
        }
        let inputs: Vec<&str> = ids.iter().map(String::as_str).collect();
        tasks.push(task("sum", "m::sum", "Waiting", &inputs, None));
        let drawing = draw(&meta("Running", tasks));
        assert_eq!(drawing.nodes.len(), nodes, "fan-out of {width}");
        assert_eq!(
            drawing.svg.matches(r#"<path class="edge""#).count(),
            if width == 9 { 2 } else { 16 }
        );
    }
}

#[test]
fn node_states_give_the_ids_of_draw() {
    for meta in [diamond(), nested(), large::fan_out(1_990, 8, 2)] {
        let drawing = draw(&meta);
        let states = node_states(&meta);
        assert_eq!(states, drawing.nodes);
        let ids: Vec<&str> = states.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(attr_values(&drawing.svg, "data-node"), ids);
    }
}

#[test]
fn node_views_serialize_for_the_page() {
    let views = node_states(&large::fan_out(10, 7, 3));
    let json = serde_json::to_value(&views).expect("serializable");
    assert_eq!(json[0], json!({ "id": "src", "state": "done", "tasks": 1 }));
    assert_eq!(
        json[1],
        json!({
            "id": "group:step_0",
            "state": "retrying",
            "counts": { "done": 10, "running": 7, "retrying": 3 },
            "tasks": 20,
        })
    );
}

/// `a`, then `p` whose continuation runs `q` (itself continued by `s`) and `r(q)`, then
/// `z(p)`.
fn nested() -> WorkflowMetadata {
    meta(
        "Running",
        vec![
            task("a", "m::a", "Successful", &[], None),
            task("p", "m::p", "Continued", &["a"], None),
            task("q", "m::q", "Continued", &[], Some("p")),
            task("r", "m::r", "Running", &["q"], Some("p")),
            task("s", "m::s", "Running", &[], Some("q")),
            task("z", "m::z", "Waiting", &["p"], None),
        ],
    )
}

#[test]
fn nested_continuations_draw_nested_clusters() {
    let svg = draw(&nested()).svg;
    assert_eq!(attr_values(&svg, "data-cluster"), ["p", "q"]);
    assert!(svg.contains(">continuation of p</text>") && svg.contains(">continuation of q</text>"));
    let cluster = |key: &str| rect_after(&svg, &format!("data-cluster=\"{key}\""));
    let node = |id: &str| rect_after(&svg, &format!("data-node=\"{id}\""));
    assert!(inside(cluster("q"), cluster("p")));
    assert!(inside(node("s"), cluster("q")));
    assert!(inside(node("q"), cluster("p")) && !inside(node("q"), cluster("q")));
    assert!(inside(node("r"), cluster("p")) && !inside(node("r"), cluster("q")));
    for outside in ["a", "p", "z"] {
        assert!(!inside(node(outside), cluster("p")), "{outside}");
    }
    assert_eq!(svg.matches(r#"class="edge continuation""#).count(), 2);
    assert_eq!(attr_values(&svg, "data-to-cluster"), ["p", "q"]);
    // The continuation hangs below the task that returned it, and what takes that task's
    // output (its continuation's) comes below the continuation, its edge leaving the cluster.
    let (p, z) = (cluster("p"), node("z"));
    assert!(p.1 > node("p").1 + node("p").3);
    assert!(z.1 > p.1 + p.3);
    let edge = svg
        .split(r#"data-from="p" data-to="z""#)
        .nth(1)
        .unwrap_or_default();
    let start: Vec<f64> = attr_values(edge, "d")[0]
        .trim_start_matches('M')
        .split([',', ' '])
        .take(2)
        .filter_map(|v| v.parse().ok())
        .collect();
    assert_eq!(start.len(), 2);
    assert!((start[0] - (p.0 + p.2 / 2.0)).abs() < 0.1 && (start[1] - (p.1 + p.3)).abs() < 0.1);
}

#[test]
fn text_is_escaped() {
    let id = r#"a<&"'>b"#;
    let svg = draw(&meta(
        "Failed",
        vec![
            task(id, "m::<T as Tr>::f&g", "Failed", &[], None),
            task("c", "m::c", "Waiting", &[], Some(id)),
        ],
    ))
    .svg;
    assert!(!svg.contains(id));
    assert!(svg.contains(r#"data-node="a&lt;&amp;&quot;&apos;&gt;b""#));
    assert!(svg.contains(r#"data-cluster="a&lt;&amp;&quot;&apos;&gt;b""#));
    assert!(svg.contains(">f&amp;g</text>"));
    assert!(svg.contains(r#"<g class="node state-failed""#));
    // Only tags start with `<`, and every `&` starts an entity.
    for (i, _) in svg.match_indices('<') {
        let next = svg[i + 1..].chars().next().unwrap_or(' ');
        assert!(next.is_ascii_alphabetic() || next == '/', "stray < at {i}");
    }
    for (i, _) in svg.match_indices('&') {
        let rest = &svg[i..];
        let entity = ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
            .iter()
            .any(|e| rest.starts_with(e));
        assert!(entity, "stray & at {i}");
    }
}

#[test]
fn a_canceled_workflow_draws_unfinished_tasks_canceled() {
    let meta = meta(
        "Canceled",
        vec![
            task("a", "m::a", "Successful", &[], None),
            task("b", "m::b", "Waiting", &["a"], None),
        ],
    );
    let states: Vec<TaskState> = node_states(&meta).iter().map(|n| n.state).collect();
    assert_eq!(states, [TaskState::Done, TaskState::Canceled]);
    assert!(draw(&meta)
        .svg
        .contains(r#"<g class="node state-canceled" data-node="b""#));
}

#[test]
fn broken_metadata_draws_without_panicking() {
    let meta = meta(
        "Running",
        vec![
            // Inputs in a cycle, an unknown input, a parent nobody has, parents in a cycle,
            // a task that is its own parent, and a repeated task id.
            task("a", "m::a", "Waiting", &["b", "missing"], None),
            task("b", "m::b", "Waiting", &["a"], None),
            task("orphan", "m::o", "Waiting", &["a"], Some("ghost")),
            task("x", "m::x", "Continued", &[], Some("y")),
            task("y", "m::y", "Continued", &["x"], Some("x")),
            task("self", "m::s", "Continued", &[], Some("self")),
            task("a", "m::a", "Waiting", &[], None),
        ],
    );
    let drawing = draw(&meta);
    assert_eq!(drawing.nodes.len(), 7);
    assert_eq!(
        attr_values(&drawing.svg, "data-cluster"),
        ["ghost", "y", "self", "x"]
    );
    assert!(drawing.svg.ends_with("</g></svg>"));
}

#[test]
fn drawing_is_deterministic() {
    let meta = large::random_dag(250, 7);
    let first = draw(&meta);
    for _ in 0..3 {
        assert_eq!(draw(&meta).svg, first.svg);
    }
    assert_eq!(attr_values(&first.svg, "data-node").len(), 250);
}
