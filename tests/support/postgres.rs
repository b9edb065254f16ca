//! A schema of its own on the test server for each test, dropped afterwards.
//!
//! The server is `WORKFLOW_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/test`).

use std::sync::atomic::{AtomicU32, Ordering};

pub fn url() -> String {
    std::env::var("WORKFLOW_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// A schema name no other test (or test run) uses; dropped with its tables on drop.
pub struct Schema(pub String);

impl Schema {
    pub fn new(tag: &str) -> Schema {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        static CLEANED: std::sync::Once = std::sync::Once::new();
        CLEANED.call_once(|| {
            std::thread::spawn(drop_stale_schemas).join().ok();
        });
        Schema(format!(
            "t_{tag}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ))
    }

    /// An engine builder on this schema.
    pub fn builder(&self) -> workflow::EngineBuilder {
        workflow::Engine::builder()
            .postgres(url())
            .postgres_schema(&self.0)
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        // On a thread of its own, not joined: a test on a current-thread runtime may still
        // hold connections whose transactions this would wait for. Schemas a process left
        // behind are dropped by the next one (see `drop_stale_schemas`).
        let name = self.0.clone();
        std::thread::spawn(move || drop_schemas(&[name]));
    }
}

/// Drops the schemas of test processes that are gone (on Linux, where `/proc` tells; the
/// test server is this machine's, so its processes are the ones to look for).
fn drop_stale_schemas() {
    if !std::path::Path::new("/proc/self").exists() {
        return;
    }
    let stale: Vec<String> = match list_test_schemas() {
        Ok(names) => names
            .into_iter()
            .filter(|name| {
                let pid = name
                    .split('_')
                    .rev()
                    .nth(1)
                    .and_then(|p| p.parse::<u32>().ok());
                pid.is_some_and(|pid| {
                    pid != std::process::id()
                        && !std::path::Path::new(&format!("/proc/{pid}")).exists()
                })
            })
            .collect(),
        Err(_) => return,
    };
    if !stale.is_empty() {
        drop_schemas(&stale);
    }
}

fn list_test_schemas() -> Result<Vec<String>, tokio_postgres::Error> {
    block_on(async {
        let (client, connection) = tokio_postgres::connect(&url(), tokio_postgres::NoTls).await?;
        tokio::spawn(connection);
        let rows = client
            .query(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\\_%'",
                &[],
            )
            .await?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    })
}

fn drop_schemas(names: &[String]) {
    let dropped = block_on(async {
        let (client, connection) = tokio_postgres::connect(&url(), tokio_postgres::NoTls).await?;
        tokio::spawn(connection);
        for name in names {
            client
                .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))
                .await?;
        }
        Ok::<_, tokio_postgres::Error>(())
    });
    if let Err(error) = dropped {
        eprintln!("test schemas {names:?} were not dropped: {error}");
    }
}

/// Runs `future` on a runtime of its own (the caller is a plain thread).
fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// The rows of `table` (with any `WHERE` clause after it) in `schema`.
pub async fn count_rows(schema: &str, table: &str) -> i64 {
    let (client, connection) = tokio_postgres::connect(&url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .query_one(&format!("SELECT count(*) FROM \"{schema}\".{table}"), &[])
        .await
        .unwrap()
        .get(0)
}
