use serde::{Deserialize, Serialize};
use workflow::prelude::*;

#[derive(Serialize, Deserialize)]
struct User {
    id: String,
}

#[virtual_actor]
impl User {
    fn new(id: String) -> Self {
        User { id }
    }

    fn id(&self) -> String {
        self.id.clone()
    }
}

fn main() {}
