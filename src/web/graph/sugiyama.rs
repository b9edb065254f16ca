//! One connected part laid out by `rust-sugiyama`.

use std::panic::{catch_unwind, AssertUnwindSafe};

use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use rust_sugiyama::configure::{Config, CrossingMinimization, RankingType};

use super::place::{Placement, H_GAP, V_GAP};

/// Parts up to this many boxes are ranked by network simplex (shorter edges); larger ones
/// put every box right below its deepest input, which is much cheaper.
const SIMPLEX_MAX: usize = 300;

/// Lays out a connected part of boxes of `sizes` joined by `edges`, or `None` when the
/// library did not place every box in one layout (or panicked), so the caller falls back
/// to rows.
pub(super) fn lay(sizes: &[(f64, f64)], edges: &[(usize, usize)]) -> Option<Placement> {
    let mut graph: StableDiGraph<(f64, f64), ()> =
        StableDiGraph::with_capacity(sizes.len(), edges.len());
    let ids: Vec<NodeIndex> = sizes
        .iter()
        // The library spaces ranks by the tallest box; extra height leaves room for edges.
        .map(|&(w, h)| graph.add_node((w, h + V_GAP - H_GAP)))
        .collect();
    let mut edges = edges.to_vec();
    edges.sort_unstable();
    edges.dedup();
    for (from, to) in edges {
        if from != to {
            graph.add_edge(*ids.get(from)?, *ids.get(to)?, ());
        }
    }
    let config = Config {
        vertex_spacing: H_GAP,
        ranking_type: if sizes.len() <= SIMPLEX_MAX {
            RankingType::MinimizeEdgeLength
        } else {
            RankingType::Up
        },
        c_minimization: CrossingMinimization::Barycenter,
        transpose: false,
        dummy_vertices: true,
        ..Config::default()
    };
    let layouts = catch_unwind(AssertUnwindSafe(|| {
        rust_sugiyama::from_graph(&graph, &|_, size: &(f64, f64)| *size, &config)
    }))
    .ok()?;
    if layouts.len() != 1 {
        return None;
    }
    let mut centers: Vec<Option<(f64, f64)>> = vec![None; sizes.len()];
    for (layout, _, _) in layouts {
        for (id, center) in layout {
            *centers.get_mut(id.index())? = Some(center);
        }
    }
    let at = centers
        .into_iter()
        .zip(sizes)
        .map(|(center, &(w, h))| center.map(|(x, y)| (x - w / 2.0, y - h / 2.0)))
        .collect::<Option<Vec<_>>>()?;
    Some(Placement::normalized(at, sizes))
}
