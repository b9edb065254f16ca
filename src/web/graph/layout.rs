//! Where every node and continuation cluster goes.
//!
//! Scopes are laid out innermost first. A continuation's scope becomes a block: its nodes
//! and nested blocks placed on their own, framed with padding and a label. In the enclosing
//! scope the block is one more box, with an edge from the task that returned the
//! continuation, so it lands below that task; edges from that task to tasks taking its
//! output leave from the block, so those land below it. Edges between scopes count in the
//! innermost scope holding both ends, between the boxes standing for them there. Positions
//! are then made absolute outermost first. Nothing recurses, so nesting depth costs no
//! stack.

use super::fold::Folded;
use super::place::{self, Engine};
use super::scope::ROOT;

/// A node's width.
pub(super) const NODE_W: f64 = 180.0;
/// A node's height.
pub(super) const NODE_H: f64 = 44.0;
/// Space between a cluster's frame and its contents.
pub(super) const PAD: f64 = 14.0;
/// Room for a cluster's label above its contents.
pub(super) const LABEL_H: f64 = 20.0;
/// Space around the whole drawing.
pub(super) const MARGIN: f64 = 12.0;
/// Above this many nodes, every scope is laid out in rows instead of by Sugiyama's method.
pub(super) const SUGIYAMA_MAX: usize = 1500;
/// Width allowed per character of a cluster label.
pub(super) const LABEL_CHAR_W: f64 = 7.0;
/// A cluster label is cut to this many characters.
pub(super) const LABEL_MAX_CHARS: usize = 48;

/// A rectangle: top-left corner and size.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct Rect {
    /// Left edge.
    pub(super) x: f64,
    /// Top edge.
    pub(super) y: f64,
    /// Width.
    pub(super) w: f64,
    /// Height.
    pub(super) h: f64,
}

/// Absolute positions of everything drawn.
#[derive(Clone, Debug)]
pub(super) struct Layout {
    /// Each node's box, by node index.
    pub(super) nodes: Vec<Rect>,
    /// Each scope's cluster frame, by scope index; the root's is the whole drawing.
    pub(super) clusters: Vec<Rect>,
    /// The drawing's width, margins included.
    pub(super) width: f64,
    /// The drawing's height, margins included.
    pub(super) height: f64,
}

/// One box of a scope's layout.
#[derive(Clone, Copy, Debug)]
enum Item {
    /// A node of the scope.
    Node(usize),
    /// The block of a continuation scope nested directly in it.
    Block(usize),
}

/// Lays out `folded`, whose node edges are `edges`.
pub(super) fn layout(folded: &Folded<'_>, edges: &[(usize, usize)]) -> Layout {
    let scopes = &folded.scopes;
    let count = scopes.list.len();
    let engine = if folded.nodes.len() > SUGIYAMA_MAX {
        Engine::Rows
    } else {
        Engine::Sugiyama
    };

    // The boxes of each scope, and where each node and block sits among them.
    let mut items: Vec<Vec<Item>> = vec![Vec::new(); count];
    let mut node_slot = vec![0; folded.nodes.len()];
    let mut block_slot = vec![0; count];
    for (n, node) in folded.nodes.iter().enumerate() {
        node_slot[n] = items[node.scope].len();
        items[node.scope].push(Item::Node(n));
    }
    for (s, scope) in scopes.list.iter().enumerate().skip(1) {
        block_slot[s] = items[scope.parent].len();
        items[scope.parent].push(Item::Block(s));
    }

    // Each edge, lifted to the innermost scope holding both ends.
    let slot = |item: Item| match item {
        Item::Node(n) => (folded.nodes[n].scope, node_slot[n]),
        Item::Block(s) => (scopes.list[s].parent, block_slot[s]),
    };
    let lift = |item: Item, to: usize| -> Option<usize> {
        let (scope, index) = slot(item);
        if scope == to {
            Some(index)
        } else {
            scopes
                .child_toward(scope, to)
                .map(|child| block_slot[child])
        }
    };
    let host_edges = scopes.list.iter().enumerate().filter_map(|(s, scope)| {
        scope
            .host
            .map(|host| (Item::Node(folded.node_of[host]), Item::Block(s)))
    });
    let all_edges = edges
        .iter()
        .map(|&(from, to)| {
            let source = folded
                .output_scope(from, to)
                .map_or(Item::Node(from), Item::Block);
            (source, Item::Node(to))
        })
        .chain(host_edges);
    let mut scope_edges: Vec<Vec<(usize, usize)>> = vec![Vec::new(); count];
    for (from, to) in all_edges {
        let common = scopes.common(slot(from).0, slot(to).0);
        if let (Some(a), Some(b)) = (lift(from, common), lift(to, common)) {
            if a != b {
                scope_edges[common].push((a, b));
            }
        }
    }

    // Innermost scopes first: each block's size is known before its scope is laid out.
    let mut order: Vec<usize> = (0..count).collect();
    order.sort_by_key(|&s| std::cmp::Reverse(scopes.list[s].depth));
    let mut sizes = vec![(0.0, 0.0); count];
    let mut placed = vec![place::Placement::default(); count];
    for &s in &order {
        let item_sizes: Vec<(f64, f64)> = items[s]
            .iter()
            .map(|item| match *item {
                Item::Node(_) => (NODE_W, NODE_H),
                Item::Block(child) => sizes[child],
            })
            .collect();
        let placement = place::place(&item_sizes, &scope_edges[s], engine);
        let label = label_width(scopes.list[s].key.unwrap_or_default());
        sizes[s] = (
            placement.width.max(label) + 2.0 * PAD,
            placement.height + LABEL_H + 2.0 * PAD,
        );
        placed[s] = placement;
    }

    // Outermost scopes first: absolute positions.
    let mut nodes = vec![Rect::default(); folded.nodes.len()];
    let mut clusters = vec![Rect::default(); count];
    let mut origin = vec![(MARGIN, MARGIN); count];
    for &s in order.iter().rev() {
        let (ox, oy) = origin[s];
        for (item, &(x, y)) in items[s].iter().zip(&placed[s].at) {
            let (x, y) = (ox + x, oy + y);
            match *item {
                Item::Node(n) => {
                    nodes[n] = Rect {
                        x,
                        y,
                        w: NODE_W,
                        h: NODE_H,
                    };
                }
                Item::Block(child) => {
                    let (w, h) = sizes[child];
                    clusters[child] = Rect { x, y, w, h };
                    origin[child] = (x + PAD, y + LABEL_H + PAD);
                }
            }
        }
    }
    let width = placed[ROOT].width + 2.0 * MARGIN;
    let height = placed[ROOT].height + 2.0 * MARGIN;
    clusters[ROOT] = Rect {
        x: 0.0,
        y: 0.0,
        w: width,
        h: height,
    };
    Layout {
        nodes,
        clusters,
        width,
        height,
    }
}

/// The text of a continuation's cluster label.
pub(super) fn cluster_label(key: &str) -> String {
    super::text::truncate(&format!("continuation of {key}"), LABEL_MAX_CHARS)
}

/// The width a cluster label needs.
fn label_width(key: &str) -> f64 {
    if key.is_empty() {
        return 0.0;
    }
    cluster_label(key).chars().count() as f64 * LABEL_CHAR_W
}
