use serde::{Deserialize, Serialize};
use workflow::prelude::*;

#[derive(Serialize, Deserialize)]
struct Order {
    id: u64,
    cents: u64,
}

#[derive(Serialize, Deserialize)]
struct Receipt {
    order: u64,
}

#[task(
    name = "billing.charge",
    version = 2,
    max_retries = 5,
    retry_errors = true,
    retry_backoff = "100ms",
    checkpoint = false,
    timeout = "1m 30s"
)]
async fn charge(order: Order) -> Result<Receipt, String> {
    Ok(Receipt { order: order.id })
}

#[task(blocking)]
fn crunch(n: u64) -> u64 {
    (0..n).sum()
}

#[task(blocking = true, timeout = "500us")]
fn crunch_more(n: u64) -> u64 {
    n
}

#[task(blocking = false, max_retries = 0)]
async fn quick() -> u64 {
    1
}

fn main() {
    let _receipt: Dag<Receipt> = charge::bind(Order { id: 1, cents: 250 });
    let _sum: Dag<u64> = crunch_more::bind(crunch::bind(quick::bind()));
}
