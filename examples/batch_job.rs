//! A batch job, the way a program embeds the engine: count the words of a corpus of small
//! files in a fan-out whose steps fail now and then (and are retried), merge the counts in
//! two levels, and show a progress bar.
//!
//! ```text
//! cargo run --release --example batch_job                 # 10,000 files
//! cargo run --release --example batch_job -- --files 500  # a smaller corpus
//! cargo run --release --example batch_job -- --fresh      # forget the last run
//! ```
//!
//! Stop it with Ctrl-C (it drains: running steps finish and are checkpointed) or kill it,
//! then start it again with the same command: it resumes where it stopped, and no file whose
//! count was checkpointed is read again. The corpus and the store live in
//! `$TMPDIR/workflow-example-batch-job` (or the folder given with `--dir`).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::Duration,
};

use indicatif::{ProgressBar, ProgressStyle};
use workflow::prelude::*;

const WORDS: [&str; 16] = [
    "river", "stone", "cloud", "ember", "maple", "harbor", "lantern", "meadow", "signal", "copper",
    "willow", "thunder", "orchard", "canyon", "velvet", "compass",
];

/// The files of a merge group.
const GROUP: usize = 100;
/// The id of the job's workflow.
const JOB: &str = "word-count";

/// Counts the words of one file. About one file in fifty fails its first attempt, as a flaky
/// disk or network would; the retry reads it again.
#[task(max_retries = 3, retry_errors = true, retry_backoff = "10ms")]
async fn count_words(path: String) -> Result<BTreeMap<String, u64>, String> {
    let attempt = workflow::context().attempt();
    if attempt == 1 && stable_hash(&path).is_multiple_of(50) {
        return Err(format!("{path}: transient read error"));
    }
    let text = tokio::fs::read_to_string(&path)
        .await
        .map_err(|error| format!("{path}: {error}"))?;
    Ok(count(&text))
}

/// Adds up the counts of a group of files.
#[task]
fn merge(counts: Vec<BTreeMap<String, u64>>) -> BTreeMap<String, u64> {
    let mut total = BTreeMap::new();
    for map in counts {
        for (word, n) in map {
            *total.entry(word).or_insert(0) += n;
        }
    }
    total
}

/// The words by count, most frequent first.
#[task]
fn rank(counts: BTreeMap<String, u64>) -> Vec<(String, u64)> {
    let mut ranked: Vec<(String, u64)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    ranked
}

fn count(text: &str) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for word in text.split_whitespace() {
        *counts.entry(word.to_string()).or_insert(0) += 1;
    }
    counts
}

fn stable_hash(text: &str) -> u64 {
    // FNV-1a: the same on every run, unlike std's `RandomState`.
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Writes `files` small files of words (once: an existing corpus of that size is kept).
fn make_corpus(dir: &Path, files: usize) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let paths: Vec<PathBuf> = (0..files)
        .map(|i| dir.join(format!("doc-{i:05}.txt")))
        .collect();
    for (i, path) in paths.iter().enumerate() {
        if path.exists() {
            continue;
        }
        let mut seed = stable_hash(&format!("doc {i}"));
        let words: Vec<&str> = (0..40 + i % 60)
            .map(|_| {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                WORDS[(seed >> 33) as usize % WORDS.len()]
            })
            .collect();
        std::fs::write(path, words.join(" "))?;
    }
    Ok(paths)
}

/// The whole job: a count per file, a merge per group of files, one merge of the groups.
fn job(paths: &[PathBuf]) -> Dag<Vec<(String, u64)>> {
    let groups: Vec<Dag<BTreeMap<String, u64>>> = paths
        .chunks(GROUP)
        .map(|chunk| {
            let counts: Vec<Dag<BTreeMap<String, u64>>> = chunk
                .iter()
                .map(|path| count_words::bind(path.display().to_string()))
                .collect();
            merge::bind(counts)
        })
        .collect();
    rank::bind(merge::bind(groups))
}

/// Ctrl-C, listened for from the call on: a signal before the job waits must not kill it.
fn interrupts() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut interrupt = signal(SignalKind::interrupt()).expect("a Ctrl-C handler");
        async move {
            interrupt.recv().await;
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

struct Options {
    files: usize,
    dir: PathBuf,
    fresh: bool,
}

fn options() -> Options {
    let mut options = Options {
        files: 10_000,
        dir: std::env::temp_dir().join("workflow-example-batch-job"),
        fresh: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--files" => {
                options.files = args.next().and_then(|n| n.parse().ok()).expect("--files N")
            }
            "--dir" => options.dir = args.next().map(PathBuf::from).expect("--dir PATH"),
            "--fresh" => options.fresh = true,
            other => panic!("unknown argument `{other}`: --files N, --dir PATH, --fresh"),
        }
    }
    options
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut ctrl_c = std::pin::pin!(interrupts());
    let options = options();
    let store = options.dir.join("store");
    if options.fresh {
        let _ = std::fs::remove_dir_all(&store);
    }
    let paths = make_corpus(&options.dir.join("corpus"), options.files)?;
    let engine = Engine::open(&store).await?;

    match engine.status(JOB).await {
        Ok(WorkflowStatus::Successful) => println!("{JOB} finished in an earlier run"),
        Ok(WorkflowStatus::Resumable) => {
            println!("{JOB} was stopped: resuming it");
            engine.resume_all().await?;
        }
        Ok(status) => {
            println!("{JOB} is {status}; start over with --fresh");
            return Ok(());
        }
        Err(Error::NotFound { .. }) => {
            println!("counting the words of {} files", paths.len());
            engine.spawn(JOB, job(&paths)).await?;
            println!("started: Ctrl-C stops it, and the same command resumes it");
        }
        Err(error) => return Err(error.into()),
    }

    let mut progress = engine.progress(JOB).await?;
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} tasks {elapsed} (ETA {eta})")
            .expect("a valid template"),
    );
    let interrupted = loop {
        let now = *progress.borrow_and_update();
        bar.set_length(now.known);
        bar.set_position(now.done);
        tokio::select! {
            changed = progress.changed() => if changed.is_err() { break false },
            _ = &mut ctrl_c => break true,
        }
    };
    bar.finish();
    if interrupted {
        println!("interrupted: letting running steps finish, then stopping");
        engine.drain(Duration::from_secs(10)).await?;
        println!("stopped; run the same command again to resume");
        return Ok(());
    }

    let ranked: Vec<(String, u64)> = engine.output(JOB).await?;
    let total: u64 = ranked.iter().map(|(_, n)| n).sum();
    println!("{total} words; the most frequent:");
    for (word, n) in ranked.iter().take(5) {
        println!("  {word:<10} {n}");
    }
    let meta = engine.metadata(JOB).await?;
    let retried = meta.tasks.iter().filter(|t| t.attempts > 1).count();
    println!(
        "{} tasks, {retried} of them retried after a failure",
        meta.tasks.len()
    );
    println!("checksum {}", stable_hash(&format!("{ranked:?}")));
    engine.close().await?;
    Ok(())
}
