use std::ops::Bound;

/// The direction of a [`Storage::scan_page`](crate::Storage::scan_page).
///
/// # Examples
///
/// ```
/// use workflow_storage::Order;
///
/// assert_ne!(Order::Ascending, Order::Descending);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Order {
    /// Smallest key first.
    Ascending,
    /// Largest key first.
    Descending,
}

/// A range of keys: its lower and upper bound.
pub(crate) type KeyRange = (Bound<Vec<u8>>, Bound<Vec<u8>>);

/// The key range of a page: the keys starting with `prefix` that lie beyond `after` in the
/// direction of `order` (all of them without `after`), or `None` if no key can be in it. The
/// bounds are ordered, so collections that panic on reversed ranges accept them.
pub(crate) fn page_bounds(prefix: &[u8], after: Option<&[u8]>, order: Order) -> Option<KeyRange> {
    let mut start = Bound::Included(prefix.to_vec());
    let mut end = match prefix_end(prefix) {
        Some(end) => Bound::Excluded(end),
        None => Bound::Unbounded,
    };
    match (after, order) {
        (None, _) => {}
        (Some(after), Order::Ascending) => {
            if after >= prefix {
                start = Bound::Excluded(after.to_vec());
            }
            if matches!(&end, Bound::Excluded(limit) if after >= limit.as_slice()) {
                return None;
            }
        }
        (Some(after), Order::Descending) => {
            if after <= prefix {
                return None;
            }
            if !matches!(&end, Bound::Excluded(limit) if after >= limit.as_slice()) {
                end = Bound::Excluded(after.to_vec());
            }
        }
    }
    Some((start, end))
}

/// The smallest key greater than every key starting with `prefix`, or `None` if there is
/// none (an empty prefix, or one of only `0xff` bytes).
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Vec<Vec<u8>> {
        let mut keys = vec![
            b"a".to_vec(),
            b"b".to_vec(),
            b"b\x00".to_vec(),
            b"b1".to_vec(),
            b"b\xff".to_vec(),
            b"c".to_vec(),
            vec![0xff],
            vec![0xff, 0xff],
        ];
        keys.sort();
        keys
    }

    fn select(prefix: &[u8], after: Option<&[u8]>, order: Order) -> Vec<Vec<u8>> {
        let Some(bounds) = page_bounds(prefix, after, order) else {
            return Vec::new();
        };
        let mut out: Vec<Vec<u8>> = keys()
            .into_iter()
            .filter(|key| std::ops::RangeBounds::contains(&bounds, key))
            .collect();
        if order == Order::Descending {
            out.reverse();
        }
        out
    }

    /// What a page must hold, computed the slow way.
    fn expected(prefix: &[u8], after: Option<&[u8]>, order: Order) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = keys()
            .into_iter()
            .filter(|key| key.starts_with(prefix))
            .filter(|key| match (after, order) {
                (None, _) => true,
                (Some(after), Order::Ascending) => key.as_slice() > after,
                (Some(after), Order::Descending) => key.as_slice() < after,
            })
            .collect();
        if order == Order::Descending {
            out.reverse();
        }
        out
    }

    #[test]
    fn bounds_select_the_keys_of_the_prefix_beyond_the_cursor() {
        let prefixes: [&[u8]; 5] = [b"", b"b", b"c", b"\xff", b"z"];
        let mut afters: Vec<Option<Vec<u8>>> = vec![None, Some(b"".to_vec())];
        afters.extend(keys().into_iter().map(Some));
        afters.push(Some(b"bz".to_vec()));
        afters.push(Some(b"0".to_vec()));
        for prefix in prefixes {
            for after in &afters {
                for order in [Order::Ascending, Order::Descending] {
                    assert_eq!(
                        select(prefix, after.as_deref(), order),
                        expected(prefix, after.as_deref(), order),
                        "prefix {prefix:?} after {after:?} {order:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn prefix_end_skips_saturated_bytes() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(b"a\xff"), Some(b"b".to_vec()));
        assert_eq!(prefix_end(b"\xff\xff"), None);
        assert_eq!(prefix_end(b""), None);
    }
}
