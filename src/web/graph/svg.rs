//! Writing the laid-out graph as a self-contained SVG.
//!
//! Classes carry the meaning (`node state-done`, `cluster`, `edge`) so the page's CSS
//! colours them; presentation attributes give a plain look without any CSS, and CSS rules
//! override them.

use super::fold::{Folded, Node};
use super::layout::{cluster_label, Layout, Rect, NODE_W};
use super::text::{
    counts_line, escape, fit_counts, group_label, num, short_name, task_line, thousands, truncate,
};

/// Characters of a node's label that fit its width.
const LABEL_CHARS: usize = ((NODE_W - 16.0) / 7.6) as usize;
/// Characters of a node's second line that fit its width.
const COUNTS_CHARS: usize = ((NODE_W - 12.0) / 6.2) as usize;
/// The id of the arrowhead marker.
const ARROW: &str = "workflow-dag-arrow";

/// The SVG of `folded`, whose node edges are `edges`, laid out as `layout`.
pub(super) fn render(folded: &Folded<'_>, edges: &[(usize, usize)], layout: &Layout) -> String {
    let mut out = String::with_capacity(1024 + folded.nodes.len() * 520 + edges.len() * 160);
    out.push_str(r#"<svg xmlns="http://www.w3.org/2000/svg" class="dag" viewBox="0 0 "#);
    num(&mut out, layout.width);
    out.push(' ');
    num(&mut out, layout.height);
    out.push_str(r#"" width=""#);
    num(&mut out, layout.width);
    out.push_str(r#"" height=""#);
    num(&mut out, layout.height);
    out.push_str(r#"" font-family="system-ui, sans-serif">"#);
    out.push_str(r#"<defs><marker id=""#);
    out.push_str(ARROW);
    out.push_str(r#"" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7""#);
    out.push_str(
        r##" orient="auto"><path class="arrowhead" d="M0,0L10,5L0,10z" fill="#8c959f"/>"##,
    );
    out.push_str("</marker></defs>");

    write_clusters(&mut out, folded, layout);
    write_edges(&mut out, folded, edges, layout);
    out.push_str(r#"<g class="nodes">"#);
    for (n, node) in folded.nodes.iter().enumerate() {
        write_node(&mut out, folded, node, layout.nodes[n]);
    }
    out.push_str("</g></svg>");
    out
}

/// Writes the continuation clusters, outer ones first so inner ones are drawn over them.
fn write_clusters(out: &mut String, folded: &Folded<'_>, layout: &Layout) {
    let scopes = &folded.scopes;
    let mut order: Vec<usize> = (1..scopes.list.len()).collect();
    order.sort_by_key(|&s| scopes.list[s].depth);
    out.push_str(r#"<g class="clusters">"#);
    for s in order {
        let key = escape(scopes.list[s].key.unwrap_or_default());
        let rect = layout.clusters[s];
        out.push_str(&format!(
            r#"<g class="cluster" data-cluster="{key}"><title>continuation of {key}</title><rect"#
        ));
        rect_attrs(out, rect);
        out.push_str(
            r##" rx="10" fill="#f6f8fa" stroke="#d0d7de"/><text class="cluster-label" x=""##,
        );
        num(out, rect.x + 10.0);
        out.push_str(r#"" y=""#);
        num(out, rect.y + 18.0);
        out.push_str(r##"" font-size="12" fill="#57606a">"##);
        out.push_str(&escape(&cluster_label(
            scopes.list[s].key.unwrap_or_default(),
        )));
        out.push_str("</text></g>");
    }
    out.push_str("</g>");
}

/// Writes the edges, then the edge from each task that returned a continuation to its
/// continuation's cluster.
fn write_edges(out: &mut String, folded: &Folded<'_>, edges: &[(usize, usize)], layout: &Layout) {
    let scopes = &folded.scopes;
    out.push_str(r#"<g class="edges">"#);
    for &(from, to) in edges {
        let a = match folded.output_scope(from, to) {
            Some(scope) => layout.clusters[scope],
            None => layout.nodes[from],
        };
        let b = layout.nodes[to];
        out.push_str(r#"<path class="edge" data-from=""#);
        out.push_str(&escape(&folded.nodes[from].view.id));
        out.push_str(r#"" data-to=""#);
        out.push_str(&escape(&folded.nodes[to].view.id));
        out.push('"');
        path(out, a, b);
    }
    for (s, scope) in scopes.list.iter().enumerate().skip(1) {
        if let Some(host) = scope.host {
            let node = folded.node_of[host];
            out.push_str(r#"<path class="edge continuation" data-from=""#);
            out.push_str(&escape(&folded.nodes[node].view.id));
            out.push_str(r#"" data-to-cluster=""#);
            out.push_str(&escape(scope.key.unwrap_or_default()));
            out.push('"');
            path(out, layout.nodes[node], layout.clusters[s]);
        }
    }
    out.push_str("</g>");
}

/// Writes one node's group: frame, title, label and second line.
fn write_node(out: &mut String, folded: &Folded<'_>, node: &Node, rect: Rect) {
    let tasks = &folded.meta.tasks;
    let Some(first) = tasks.get(node.first) else {
        return;
    };
    let (kind, label, line, title) = match &node.view.counts {
        Some(counts) => {
            let last = tasks.get(node.last).unwrap_or(first);
            let line = fit_counts(counts, COUNTS_CHARS);
            let counts = counts_line(counts);
            let title = format!(
                "{} ×{}\n{} … {}\n{counts}",
                first.name,
                thousands(node.view.tasks),
                first.task_id,
                last.task_id
            );
            let label = group_label(&first.name, node.view.tasks, LABEL_CHARS);
            ("group", label, line, title)
        }
        None => {
            let line = truncate(&task_line(node.view.state, first.attempts), COUNTS_CHARS);
            let title = format!("{}\n{}\n{line}", first.task_id, first.name);
            (
                "task",
                truncate(short_name(&first.name), LABEL_CHARS),
                line,
                title,
            )
        }
    };
    out.push_str(r#"<g class="node state-"#);
    out.push_str(node.view.state.name());
    out.push_str(r#"" data-node=""#);
    out.push_str(&escape(&node.view.id));
    out.push_str(r#"" data-kind=""#);
    out.push_str(kind);
    out.push_str(r#""><title>"#);
    out.push_str(&escape(&title));
    out.push_str("</title><rect");
    rect_attrs(out, rect);
    out.push_str(r##" rx="6" fill="#ffffff" stroke="#8c959f"/><text class="label" x=""##);
    let cx = rect.x + rect.w / 2.0;
    num(out, cx);
    out.push_str(r#"" y=""#);
    num(out, rect.y + 18.0);
    out.push_str(r##"" text-anchor="middle" font-size="13" fill="#1f2328">"##);
    out.push_str(&escape(&label));
    out.push_str(r#"</text><text class="counts" x=""#);
    num(out, cx);
    out.push_str(r#"" y=""#);
    num(out, rect.y + 35.0);
    out.push_str(r##"" text-anchor="middle" font-size="11" fill="#57606a">"##);
    out.push_str(&escape(&line));
    out.push_str("</text></g>");
}

/// Writes ` x=".." y=".." width=".." height=".."` for `rect`.
fn rect_attrs(out: &mut String, rect: Rect) {
    out.push_str(r#" x=""#);
    num(out, rect.x);
    out.push_str(r#"" y=""#);
    num(out, rect.y);
    out.push_str(r#"" width=""#);
    num(out, rect.w);
    out.push_str(r#"" height=""#);
    num(out, rect.h);
    out.push('"');
}

/// Writes the ` d=".."` of a curve from the bottom middle of `from` to the top middle of
/// `to`, with its arrowhead, closing the element.
fn path(out: &mut String, from: Rect, to: Rect) {
    let (x1, y1) = (from.x + from.w / 2.0, from.y + from.h);
    let (x2, y2) = (to.x + to.w / 2.0, to.y);
    let bend = ((y2 - y1).abs() / 2.0).max(24.0);
    out.push_str(r#" d="M"#);
    for (i, (x, y)) in [(x1, y1), (x1, y1 + bend), (x2, y2 - bend), (x2, y2)]
        .into_iter()
        .enumerate()
    {
        match i {
            0 => {}
            1 => out.push_str(" C"),
            _ => out.push(' '),
        }
        num(out, x);
        out.push(',');
        num(out, y);
    }
    out.push_str(&format!(
        r##"" fill="none" stroke="#8c959f" marker-end="url(#{ARROW})"/>"##
    ));
}
