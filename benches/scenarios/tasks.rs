//! The tasks and actors the scenarios run.

use std::sync::{
    atomic::{AtomicU64, Ordering},
    OnceLock,
};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use workflow::prelude::*;

/// Tasks run in this process, and when the first one ran.
pub static RAN: AtomicU64 = AtomicU64::new(0);
pub static FIRST_RUN: OnceLock<Instant> = OnceLock::new();

fn ran() {
    FIRST_RUN.get_or_init(Instant::now);
    RAN.fetch_add(1, Ordering::Relaxed);
}

#[task]
pub fn trivial() -> u64 {
    ran();
    1
}

#[task]
pub fn add_one(value: u64) -> u64 {
    ran();
    value + 1
}

#[task]
pub fn leaf(i: u64) -> u64 {
    ran();
    i
}

#[task]
pub fn sum(values: Vec<u64>) -> u64 {
    ran();
    values.into_iter().sum()
}

#[task]
pub fn add(a: u64, b: u64) -> u64 {
    ran();
    a + b
}

#[task]
pub fn fib(n: u64) -> Flow<u64> {
    ran();
    if n <= 1 {
        return Flow::Done(n);
    }
    workflow::continuation(add::bind(fib::bind(n - 1), fib::bind(n - 2)))
}

#[task]
pub fn released(value: u64) -> u64 {
    ran();
    value
}

/// A chain of `length` tasks, each adding 1.
pub fn chain(length: u64) -> Dag<u64> {
    let mut dag = add_one::bind(0);
    for _ in 1..length {
        dag = add_one::bind(dag);
    }
    dag
}

/// `width` independent tasks and one that sums them.
pub fn fanout(width: u64) -> Dag<u64> {
    sum::bind((0..width).map(leaf::bind).collect::<Vec<_>>())
}

/// `layers` layers of `width` tasks, each depending on one task of the layer before, and a
/// sum of the last layer.
pub fn wide_deep(layers: u64, width: u64) -> Dag<u64> {
    let mut layer: Vec<Dag<u64>> = (0..width).map(leaf::bind).collect();
    for _ in 1..layers {
        layer = layer.iter().map(add_one::bind).collect();
    }
    sum::bind(layer)
}

#[derive(Serialize, Deserialize)]
pub struct Counter {
    count: u64,
}

#[virtual_actor]
impl Counter {
    pub fn new() -> Self {
        Counter { count: 0 }
    }

    pub fn incr(&mut self) -> u64 {
        ran();
        self.count += 1;
        self.count
    }

    pub fn value(&self) -> u64 {
        self.count
    }
}
