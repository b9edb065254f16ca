//! A 1 GiB object through a workflow and a resume, reporting peak memory.
//!
//! `cargo run --release --example large_object`

use workflow::prelude::*;

#[task]
fn make(len: usize) -> ObjectRef<Vec<u8>> {
    let mut data = vec![0u8; len];
    for (i, byte) in data.iter_mut().enumerate().step_by(4096) {
        *byte = (i / 4096) as u8;
    }
    workflow::put(data)
}

#[task]
fn pass(data: ObjectRef<Vec<u8>>) -> ObjectRef<Vec<u8>> {
    data
}

#[task]
async fn checksum(data: ObjectRef<Vec<u8>>) -> workflow::Result<u64> {
    Ok(data.get().await?.iter().map(|b| *b as u64).sum())
}

/// The process's peak resident memory, from `/proc/self/status`.
fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

#[tokio::main]
async fn main() -> workflow::Result<()> {
    let len: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1 << 30);
    let path = std::env::temp_dir().join("workflow-example-large-object");
    let _ = std::fs::remove_dir_all(&path);

    let engine = Engine::builder()
        .path(&path)
        .object_cache_bytes(2 << 30)
        .build()
        .await?;
    let started = std::time::Instant::now();
    let sum = engine
        .run("large", checksum::bind(pass::bind(make::bind(len))))
        .await?;
    println!(
        "{len} bytes through 3 tasks: checksum {sum} in {:?}",
        started.elapsed()
    );
    engine.close().await?;
    println!("peak memory so far: {} MiB", peak_rss_mib().unwrap_or(0));

    let engine = Engine::open(&path).await?;
    let data: ObjectRef<Vec<u8>> = engine.task_output("large", "make").await?;
    let started = std::time::Instant::now();
    let again: u64 = engine.get(&data).await?.iter().map(|b| *b as u64).sum();
    assert_eq!(again, sum);
    println!("read back after reopening in {:?}", started.elapsed());
    engine.close().await?;
    println!("peak memory: {} MiB", peak_rss_mib().unwrap_or(0));
    let _ = std::fs::remove_dir_all(&path);
    Ok(())
}
