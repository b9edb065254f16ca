use serde::{Deserialize, Serialize};
use workflow::prelude::*;

#[derive(Serialize, Deserialize)]
struct Orders;

#[event_listener]
impl Orders {
    async fn poll_for_event(&self) -> workflow::Result<String> {
        Ok(String::new())
    }
}

fn main() {}
