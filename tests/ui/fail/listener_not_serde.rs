use workflow::prelude::*;

struct Orders;

#[event_listener]
impl EventListener for Orders {
    type Event = String;

    async fn poll_for_event(&self) -> workflow::Result<String> {
        Ok(String::new())
    }
}

fn main() {}
