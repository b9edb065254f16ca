//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::{
    collections::HashMap,
    sync::{Mutex, OnceLock},
};

/// Counts how often each (test, task) ran in this process.
fn counters() -> &'static Mutex<HashMap<String, u32>> {
    static COUNTERS: OnceLock<Mutex<HashMap<String, u32>>> = OnceLock::new();
    COUNTERS.get_or_init(Default::default)
}

/// Records one execution of `key`; returns how many there were, this one included.
pub fn hit(key: &str) -> u32 {
    let mut counters = counters().lock().unwrap();
    let count = counters.entry(key.to_string()).or_insert(0);
    *count += 1;
    *count
}

/// How many executions of `key` were recorded.
pub fn hits(key: &str) -> u32 {
    counters().lock().unwrap().get(key).copied().unwrap_or(0)
}
