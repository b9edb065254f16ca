use serde::{Deserialize, Serialize};
use workflow::prelude::*;

#[derive(Serialize, Deserialize)]
struct Greeter {
    greeting: String,
}

#[virtual_actor]
impl Greeter {
    fn new() -> Self {
        Greeter { greeting: "hello".into() }
    }

    fn greet(&self, name: &str) -> String {
        format!("{} {name}", self.greeting)
    }
}

fn main() {}
