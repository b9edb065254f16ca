//! Placing boxes joined by edges: split into connected parts, lay each part out, pack the
//! parts into rows.

use super::{rows, sugiyama};

/// Space between boxes side by side.
pub(super) const H_GAP: f64 = 28.0;
/// Space between layers, and between packed rows of parts.
pub(super) const V_GAP: f64 = 56.0;
/// Rows of packed parts are at least this wide before they wrap.
const PACK_MIN_WIDTH: f64 = 1200.0;

/// How the boxes of a part are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Engine {
    /// Sugiyama's layered layout (`rust-sugiyama`): fewer crossings, slower.
    Sugiyama,
    /// Longest-path layers in wrapped rows: linear, for very large graphs.
    Rows,
}

/// Where boxes went: the top-left corner of each, and the size of the whole.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Placement {
    /// Each box's top-left corner, in the order the sizes were given.
    pub(super) at: Vec<(f64, f64)>,
    /// The width of the bounding box (its left edge is at 0).
    pub(super) width: f64,
    /// The height of the bounding box (its top edge is at 0).
    pub(super) height: f64,
}

impl Placement {
    /// Moves the boxes so their bounding box starts at (0, 0), and records its size.
    pub(super) fn normalized(at: Vec<(f64, f64)>, sizes: &[(f64, f64)]) -> Placement {
        if at.is_empty() {
            return Placement::default();
        }
        let (mut left, mut top) = (f64::INFINITY, f64::INFINITY);
        let (mut right, mut bottom) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
        for (&(x, y), &(w, h)) in at.iter().zip(sizes) {
            left = left.min(x);
            top = top.min(y);
            right = right.max(x + w);
            bottom = bottom.max(y + h);
        }
        Placement {
            at: at.into_iter().map(|(x, y)| (x - left, y - top)).collect(),
            width: right - left,
            height: bottom - top,
        }
    }
}

/// Places boxes of `sizes` joined by `edges` (indices into `sizes`) with `engine`.
pub(super) fn place(sizes: &[(f64, f64)], edges: &[(usize, usize)], engine: Engine) -> Placement {
    let parts = components(sizes.len(), edges);
    let slot = slots(sizes.len(), &parts);
    let mut part_edges = vec![Vec::new(); parts.len()];
    for &(from, to) in edges {
        if let (Some(&(part, a)), Some(&(_, b))) = (slot.get(from), slot.get(to)) {
            if a != b {
                part_edges[part].push((a, b));
            }
        }
    }
    let laid: Vec<Placement> = parts
        .iter()
        .zip(&part_edges)
        .map(|(part, edges)| {
            let part_sizes: Vec<(f64, f64)> = part.iter().map(|&i| sizes[i]).collect();
            lay_part(&part_sizes, edges, engine)
        })
        .collect();
    pack(sizes.len(), &parts, &laid)
}

/// Lays out one connected part.
fn lay_part(sizes: &[(f64, f64)], edges: &[(usize, usize)], engine: Engine) -> Placement {
    if sizes.len() == 1 {
        return Placement::normalized(vec![(0.0, 0.0)], sizes);
    }
    let sugiyama = match engine {
        Engine::Sugiyama => sugiyama::lay(sizes, edges),
        Engine::Rows => None,
    };
    sugiyama.unwrap_or_else(|| rows::lay(sizes, edges))
}

/// Packs laid-out parts left to right in rows, wrapping so the whole is roughly twice as
/// wide as it is tall.
fn pack(n: usize, parts: &[Vec<usize>], laid: &[Placement]) -> Placement {
    let widest = laid.iter().map(|p| p.width).fold(0.0, f64::max);
    let area: f64 = laid
        .iter()
        .map(|p| (p.width + H_GAP) * (p.height + V_GAP))
        .sum();
    let max_width = widest.max(PACK_MIN_WIDTH).max((area * 2.0).sqrt());
    let mut at = vec![(0.0, 0.0); n];
    let (mut x, mut y, mut row_height) = (0.0, 0.0, 0.0f64);
    let mut width = 0.0f64;
    for (part, placement) in parts.iter().zip(laid) {
        if x > 0.0 && x + placement.width > max_width {
            y += row_height + V_GAP;
            x = 0.0;
            row_height = 0.0;
        }
        for (&item, &(px, py)) in part.iter().zip(&placement.at) {
            at[item] = (x + px, y + py);
        }
        width = width.max(x + placement.width);
        row_height = row_height.max(placement.height);
        x += placement.width + H_GAP;
    }
    Placement {
        at,
        width,
        height: if n == 0 { 0.0 } else { y + row_height },
    }
}

/// The weakly connected parts of `n` boxes, each sorted, ordered by their first box.
fn components(n: usize, edges: &[(usize, usize)]) -> Vec<Vec<usize>> {
    let mut root: Vec<usize> = (0..n).collect();
    fn find(root: &mut [usize], mut x: usize) -> usize {
        while root[x] != x {
            root[x] = root[root[x]];
            x = root[x];
        }
        x
    }
    for &(a, b) in edges {
        if a < n && b < n {
            let (ra, rb) = (find(&mut root, a), find(&mut root, b));
            if ra != rb {
                root[ra.max(rb)] = ra.min(rb);
            }
        }
    }
    let mut part_of_root = vec![usize::MAX; n];
    let mut parts: Vec<Vec<usize>> = Vec::new();
    for item in 0..n {
        let r = find(&mut root, item);
        if part_of_root[r] == usize::MAX {
            part_of_root[r] = parts.len();
            parts.push(Vec::new());
        }
        parts[part_of_root[r]].push(item);
    }
    parts
}

/// For each box, its part and its position in that part.
fn slots(n: usize, parts: &[Vec<usize>]) -> Vec<(usize, usize)> {
    let mut slot = vec![(0, 0); n];
    for (p, part) in parts.iter().enumerate() {
        for (i, &item) in part.iter().enumerate() {
            slot[item] = (p, i);
        }
    }
    slot
}
