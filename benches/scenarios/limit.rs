//! The physical limit: the same number of records of about the same size written straight
//! into fjall with the same durability, with nothing of the engine in between.
//!
//! Per task the engine writes its step (about 100 bytes, when the workflow is stored), its
//! attempt (about 40) and its result (about 30); per workflow a head record (about 80).
//! Chains and sequential runs commit once per step; wide DAGs batch many steps per commit.

use std::{path::Path, time::Instant};

use fjall::{KeyspaceCreateOptions, PersistMode};
use workflow::Durability;

use crate::measure::Measure;

const STEP: usize = 100;
const ATTEMPT: usize = 40;
const RESULT: usize = 30;
const HEAD: usize = 80;
/// Steps per commit for wide DAGs.
const BATCH: u64 = 1_000;

struct Limit {
    db: fjall::Database,
    keyspace: fjall::Keyspace,
    durability: Durability,
    next: u64,
}

impl Limit {
    fn open(path: &Path, durability: Durability) -> Limit {
        let db = fjall::Database::builder(path)
            .open()
            .expect("a fjall database");
        let keyspace = db
            .keyspace("limit", KeyspaceCreateOptions::default)
            .expect("a keyspace");
        Limit {
            db,
            keyspace,
            durability,
            next: 0,
        }
    }

    /// Commits one batch of records of `sizes`.
    fn commit(&mut self, sizes: impl IntoIterator<Item = usize>) {
        let mut batch = self.db.batch();
        for size in sizes {
            self.next += 1;
            batch.insert(&self.keyspace, self.next.to_be_bytes(), vec![7_u8; size]);
        }
        batch.commit().expect("a commit");
        if self.durability == Durability::Sync {
            self.db.persist(PersistMode::SyncAll).expect("an fsync");
        }
    }
}

fn timed(started: Instant, tasks: u64) -> Measure {
    Measure {
        secs: started.elapsed().as_secs_f64(),
        tasks,
        ..Measure::default()
    }
}

/// `workflows` workflows of one task, one commit each.
pub fn sequential_workflows(path: &Path, durability: Durability, workflows: u64) -> Measure {
    let mut limit = Limit::open(path, durability);
    let started = Instant::now();
    for _ in 0..workflows {
        limit.commit([HEAD, STEP, ATTEMPT, RESULT]);
    }
    timed(started, workflows)
}

/// One workflow whose `steps` run one after another: one commit per step.
pub fn chain(path: &Path, durability: Durability, steps: u64) -> Measure {
    let mut limit = Limit::open(path, durability);
    let started = Instant::now();
    limit.commit(std::iter::once(HEAD).chain((0..steps).map(|_| STEP)));
    for _ in 0..steps {
        limit.commit([RESULT, ATTEMPT]);
    }
    timed(started, steps)
}

/// Steps of `workflows` that run side by side: their records batched.
pub fn wide(path: &Path, durability: Durability, steps: u64, workflows: u64) -> Measure {
    let mut limit = Limit::open(path, durability);
    let started = Instant::now();
    let heads = (0..workflows).map(|_| HEAD);
    limit.commit(heads.chain((0..steps.min(BATCH)).map(|_| STEP)));
    let mut done = 0;
    while done < steps {
        let now = BATCH.min(steps - done);
        limit.commit((0..now).flat_map(|_| [STEP, ATTEMPT, RESULT]));
        done += now;
    }
    timed(started, steps)
}

/// `calls` calls of one actor, one after another: one commit each (state, result, head).
pub fn actor_calls(path: &Path, durability: Durability, calls: u64) -> Measure {
    let mut limit = Limit::open(path, durability);
    let started = Instant::now();
    for _ in 0..calls {
        limit.commit([HEAD, STEP, RESULT, 20]);
    }
    timed(started, calls)
}

/// Opening the fjall database of a store.
pub fn open(path: &Path) -> Measure {
    let started = Instant::now();
    let db = fjall::Database::builder(path)
        .open()
        .expect("a fjall database");
    let measure = timed(started, 1);
    drop(db);
    measure
}
