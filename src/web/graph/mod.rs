//! A workflow's DAG drawn as SVG on the server.
//!
//! [`draw`] folds large fan-outs into group nodes ([`fold`]), lays the nodes out with
//! continuations as nested clusters ([`layout`]) and writes the SVG ([`svg`]).
//! [`node_states`] does the folding alone, for cheap live updates of the nodes' states: it
//! gives the same node ids as [`draw`] for the same metadata.

mod adjacency;
mod fold;
mod layer;
mod layout;
mod place;
mod rows;
mod scope;
mod sugiyama;
mod svg;
mod text;
mod view;

#[cfg(test)]
mod tests;

pub(crate) use text::escape;
pub(crate) use view::NodeView;

use crate::WorkflowMetadata;

/// A workflow's drawing: the SVG, and the nodes in it.
#[derive(Clone, Debug)]
pub(crate) struct Drawing {
    /// A self-contained `<svg>` element: each node is a `<g class="node state-..">` with
    /// `data-node` set to its id, each continuation a `<g class="cluster">`.
    pub(crate) svg: String,
    /// The nodes drawn, as [`node_states`] gives them.
    pub(crate) nodes: Vec<NodeView>,
}

/// Draws the DAG of `meta`: folds, lays out and writes the SVG. Deterministic: the same
/// metadata gives the same drawing.
pub(crate) fn draw(meta: &WorkflowMetadata) -> Drawing {
    let folded = fold::Folded::new(meta);
    let edges = folded.edges();
    let layout = layout::layout(&folded, &edges);
    let svg = svg::render(&folded, &edges, &layout);
    Drawing {
        svg,
        nodes: folded.nodes.into_iter().map(|node| node.view).collect(),
    }
}

/// The nodes [`draw`] would draw for `meta`, with their states and counts, without laying
/// anything out.
pub(crate) fn node_states(meta: &WorkflowMetadata) -> Vec<NodeView> {
    fold::Folded::new(meta)
        .nodes
        .into_iter()
        .map(|node| node.view)
        .collect()
}
