//! The test server and a schema per test.

use std::sync::atomic::{AtomicU32, Ordering};

/// The server: `WORKFLOW_TEST_POSTGRES`, or the machine's own.
pub fn url() -> String {
    std::env::var("WORKFLOW_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// A schema name no other test (or test run) uses; dropped with its tables on drop.
pub struct Schema(pub String);

impl Schema {
    pub fn new() -> Schema {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        Schema(format!(
            "t_storage_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ))
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let name = self.0.clone();
        // On a thread of its own, so it also runs while a test's runtime unwinds.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let (client, connection) = tokio_postgres::connect(&url(), tokio_postgres::NoTls)
                    .await
                    .expect("the test server");
                tokio::spawn(connection);
                client
                    .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))
                    .await
                    .unwrap();
            });
        })
        .join()
        .unwrap();
    }
}
