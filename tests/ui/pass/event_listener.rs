use serde::{Deserialize, Serialize};
use workflow::prelude::*;

#[derive(Serialize, Deserialize)]
struct Orders {
    topic: String,
}

#[event_listener]
impl EventListener for Orders {
    type Event = String;

    async fn poll_for_event(&self) -> workflow::Result<String> {
        Ok(self.topic.clone())
    }

    async fn event_checkpointed(&self, _event: &String) -> workflow::Result<()> {
        Ok(())
    }
}

#[derive(Serialize, Deserialize)]
struct Named(u8);

#[event_listener(name = "shop.named")]
impl workflow::EventListener for Named {
    type Event = u8;

    async fn poll_for_event(&self) -> workflow::Result<u8> {
        Ok(self.0)
    }
}

#[task]
fn both(a: String, b: u8) -> String {
    format!("{a}{b}")
}

fn main() {
    let _dag: Dag<String> = both::bind(
        workflow::wait_for_event(Orders { topic: "t".into() }),
        workflow::wait_for_event(Named(1)),
    );
}
