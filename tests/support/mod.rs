//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod crash;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod stores;
#[cfg(feature = "web")]
pub mod web;

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

/// Appends `entry` to the shared log.
pub fn log(entry: impl Into<String>) {
    log_store().lock().unwrap().push(entry.into());
}

/// The entries of the shared log that start with `prefix`, in order.
pub fn logged(prefix: &str) -> Vec<String> {
    log_store()
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.starts_with(prefix))
        .cloned()
        .collect()
}

fn log_store() -> &'static Mutex<Vec<String>> {
    static LOG: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    LOG.get_or_init(Default::default)
}

/// A gate that tasks wait at until a test opens it, one per name.
pub fn gate(name: &str) -> std::sync::Arc<tokio::sync::Semaphore> {
    static GATES: OnceLock<Mutex<HashMap<String, std::sync::Arc<tokio::sync::Semaphore>>>> =
        OnceLock::new();
    GATES
        .get_or_init(Default::default)
        .lock()
        .unwrap()
        .entry(name.to_string())
        .or_insert_with(|| std::sync::Arc::new(tokio::sync::Semaphore::new(0)))
        .clone()
}

/// Lets every task waiting at gate `name`, and all later ones, through.
pub fn open_gate(name: &str) {
    gate(name).add_permits(1 << 20);
}

/// A task that logs `{gate_name}:start:{value}`, waits at gate `gate_name`, and returns `value`.
#[workflow::task]
pub async fn gated(gate_name: String, value: i64) -> i64 {
    log(format!("{gate_name}:start:{value}"));
    let _permit = gate(&gate_name).acquire_owned().await.unwrap();
    value
}

/// A task that counts its executions under `key` and returns `value`.
#[workflow::task]
pub fn counted(key: String, value: i64) -> i64 {
    hit(&key);
    value
}

/// An engine on a fresh store for one test: a temporary embedded store, or, when
/// `WORKFLOW_TEST_STORE=postgres`, a schema of its own on the test PostgreSQL server (dropped
/// with the engine), so one suite runs on both stores.
pub async fn engine() -> workflow::Result<TestEngine> {
    match std::env::var("WORKFLOW_TEST_STORE").as_deref() {
        Ok("postgres") => {
            #[cfg(feature = "postgres")]
            {
                let schema = postgres::Schema::new("suite");
                let engine = schema.builder().build().await?;
                Ok(TestEngine {
                    engine,
                    _schema: Some(schema),
                })
            }
            #[cfg(not(feature = "postgres"))]
            panic!("WORKFLOW_TEST_STORE=postgres needs the `postgres` feature")
        }
        Ok("fjall") | Err(_) => Ok(TestEngine {
            engine: workflow::Engine::temporary().await?,
            #[cfg(feature = "postgres")]
            _schema: None,
        }),
        Ok(other) => panic!("WORKFLOW_TEST_STORE={other}: use `fjall` or `postgres`"),
    }
}

/// An engine of [`engine`], with the store it owns; derefs to the engine.
pub struct TestEngine {
    engine: workflow::Engine,
    #[cfg(feature = "postgres")]
    _schema: Option<postgres::Schema>,
}

impl std::ops::Deref for TestEngine {
    type Target = workflow::Engine;

    fn deref(&self) -> &workflow::Engine {
        &self.engine
    }
}
