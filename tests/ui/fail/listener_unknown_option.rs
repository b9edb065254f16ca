use serde::{Deserialize, Serialize};
use workflow::prelude::*;

#[derive(Serialize, Deserialize)]
struct Orders;

#[event_listener(nmae = "orders")]
impl EventListener for Orders {
    type Event = String;

    async fn poll_for_event(&self) -> workflow::Result<String> {
        Ok(String::new())
    }
}

fn main() {}
