//! The cheap layout for very large graphs: longest-path layers, each sorted once by its
//! inputs' positions and wrapped into rows of bounded width. Linear apart from the sorts.

use super::layer;
use super::place::{Placement, H_GAP, V_GAP};

/// A layer wider than this wraps onto further rows.
const ROW_MAX_WIDTH: f64 = 2400.0;

/// Lays out boxes of `sizes` joined by `edges` in layered rows.
pub(super) fn lay(sizes: &[(f64, f64)], edges: &[(usize, usize)]) -> Placement {
    let n = sizes.len();
    let layers = layer::longest_path(n, edges);
    let depth = layers.iter().max().map_or(0, |max| max + 1);
    let mut by_layer: Vec<Vec<usize>> = vec![Vec::new(); depth];
    for (item, &l) in layers.iter().enumerate() {
        by_layer[l].push(item);
    }
    let mut inputs: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(from, to) in edges {
        if from < n && to < n && layers[from] < layers[to] {
            inputs[to].push(from);
        }
    }

    // Order each layer by the mean rank of its inputs in the layers above.
    let mut rank = vec![0.0f64; n];
    for items in &mut by_layer {
        let key = |item: usize| -> f64 {
            let ins = &inputs[item];
            if ins.is_empty() {
                f64::MAX
            } else {
                ins.iter().map(|&i| rank[i]).sum::<f64>() / ins.len() as f64
            }
        };
        let mut keyed: Vec<(f64, usize)> = items.iter().map(|&item| (key(item), item)).collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        *items = keyed.into_iter().map(|(_, item)| item).collect();
        for (r, &item) in items.iter().enumerate() {
            rank[item] = r as f64;
        }
    }

    // Wrap layers into rows, then centre every row under the widest.
    let mut rows: Vec<(Vec<usize>, f64)> = Vec::new();
    for items in &by_layer {
        let mut row = Vec::new();
        let mut width = 0.0;
        for &item in items {
            let w = sizes[item].0;
            if !row.is_empty() && width + H_GAP + w > ROW_MAX_WIDTH {
                rows.push((std::mem::take(&mut row), width));
                width = 0.0;
            }
            width += if row.is_empty() { w } else { H_GAP + w };
            row.push(item);
        }
        if !row.is_empty() {
            rows.push((row, width));
        }
    }
    let widest = rows.iter().map(|(_, w)| *w).fold(0.0, f64::max);
    let mut at = vec![(0.0, 0.0); n];
    let mut y = 0.0;
    for (row, width) in &rows {
        let mut x = (widest - width) / 2.0;
        let mut height = 0.0f64;
        for &item in row {
            let (w, h) = sizes[item];
            at[item] = (x, y);
            x += w + H_GAP;
            height = height.max(h);
        }
        y += height + V_GAP;
    }
    Placement::normalized(at, sizes)
}
