//! The kill loop: a child process (this test binary again) runs a seeded mix of workflows
//! (fan-outs, continuations, objects, sleeps, external events and transfers between account
//! actors) and is killed with SIGKILL at a random moment, again and again; a last child
//! finishes the work. Then: every output equals the plain-Rust computation, no task whose
//! checkpoint was stored when its round began ran in that round, and the accounts hold the
//! money they started with.
//!
//! `KILL_ROUNDS=500 KILL_SEED=42 cargo test --release --test reliability_kill_loop -- --nocapture`
//! (or `scripts/kill-loop 500 42`) runs a long campaign; the default is a short one.

mod support;

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};
use support::crash::record_task_run;
use workflow::{prelude::*, TaskStatus};

const ROLE: &str = "KILL_LOOP_ROLE";
const ACCOUNTS: u64 = 4;
const OPENING: u64 = 1_000;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is set for the child"))
}

/// Logs one execution of the running task: round, workflow id, task id.
fn executed() {
    record_task_run("KILL_LOOP_RUNS", &env("KILL_LOOP_ROUND"));
}

#[derive(Serialize, Deserialize)]
struct Account {
    balance: u64,
}

#[virtual_actor]
impl Account {
    fn new(balance: u64) -> Self {
        Account { balance }
    }

    /// Takes `amount` from here, and returns it to be deposited elsewhere.
    fn withdraw(&mut self, amount: u64) -> Result<u64, String> {
        executed();
        if self.balance < amount {
            return Err(format!("only {} left", self.balance));
        }
        self.balance -= amount;
        Ok(amount)
    }

    fn deposit(&mut self, amount: u64) -> u64 {
        executed();
        self.balance += amount;
        amount
    }

    fn balance(&self) -> u64 {
        self.balance
    }
}

#[task]
fn square(i: u64) -> u64 {
    executed();
    i * i
}

#[task]
fn sum(values: Vec<u64>) -> u64 {
    executed();
    values.iter().sum()
}

#[task]
fn countdown(n: u64, acc: u64) -> Flow<u64> {
    executed();
    if n == 0 {
        return Flow::Done(acc);
    }
    workflow::continuation(countdown::bind(n - 1, acc + n))
}

#[task]
fn stash(n: u64) -> ObjectRef<Vec<u64>> {
    executed();
    workflow::put((1..=n).collect::<Vec<u64>>())
}

#[task]
async fn total(values: ObjectRef<Vec<u64>>) -> workflow::Result<u64> {
    executed();
    Ok(values.get().await?.iter().sum())
}

#[task]
fn plus(a: u64, b: u64) -> u64 {
    executed();
    a + b
}

#[task]
fn after(slept: (), value: u64) -> u64 {
    executed();
    let () = slept;
    value
}

/// One workflow of the mix, with what it must output.
#[derive(Clone, Debug)]
enum Job {
    FanOut(u64),
    Chain(u64),
    Objects(u64),
    Sleep(u64, u64),
    Event(u64),
    Transfer(u64, u64, u64),
}

const EVENT_VALUE: u64 = 5;

impl Job {
    fn dag(&self) -> Dag<u64> {
        match *self {
            Job::FanOut(n) => sum::bind((0..n).map(square::bind).collect::<Vec<_>>()),
            Job::Chain(n) => countdown::bind(n, 0),
            Job::Objects(n) => total::bind(stash::bind(n)),
            Job::Sleep(ms, value) => after::bind(workflow::sleep(Duration::from_millis(ms)), value),
            Job::Event(value) => plus::bind(
                workflow::wait_for_event(ExternalEvent::<u64>::new("go")),
                value,
            ),
            // Two calls: the withdrawal's output is the deposit's argument. (A writer that
            // called the other account from a continuation would hold its own account
            // meanwhile, and two opposite transfers would wait for each other forever.)
            Job::Transfer(from, to, amount) => Account::actor(&account(to))
                .deposit(Account::actor(&account(from)).withdraw(amount).bind())
                .bind(),
        }
    }

    fn expected(&self) -> u64 {
        match *self {
            Job::FanOut(n) => (0..n).map(|i| i * i).sum(),
            Job::Chain(n) | Job::Objects(n) => n * (n + 1) / 2,
            Job::Sleep(_, value) => value,
            Job::Event(value) => EVENT_VALUE + value,
            Job::Transfer(_, _, amount) => amount,
        }
    }
}

fn account(n: u64) -> String {
    format!("acct-{n}")
}

/// SplitMix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The workflows that round `round` of mix `seed` adds, with their ids; every later round
/// starts them again (a no-op once they are finished).
fn jobs(seed: u64, round: u64) -> Vec<(String, Job)> {
    let mut rng = Rng(seed.wrapping_mul(1_000).wrapping_add(round));
    (0..JOBS_PER_ROUND)
        .map(|n| (format!("w-{round}-{n}"), job(&mut rng)))
        .collect()
}

/// The workflows of rounds `0..=round`.
fn jobs_until(seed: u64, round: u64) -> Vec<(String, Job)> {
    (0..=round).flat_map(|r| jobs(seed, r)).collect()
}

const JOBS_PER_ROUND: u64 = 12;

fn job(rng: &mut Rng) -> Job {
    match rng.below(6) {
        0 => Job::FanOut(50 + rng.below(400)),
        1 => Job::Chain(10 + rng.below(60)),
        2 => Job::Objects(1 + rng.below(500)),
        3 => Job::Sleep(50 + rng.below(600), rng.below(1000)),
        4 => Job::Event(rng.below(1000)),
        _ => {
            let from = rng.below(ACCOUNTS);
            let to = (from + 1 + rng.below(ACCOUNTS - 1)) % ACCOUNTS;
            Job::Transfer(from, to, 1 + rng.below(50))
        }
    }
}

fn durability(seed: u64) -> Durability {
    if seed.is_multiple_of(2) {
        Durability::Sync
    } else {
        Durability::Buffered
    }
}

/// The (workflow id, task id) of every step checkpointed in the store: the workflows of
/// the mix and the calls of the accounts.
async fn checkpointed(engine: &Engine, jobs: &[(String, Job)]) -> BTreeSet<String> {
    let mut ids: Vec<String> = jobs.iter().map(|(id, _)| id.clone()).collect();
    for a in 0..ACCOUNTS {
        for call in 0.. {
            let id = format!("{}@{call}", account(a));
            if engine.status(&id).await.is_err() {
                break;
            }
            ids.push(id);
        }
    }
    let mut done = BTreeSet::new();
    for id in ids {
        let Ok(meta) = engine.metadata(&id).await else {
            continue;
        };
        for task in meta.tasks {
            if matches!(task.status, TaskStatus::Successful | TaskStatus::Continued) {
                done.insert(format!("{id} {}", task.task_id));
            }
        }
    }
    done
}

/// The child: notes what is checkpointed, then resumes and runs the whole mix.
async fn child() {
    let seed: u64 = env("KILL_LOOP_SEED").parse().unwrap();
    let round = env("KILL_LOOP_ROUND");
    let dir = PathBuf::from(env("KILL_LOOP_DIR"));
    let jobs = jobs_until(seed, round.parse().unwrap());
    let engine = Engine::builder()
        .path(dir.join("store"))
        .durability(durability(seed))
        .build()
        .await
        .expect("the store opens");
    // Written before anything can run, and renamed into place whole.
    let done = checkpointed(&engine, &jobs).await;
    let snapshot = dir.join(format!("checkpointed-{round}"));
    let partial = snapshot.with_extension("partial");
    std::fs::write(&partial, done.into_iter().collect::<Vec<_>>().join("\n")).unwrap();
    std::fs::rename(&partial, &snapshot).unwrap();

    engine.resume_all().await.expect("resume_all");
    for a in 0..ACCOUNTS {
        Account::get_or_create(&engine, &account(a), OPENING)
            .await
            .expect("an account");
    }
    let mut handles = Vec::new();
    for (id, job) in &jobs {
        handles.push(engine.spawn(id, job.dag()).await.expect("spawn"));
        if let Job::Event(_) = job {
            engine
                .send_event(id, "go", &EVENT_VALUE)
                .await
                .expect("send_event");
        }
    }
    for (handle, (_, job)) in handles.iter().zip(&jobs) {
        assert_eq!(handle.output().await.expect("an output"), job.expected());
    }
    engine.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_loop() {
    if std::env::var_os(ROLE).is_some() {
        return child().await;
    }
    let rounds: u64 = setting("KILL_ROUNDS", 6);
    let seed: u64 = setting("KILL_SEED", 0x6b69_6c6c);
    let mut rng = Rng(seed ^ 0xdead_beef);
    let mut kills = 0;
    let mut finished_early = 0;
    for campaign in 0..rounds.div_ceil(ROUNDS_PER_MIX) {
        let mix_seed = seed.wrapping_add(campaign);
        let dir = tempfile::tempdir().unwrap();
        let in_mix = ROUNDS_PER_MIX.min(rounds - campaign * ROUNDS_PER_MIX);
        for round in 0..in_mix {
            let mut child = spawn_child(dir.path(), mix_seed, round);
            // Any moment from the child's start to well into its work.
            let wait = Duration::from_millis(10 + rng.below(500));
            let started = Instant::now();
            while started.elapsed() < wait {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            match child.try_wait().unwrap() {
                Some(status) => {
                    assert!(
                        status.success(),
                        "seed {mix_seed} round {round}: the child failed"
                    );
                    finished_early += 1;
                }
                None => {
                    child.kill().unwrap();
                    child.wait().unwrap();
                    kills += 1;
                }
            }
        }
        // A last child finishes the work.
        let mut last = spawn_child(dir.path(), mix_seed, in_mix);
        let status = wait_at_most(&mut last, Duration::from_secs(120));
        assert!(
            status,
            "seed {mix_seed}: the last child did not finish the work"
        );
        verify(dir.path(), mix_seed, in_mix + 1).await;
    }
    eprintln!(
        "kill loop (seed {seed}): {rounds} rounds, {kills} kills, {finished_early} rounds \
         finished before their kill, 0 invariant failures"
    );
    assert!(kills > 0, "no child was killed mid-run");
}

/// Rounds run on one store (one mix) before a fresh one is started.
const ROUNDS_PER_MIX: u64 = 6;

/// Checks the invariants after the rounds `0..rounds` of mix `seed` in `dir`.
async fn verify(dir: &Path, seed: u64, rounds: u64) {
    let jobs = jobs_until(seed, rounds - 1);
    let engine = Engine::open(dir.join("store")).await.unwrap();
    for (id, job) in &jobs {
        assert_eq!(
            engine.output::<u64>(id).await.unwrap(),
            job.expected(),
            "seed {seed}: {id} ({job:?})"
        );
    }
    let mut balance = 0;
    for a in 0..ACCOUNTS {
        let acct = Account::get_actor(&engine, &account(a)).await.unwrap();
        balance += acct.balance().run().await.unwrap();
    }
    assert_eq!(
        balance,
        ACCOUNTS * OPENING,
        "seed {seed}: money was made or lost"
    );
    engine.close().await.unwrap();

    let runs = std::fs::read_to_string(dir.join("runs")).unwrap_or_default();
    for round in 0..rounds {
        let snapshot = std::fs::read_to_string(dir.join(format!("checkpointed-{round}")));
        let ran: Vec<&str> = runs
            .lines()
            .filter_map(|line| line.strip_prefix(&format!("{round} ")))
            .collect();
        let Ok(snapshot) = snapshot else {
            assert!(
                ran.is_empty(),
                "seed {seed} round {round} ran tasks before its snapshot"
            );
            continue;
        };
        let done: BTreeSet<&str> = snapshot.lines().collect();
        for execution in ran {
            assert!(
                !done.contains(execution),
                "seed {seed} round {round}: `{execution}` ran again though it was checkpointed"
            );
        }
    }
}

fn spawn_child(dir: &Path, seed: u64, round: u64) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["kill_loop", "--exact", "--nocapture", "--test-threads=1"])
        .env(ROLE, "child")
        .env("KILL_LOOP_SEED", seed.to_string())
        .env("KILL_LOOP_ROUND", round.to_string())
        .env("KILL_LOOP_DIR", dir)
        .env("KILL_LOOP_RUNS", dir.join("runs"))
        .stdout(Stdio::null())
        .spawn()
        .unwrap()
}

fn wait_at_most(child: &mut std::process::Child, limit: Duration) -> bool {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.success();
        }
        if started.elapsed() > limit {
            child.kill().unwrap();
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
