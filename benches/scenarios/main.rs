//! The benchmark suite: each scenario with `Sync` and `Buffered`, several rounds, each round
//! in a process of its own (so that its peak memory is its own), against the physical limit
//! measured in the same run: the same records written straight into fjall.
//!
//! ```text
//! cargo bench --bench scenarios                      # every scenario at its default size
//! cargo bench --bench scenarios -- chain             # one scenario
//! cargo bench --bench scenarios -- chain 2000        # one scenario at another size
//! cargo bench --bench scenarios -- --rounds 5        # more rounds (default 3)
//! ```
//!
//! Prints a table, then one JSON line per scenario and durability.

mod engine;
mod limit;
mod measure;
mod tasks;

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use measure::{median, Measure};
use workflow::Durability;

/// The scenarios, with their default sizes.
const SCENARIOS: &[(&str, u64, &str)] = &[
    ("empty", 1_000, "workflows of one task, one after another"),
    ("chain", 10_000, "one workflow: a chain of tasks"),
    (
        "fanout",
        100_000,
        "one workflow: independent tasks and their sum",
    ),
    ("wide-deep", 1_000, "one workflow: N layers of N tasks"),
    ("fib", 25, "fib(N) by continuation"),
    ("many", 10_000, "workflows of 10 tasks, submitted at once"),
    ("resume", 1_000, "N x N tasks killed at half, resumed"),
    (
        "open",
        1_000_000,
        "Engine::open on a store of N checkpointed tasks",
    ),
    (
        "actor",
        100_000,
        "writer calls on one actor; then over 1,000 actors",
    ),
    ("events", 10_000, "waiting workflows released by send_event"),
];

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args.first().map(String::as_str) {
        Some("--child") => child(&args[1..]),
        Some("--victim") => victim(&args[1..]),
        _ => parent(&args),
    }
}

fn durability_of(name: &str) -> Durability {
    match name {
        "Buffered" => Durability::Buffered,
        _ => Durability::Sync,
    }
}

/// `--child engine|limit|setup SCENARIO DURABILITY SIZE STORE`: one round, printed as a line.
fn child(args: &[String]) {
    let (kind, scenario, durability, size, store) = (
        args[0].as_str(),
        args[1].as_str(),
        durability_of(&args[2]),
        args[3].parse::<u64>().expect("a size"),
        PathBuf::from(&args[4]),
    );
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let mut measure = match kind {
        "engine" => runtime
            .block_on(run_engine(scenario, durability, size, &store))
            .expect("the scenario runs"),
        "setup" => {
            runtime
                .block_on(engine::setup_open(&store, size))
                .expect("the store is built");
            Measure::default()
        }
        _ => run_limit(scenario, durability, size, &store),
    };
    measure.peak_rss = measure::peak_rss();
    println!("MEASURE {}", measure.to_line());
}

async fn run_engine(
    scenario: &str,
    durability: Durability,
    size: u64,
    store: &Path,
) -> workflow::Result<Measure> {
    match scenario {
        "empty" => engine::empty(store, durability, size).await,
        "chain" => engine::chain(store, durability, size).await,
        "fanout" => engine::fanout(store, durability, size).await,
        "wide-deep" => engine::wide_deep(store, durability, size).await,
        "fib" => engine::fib(store, durability, size).await,
        "many" => engine::many(store, durability, size).await,
        "open" => engine::open(store, durability).await,
        "actor" => engine::actor(store, durability, size).await,
        "events" => engine::events(store, durability, size).await,
        "resume" => {
            kill_at_half(durability, size, store);
            engine::resume(store, durability, size).await
        }
        other => panic!("no scenario `{other}`"),
    }
}

fn run_limit(scenario: &str, durability: Durability, size: u64, store: &Path) -> Measure {
    match scenario {
        "empty" => limit::sequential_workflows(store, durability, size),
        "chain" => limit::chain(store, durability, size),
        "fanout" => limit::wide(store, durability, size + 1, 1),
        "wide-deep" => limit::wide(store, durability, size * size + 1, 1),
        "fib" => limit::wide(store, durability, fib_tasks(size), 1),
        "many" => limit::wide(store, durability, size * 10, size),
        "resume" => limit::wide(store, durability, (size * size).div_ceil(2), 1),
        "open" => limit::open(store),
        "actor" => limit::actor_calls(store, durability, size),
        "events" => limit::wide(store, durability, size, size),
        other => panic!("no scenario `{other}`"),
    }
}

/// The tasks of fib(n) by continuation, counting `add`s: 3 * F(n + 1) - 2.
fn fib_tasks(n: u64) -> u64 {
    let (mut a, mut b) = (0_u64, 1_u64);
    for _ in 0..=n {
        (a, b) = (b, a + b);
    }
    3 * a - 2
}

/// Runs the `resume` victim until about half of its tasks ran, then kills it (SIGKILL).
fn kill_at_half(durability: Durability, size: u64, store: &Path) {
    let name = if durability == Durability::Sync {
        "Sync"
    } else {
        "Buffered"
    };
    let mut victim = Command::new(std::env::current_exe().expect("this bench"))
        .args(["--victim", name, &size.to_string()])
        .arg(store)
        .stdout(Stdio::piped())
        .spawn()
        .expect("the victim starts");
    let half = size * size / 2;
    let lines = BufReader::new(victim.stdout.take().expect("its output")).lines();
    for line in lines {
        let ran: u64 = line.expect("a line").trim().parse().unwrap_or(0);
        if ran >= half {
            break;
        }
    }
    victim.kill().expect("the victim is killed");
    victim.wait().expect("the victim ends");
}

/// `--victim DURABILITY SIZE STORE`.
fn victim(args: &[String]) {
    let durability = durability_of(&args[0]);
    let size: u64 = args[1].parse().expect("a size");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime
        .block_on(engine::resume_victim(Path::new(&args[2]), durability, size))
        .expect("the victim runs");
}

/// One round in a process of its own, on a fresh store (or `store` if given).
fn round(kind: &str, scenario: &str, durability: &str, size: u64, store: Option<&Path>) -> Measure {
    let fresh = tempfile::tempdir().expect("a temporary folder");
    let path = store.map_or_else(|| fresh.path().join("store"), Path::to_path_buf);
    let output = Command::new(std::env::current_exe().expect("this bench"))
        .args(["--child", kind, scenario, durability, &size.to_string()])
        .arg(&path)
        .stderr(Stdio::inherit())
        .output()
        .expect("the round runs");
    assert!(
        output.status.success(),
        "{scenario} {kind} {durability} failed"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("MEASURE "))
        .and_then(Measure::from_line)
        .expect("the round prints its measure")
}

struct Row {
    scenario: String,
    durability: &'static str,
    size: u64,
    engine: Vec<Measure>,
    limit: Vec<Measure>,
}

fn parent(args: &[String]) {
    let mut rounds = 3;
    let mut selected: Vec<(&str, u64)> = Vec::new();
    let mut args = args.iter().peekable();
    while let Some(arg) = args.next() {
        if arg == "--rounds" {
            rounds = args
                .next()
                .and_then(|r| r.parse().ok())
                .expect("--rounds N");
            continue;
        }
        let Some(&(name, default, _)) = SCENARIOS.iter().find(|(name, ..)| name == arg) else {
            panic!(
                "no scenario `{arg}`; the scenarios: {:?}",
                SCENARIOS.iter().map(|s| s.0).collect::<Vec<_>>()
            );
        };
        let size = args
            .next_if(|a| a.parse::<u64>().is_ok())
            .map_or(default, |a| a.parse().unwrap());
        selected.push((name, size));
    }
    if selected.is_empty() {
        selected = SCENARIOS
            .iter()
            .map(|&(name, size, _)| (name, size))
            .collect();
    }
    println!(
        "{} round(s) per measure, each in its own process; medians (min..max)",
        rounds
    );
    let mut rows = Vec::new();
    for (scenario, size) in selected {
        let store = tempfile::tempdir().expect("a temporary folder");
        let shared = store.path().join("store");
        if scenario == "open" {
            round("setup", scenario, "Buffered", size, Some(&shared));
        }
        for durability in ["Sync", "Buffered"] {
            let store = (scenario == "open").then_some(shared.as_path());
            let engine = (0..rounds)
                .map(|_| round("engine", scenario, durability, size, store))
                .collect();
            let limit = (0..rounds)
                .map(|_| round("limit", scenario, durability, size, store))
                .collect();
            let row = Row {
                scenario: scenario.to_string(),
                durability,
                size,
                engine,
                limit,
            };
            print_row(&row);
            rows.push(row);
        }
    }
    println!();
    for row in &rows {
        println!("{}", json(row));
    }
}

fn stats(measures: &[Measure], of: impl Fn(&Measure) -> f64) -> (f64, f64, f64) {
    let mut values: Vec<f64> = measures.iter().map(of).collect();
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(0.0, f64::max);
    (median(&mut values), min, max)
}

fn extras(row: &Row) -> Vec<(String, f64)> {
    let Some(first) = row.engine.first() else {
        return Vec::new();
    };
    first
        .extra
        .iter()
        .map(|(key, _)| {
            let (median, ..) = stats(&row.engine, |m| m.extra(key).unwrap_or(0.0));
            (key.clone(), median)
        })
        .collect()
}

fn print_row(row: &Row) {
    let (secs, min, max) = stats(&row.engine, |m| m.secs);
    let (tasks, ..) = stats(&row.engine, |m| m.tasks as f64);
    let (rss, ..) = stats(&row.engine, |m| m.peak_rss as f64);
    let (limit, ..) = stats(&row.limit, |m| m.secs);
    let extra: Vec<String> = extras(row)
        .iter()
        .map(|(key, value)| format!("{key} {value:.0}"))
        .collect();
    println!(
        "{:<10} {:>9} {:<8} {:>9.3}s ({:.3}..{:.3}) {:>10.0}/s  rss {:>6.0} MiB  limit {:>8.3}s  x{:<6.2} {}",
        row.scenario,
        row.size,
        row.durability,
        secs,
        min,
        max,
        tasks / secs,
        rss / (1024.0 * 1024.0),
        limit,
        secs / limit,
        extra.join("  ")
    );
}

fn json(row: &Row) -> String {
    let (secs, min, max) = stats(&row.engine, |m| m.secs);
    let (tasks, ..) = stats(&row.engine, |m| m.tasks as f64);
    let (rss, ..) = stats(&row.engine, |m| m.peak_rss as f64);
    let (limit, ..) = stats(&row.limit, |m| m.secs);
    let mut line = format!(
        "{{\"scenario\":\"{}\",\"size\":{},\"durability\":\"{}\",\"median_s\":{secs:.6},\"min_s\":{min:.6},\"max_s\":{max:.6},\"tasks\":{tasks:.0},\"tasks_per_s\":{:.0},\"peak_rss_bytes\":{rss:.0},\"limit_s\":{limit:.6},\"engine_over_limit\":{:.3}",
        row.scenario,
        row.size,
        row.durability,
        tasks / secs,
        secs / limit
    );
    for (key, value) in extras(row) {
        line.push_str(&format!(",\"{key}\":{value:.1}"));
    }
    line.push('}');
    line
}
