use std::time::Duration;

use workflow::prelude::*;

#[task]
fn risky(n: i64) -> Result<i64, String> {
    if n > 0 {
        Ok(n)
    } else {
        Err("not positive".to_string())
    }
}

#[task]
fn report(result: Result<i64, TaskError>) -> String {
    match result {
        Ok(value) => value.to_string(),
        Err(error) => format!(
            "failed after {} attempts: {}",
            error.attempts(),
            error.message()
        ),
    }
}

fn main() {
    let node: Dag<i64> = risky::bind(1)
        .task_id("risky-1")
        .max_retries(2)
        .retry_errors(true)
        .retry_backoff(Duration::from_millis(10))
        .timeout(Duration::from_secs(5))
        .checkpoint(false)
        .metadata(serde_json::json!({ "owner": "ops" }));
    let caught: Dag<Result<i64, TaskError>> = node.catch_errors();
    let _report: Dag<String> = report::bind(caught);
}
