use serde::{Deserialize, Serialize};
use workflow::prelude::*;

#[derive(Serialize, Deserialize)]
struct Orders;

#[async_trait]
impl EventListener for Orders {
    type Event = String;

    async fn poll_for_event(&self) -> workflow::Result<String> {
        Ok(String::new())
    }
}

fn main() {
    let _waited = workflow::wait_for_event(Orders);
}
