use serde::{Deserialize, Serialize};
use workflow::prelude::*;

#[derive(Serialize, Deserialize)]
struct Queue<T>(T);

#[event_listener]
impl<T: workflow::TaskValue> EventListener for Queue<T> {
    type Event = String;

    async fn poll_for_event(&self) -> workflow::Result<String> {
        Ok(String::new())
    }
}

fn main() {}
