//! Crash tests: a child process (this test binary again) runs a workflow and is killed with
//! SIGKILL; the test resumes it. Execution counts kept in a file prove that no checkpointed
//! task ran twice.

use std::{
    collections::HashMap,
    io::Write,
    path::{Path, PathBuf},
    process::{Child, Command},
    time::{Duration, Instant},
};

use workflow::prelude::*;

pub const ROLE: &str = "WORKFLOW_CRASH_ROLE";
pub const STORE: &str = "WORKFLOW_CRASH_STORE";
pub const RUNS: &str = "WORKFLOW_CRASH_RUNS";

pub fn is_child() -> bool {
    std::env::var_os(ROLE).is_some()
}

/// Appends one line per execution; the file outlives the killed process.
pub fn record_run(runs: &str, name: &str) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(runs)
        .unwrap();
    // One write per line: concurrent tasks append whole lines.
    file.write_all(format!("{name}\n").as_bytes()).unwrap();
}

/// Appends `{tag} {workflow id} {task id}` for the running task to the log named by the
/// environment variable `log_var`, which the harness set for the child.
pub fn record_task_run(log_var: &str, tag: &str) {
    let log = std::env::var(log_var).unwrap_or_else(|_| panic!("{log_var} is set for the child"));
    let context = workflow::context();
    record_run(
        &log,
        &format!("{tag} {} {}", context.workflow_id(), context.task_id()),
    );
}

pub fn run_counts(runs: &Path) -> HashMap<String, u32> {
    let mut counts = HashMap::new();
    if let Ok(text) = std::fs::read_to_string(runs) {
        for line in text.lines() {
            *counts.entry(line.to_string()).or_insert(0) += 1;
        }
    }
    counts
}

/// In the child, never returns: the parent kills the process here.
pub fn hang_in_child() {
    if is_child() {
        loop {
            std::thread::sleep(Duration::from_secs(1));
        }
    }
}

pub struct Scenario {
    pub _dir: tempfile::TempDir,
    pub store: PathBuf,
    pub runs: PathBuf,
}

impl Scenario {
    pub fn new() -> Scenario {
        let dir = tempfile::tempdir().unwrap();
        Scenario {
            store: dir.path().join("store"),
            runs: dir.path().join("runs"),
            _dir: dir,
        }
    }

    pub fn runs(&self) -> String {
        self.runs.to_str().unwrap().to_string()
    }

    /// Starts this test binary again, running only `test`, as the child.
    pub fn spawn_child(&self, test: &str, durability: &str) -> Child {
        Command::new(std::env::current_exe().unwrap())
            .args([test, "--exact", "--nocapture", "--test-threads=1"])
            .env(ROLE, durability)
            .env(STORE, &self.store)
            .env(RUNS, &self.runs)
            .spawn()
            .unwrap()
    }

    /// Waits until `done` holds for the execution counts.
    pub fn wait_for(&self, done: impl Fn(&HashMap<String, u32>) -> bool) {
        let start = Instant::now();
        while !done(&run_counts(&self.runs)) {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the child made no progress"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// The child's side: open the store named by the environment and run `dag` as `id`.
pub async fn child_runs<T: TaskValue>(id: &str, dag: fn(&str) -> Dag<T>) {
    let durability = match std::env::var(ROLE).unwrap().as_str() {
        "buffered" => Durability::Buffered,
        _ => Durability::Sync,
    };
    let store = std::env::var(STORE).unwrap();
    let runs = std::env::var(RUNS).unwrap();
    let engine = Engine::builder()
        .path(store)
        .durability(durability)
        .build()
        .await
        .unwrap();
    let _ = engine.run(id, dag(&runs)).await;
    unreachable!("the child is killed before its workflow ends");
}
