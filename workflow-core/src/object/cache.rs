//! The shared in-memory cache of decoded objects: bounded by size, least recently used out.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

use super::{ErasedObject, ObjectId};

/// A decoded object and its size.
#[derive(Clone)]
pub(crate) struct Cached {
    pub(crate) object: Arc<dyn ErasedObject>,
    /// Its encoded size, which stands for its size in memory.
    pub(crate) size: u64,
}

/// Objects by id, evicted least recently used first once their sizes pass `capacity`.
pub(crate) struct Cache {
    capacity: u64,
    used: u64,
    tick: u64,
    entries: HashMap<ObjectId, (Cached, u64)>,
    by_age: BTreeMap<u64, ObjectId>,
}

impl Cache {
    pub(crate) fn new(capacity: u64) -> Cache {
        Cache {
            capacity,
            used: 0,
            tick: 0,
            entries: HashMap::new(),
            by_age: BTreeMap::new(),
        }
    }

    pub(crate) fn get(&mut self, id: ObjectId) -> Option<Cached> {
        let (cached, age) = self.entries.get_mut(&id)?;
        self.by_age.remove(age);
        self.tick += 1;
        *age = self.tick;
        self.by_age.insert(self.tick, id);
        Some(cached.clone())
    }

    /// Adds an object; one larger than the whole cache is not kept.
    pub(crate) fn insert(&mut self, id: ObjectId, cached: Cached) {
        self.remove(id);
        if cached.size > self.capacity {
            return;
        }
        self.used += cached.size;
        self.tick += 1;
        self.by_age.insert(self.tick, id);
        self.entries.insert(id, (cached, self.tick));
        while self.used > self.capacity {
            let Some((_, oldest)) = self.by_age.pop_first() else {
                break;
            };
            if let Some((evicted, _)) = self.entries.remove(&oldest) {
                self.used -= evicted.size;
            }
        }
    }

    pub(crate) fn remove(&mut self, id: ObjectId) {
        if let Some((cached, age)) = self.entries.remove(&id) {
            self.by_age.remove(&age);
            self.used -= cached.size;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(size: u64) -> Cached {
        Cached {
            object: crate::object::space::erase(size),
            size,
        }
    }

    #[test]
    fn evicts_least_recently_used_beyond_capacity() {
        let mut cache = Cache::new(100);
        let ids: Vec<ObjectId> = (0..3).map(|_| ObjectId::new()).collect();
        cache.insert(ids[0], entry(40));
        cache.insert(ids[1], entry(40));
        assert!(cache.get(ids[0]).is_some());
        cache.insert(ids[2], entry(40));
        assert!(
            cache.get(ids[1]).is_none(),
            "the least recently used goes first"
        );
        assert!(cache.get(ids[0]).is_some());
        assert!(cache.get(ids[2]).is_some());
        let huge = ObjectId::new();
        cache.insert(huge, entry(1_000));
        assert!(cache.get(huge).is_none());
        assert!(cache.get(ids[0]).is_some());
    }
}
