//! Finding the objects a value refers to while it is encoded.

use std::cell::RefCell;

use super::ObjectId;

thread_local! {
    static COLLECTING: RefCell<Option<Vec<ObjectId>>> = const { RefCell::new(None) };
}

/// Runs `encode` and returns what it returned with the ids of every `ObjectRef` it serialized.
pub(crate) fn collect_refs<R>(encode: impl FnOnce() -> R) -> (R, Vec<ObjectId>) {
    let outer = COLLECTING.with(|c| c.borrow_mut().replace(Vec::new()));
    let result = encode();
    let mut found = COLLECTING
        .with(|c| std::mem::replace(&mut *c.borrow_mut(), outer))
        .unwrap_or_default();
    found.sort_unstable();
    found.dedup();
    if !found.is_empty() {
        COLLECTING.with(|c| {
            if let Some(outer) = c.borrow_mut().as_mut() {
                outer.extend_from_slice(&found);
            }
        });
    }
    (result, found)
}

/// Called by `ObjectRef`'s `Serialize`.
pub(super) fn note(id: ObjectId) {
    COLLECTING.with(|c| {
        if let Some(found) = c.borrow_mut().as_mut() {
            found.push(id);
        }
    });
}
