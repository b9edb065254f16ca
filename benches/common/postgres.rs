//! What the PostgreSQL benchmarks share: the server, and what the database does alone.

use std::time::Instant;

use tokio_postgres::{Client, NoTls};
use workflow::Durability;

pub fn url() -> String {
    std::env::var("WORKFLOW_BENCH_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

pub async fn admin() -> Client {
    let (client, connection) = tokio_postgres::connect(&url(), NoTls)
        .await
        .expect("the benchmark's server");
    tokio::spawn(connection);
    client
}

/// The database alone: `count` single-row commits from one connection (about the records of
/// one step each), then the same rows in one transaction.
pub async fn baseline(count: u64, durability: Durability) -> (f64, f64) {
    let schema = format!("bench_base_{}", std::process::id());
    let client = admin().await;
    client
        .batch_execute(&format!(
            "CREATE SCHEMA \"{schema}\";
             CREATE TABLE \"{schema}\".t (k bytea PRIMARY KEY, v bytea NOT NULL);"
        ))
        .await
        .expect("a table");
    if durability == Durability::Buffered {
        client
            .batch_execute("SET synchronous_commit = off")
            .await
            .expect("a setting");
    }
    let insert = client
        .prepare(&format!(
            "INSERT INTO \"{schema}\".t VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v"
        ))
        .await
        .expect("a statement");
    let value = vec![7_u8; 170];
    let started = Instant::now();
    for n in 0..count {
        client
            .execute(&insert, &[&n.to_be_bytes().as_slice(), &value])
            .await
            .expect("a commit");
    }
    let single = started.elapsed().as_secs_f64();
    let keys: Vec<Vec<u8>> = (count..2 * count)
        .map(|n| n.to_be_bytes().to_vec())
        .collect();
    let values = vec![value; count as usize];
    let started = Instant::now();
    client
        .execute(
            &format!("INSERT INTO \"{schema}\".t SELECT * FROM UNNEST($1::bytea[], $2::bytea[])"),
            &[&keys, &values],
        )
        .await
        .expect("one transaction");
    let batched = started.elapsed().as_secs_f64();
    client
        .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .await
        .expect("the schema is dropped");
    (single, batched)
}

pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
