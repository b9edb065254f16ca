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
        let name = self.0.clone();
        // On a thread of its own, so it also runs while a test's runtime unwinds.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let (client, connection) =
                    tokio_postgres::connect(&url(), tokio_postgres::NoTls).await?;
                tokio::spawn(connection);
                client
                    .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))
                    .await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("schema {} was not dropped", self.0);
        }
    }
}
