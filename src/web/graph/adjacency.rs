//! Compact adjacency lists: every node's neighbours in one shared vector.

/// For each of `n` nodes, a list of neighbours, stored back to back.
#[derive(Clone, Debug, Default)]
pub(super) struct Adjacency {
    /// Where each node's list starts in `list`; one more entry marks the end.
    start: Vec<usize>,
    /// All lists, one after another.
    list: Vec<usize>,
}

impl Adjacency {
    /// The lists of `n` nodes from `edges` (`from`, `to`): each node's list holds the `to` of
    /// its edges, in the order given. Edges naming a node not below `n` are left out.
    pub(super) fn from_edges(
        n: usize,
        edges: impl Iterator<Item = (usize, usize)> + Clone,
    ) -> Adjacency {
        let mut start = vec![0usize; n + 1];
        for (from, to) in edges.clone() {
            if from < n && to < n {
                start[from + 1] += 1;
            }
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut list = vec![0usize; start[n]];
        for (from, to) in edges {
            if from < n && to < n {
                list[fill[from]] = to;
                fill[from] += 1;
            }
        }
        Adjacency { start, list }
    }

    /// Lists built one node at a time with [`Adjacency::push`].
    pub(super) fn with_capacity(nodes: usize) -> Adjacency {
        let mut start = Vec::with_capacity(nodes + 1);
        start.push(0);
        Adjacency {
            start,
            list: Vec::new(),
        }
    }

    /// Appends the next node's list.
    pub(super) fn push(&mut self, neighbours: &[usize]) {
        self.list.extend_from_slice(neighbours);
        self.start.push(self.list.len());
    }

    /// How many nodes there are.
    pub(super) fn len(&self) -> usize {
        self.start.len().saturating_sub(1)
    }

    /// The list of `node`; empty for a node out of range.
    pub(super) fn of(&self, node: usize) -> &[usize] {
        match (self.start.get(node), self.start.get(node + 1)) {
            (Some(&from), Some(&to)) => &self.list[from..to],
            _ => &[],
        }
    }

    /// Every edge (`node`, `neighbour`), node by node.
    pub(super) fn edges(&self) -> impl Iterator<Item = (usize, usize)> + Clone + '_ {
        (0..self.len()).flat_map(move |node| self.of(node).iter().map(move |&to| (node, to)))
    }
}
