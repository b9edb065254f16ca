//! Longest-path layering: each node one layer below its lowest input.

use super::adjacency::Adjacency;

/// The layer of each of `n` nodes joined by `edges` (`from`, `to`): 0 for a node without
/// inputs, otherwise one more than its deepest input. Linear in nodes and edges. Edges that
/// close a cycle are ignored: when every node left waits on another, the first of them (by
/// index) is placed as if its remaining inputs were not there.
pub(super) fn longest_path(n: usize, edges: &[(usize, usize)]) -> Vec<usize> {
    let mut pending = vec![0usize; n];
    for &(from, to) in edges {
        if from < n && to < n {
            pending[to] += 1;
        }
    }
    let targets = Adjacency::from_edges(n, edges.iter().copied());

    let mut layer = vec![0usize; n];
    let mut placed = vec![false; n];
    let mut ready: Vec<usize> = (0..n).rev().filter(|&v| pending[v] == 0).collect();
    let mut next_unplaced = 0;
    let mut count = 0;
    while count < n {
        let node = match ready.pop() {
            Some(node) => node,
            None => {
                while next_unplaced < n && placed[next_unplaced] {
                    next_unplaced += 1;
                }
                if next_unplaced == n {
                    break;
                }
                next_unplaced
            }
        };
        if placed[node] {
            continue;
        }
        placed[node] = true;
        count += 1;
        for &to in targets.of(node) {
            if placed[to] {
                continue;
            }
            layer[to] = layer[to].max(layer[node] + 1);
            pending[to] = pending[to].saturating_sub(1);
            if pending[to] == 0 {
                ready.push(to);
            }
        }
    }
    layer
}
