//! Tests of the pieces: text, layering, scopes, group states.

use std::collections::{BTreeMap, HashMap};

use super::{meta, task};
use crate::web::graph::layer::longest_path;
use crate::web::graph::place::{place, Engine};
use crate::web::graph::scope::{Scopes, ROOT};
use crate::web::graph::text::{
    escape, fit_counts, group_label, num, short_name, thousands, truncate,
};
use crate::web::graph::view::NodeView;
use crate::web::state::TaskState;

#[test]
fn text_shaping() {
    assert_eq!(
        escape(r#"<a href="x">&'</a>"#),
        "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;"
    );
    assert_eq!(escape("a\u{1}b"), "a\u{FFFD}b");
    assert_eq!(short_name("my_crate::math::add"), "add");
    assert_eq!(short_name("plain"), "plain");
    assert_eq!(truncate("abcdef", 4), "abc…");
    assert_eq!(truncate("éèêë", 4), "éèêë");
    assert_eq!(truncate("éèêëà", 3), "éè…");
    assert_eq!(thousands(0), "0");
    assert_eq!(thousands(999), "999");
    assert_eq!(thousands(1_000), "1,000");
    assert_eq!(thousands(1_234_567), "1,234,567");
    assert_eq!(
        group_label("m::a_very_long_task_name_indeed", 10_000, 20),
        "a_very_long… ×10,000"
    );
    let mut out = String::new();
    for value in [1.0, 2.25, -3.5, f64::NAN] {
        num(&mut out, value);
        out.push(' ');
    }
    assert_eq!(out, "1 2.3 -3.5 0 ");
}

#[test]
fn counts_fit_in_whole_parts() {
    let counts = BTreeMap::from([
        (TaskState::Done, 9_870),
        (TaskState::Failed, 5),
        (TaskState::Running, 130),
    ]);
    assert_eq!(
        fit_counts(&counts, 60),
        "9,870 done · 130 running · 5 failed"
    );
    assert_eq!(fit_counts(&counts, 30), "9,870 done · 130 running …");
    assert_eq!(fit_counts(&counts, 8), "9,870 d…");
}

#[test]
fn a_group_takes_its_most_urgent_state() {
    use TaskState::*;
    let of = |states: &[TaskState]| {
        let mut view = NodeView::group("g".into());
        for &state in states {
            view.add(state);
        }
        view
    };
    let group = |states: &[TaskState]| of(states).state;
    assert_eq!(group(&[Done]), Done);
    assert_eq!(group(&[Done, Done, Waiting]), Waiting);
    assert_eq!(group(&[Done, Canceled]), Canceled);
    assert_eq!(group(&[Waiting, Interrupted]), Interrupted);
    assert_eq!(group(&[Interrupted, Running, Done]), Running);
    assert_eq!(group(&[Running, Retrying]), Retrying);
    assert_eq!(group(&[Retrying, Failed, Done]), Failed);
    let view = of(&[Done, Done, Failed]);
    assert_eq!(view.tasks, 3);
    assert_eq!(view.counts, Some(BTreeMap::from([(Done, 2), (Failed, 1)])));
}

#[test]
fn layers_follow_the_longest_path() {
    // 0 -> 1 -> 2, 0 -> 2, 3 alone.
    assert_eq!(longest_path(4, &[(0, 1), (1, 2), (0, 2)]), [0, 1, 2, 0]);
    // A cycle 1 <-> 2 fed by 0: still every node gets a layer.
    let layers = longest_path(3, &[(0, 1), (1, 2), (2, 1)]);
    assert_eq!(layers[0], 0);
    assert!(layers[1] >= 1 && layers[2] >= 1 && layers[1] != layers[2]);
    assert_eq!(longest_path(0, &[]), Vec::<usize>::new());
}

#[test]
fn scopes_nest_and_cut_cycles() {
    let meta = meta(
        "Running",
        vec![
            task("p", "m::p", "Continued", &[], None),
            task("q", "m::q", "Continued", &[], Some("p")),
            task("s", "m::s", "Running", &[], Some("q")),
            task("x", "m::x", "Continued", &[], Some("y")),
            task("y", "m::y", "Continued", &[], Some("x")),
        ],
    );
    let index: HashMap<&str, usize> = meta
        .tasks
        .iter()
        .enumerate()
        .map(|(i, t)| (t.task_id.as_str(), i))
        .collect();
    let scopes = Scopes::new(&meta, &index);
    let keys: Vec<Option<&str>> = scopes.list.iter().map(|s| s.key).collect();
    assert_eq!(keys, [None, Some("p"), Some("q"), Some("y"), Some("x")]);
    assert_eq!(scopes.of_task, [ROOT, 1, 2, 3, 4]);
    let depths: Vec<usize> = scopes.list.iter().map(|s| s.depth).collect();
    assert_eq!(depths, [0, 1, 2, 1, 2]);
    assert_eq!(scopes.list[2].parent, 1);
    assert_eq!(scopes.list[3].parent, ROOT);
    assert_eq!(scopes.common(2, 1), 1);
    assert_eq!(scopes.common(2, 4), ROOT);
    assert_eq!(scopes.child_toward(2, ROOT), Some(1));
    assert_eq!(scopes.child_toward(1, 1), None);
}

#[test]
fn both_engines_place_boxes_apart() {
    let sizes = vec![(100.0, 40.0); 6];
    let edges = [(0, 1), (0, 2), (1, 3), (2, 3)];
    for engine in [Engine::Sugiyama, Engine::Rows] {
        let placement = place(&sizes, &edges, engine);
        assert_eq!(placement.at.len(), 6);
        let rects: Vec<_> = placement
            .at
            .iter()
            .map(|&(x, y)| (x, y, 100.0, 40.0))
            .collect();
        for (i, a) in rects.iter().enumerate() {
            assert!(a.0 >= 0.0 && a.1 >= 0.0 && a.0 + a.2 <= placement.width + 1e-6);
            for b in &rects[i + 1..] {
                let apart =
                    a.0 + a.2 <= b.0 || b.0 + b.2 <= a.0 || a.1 + a.3 <= b.1 || b.1 + b.3 <= a.1;
                assert!(apart, "{engine:?}: {a:?} overlaps {b:?}");
            }
        }
        assert!(placement.at[0].1 < placement.at[1].1 && placement.at[1].1 < placement.at[3].1);
    }
}
