use serde::{Deserialize, Serialize};
use workflow::prelude::*;

#[derive(Clone, Serialize, Deserialize)]
struct Snapshot {
    n: u64,
}

#[cfg(any())]
#[derive(Serialize, Deserialize)]
struct OnlyWithFeature;

#[virtual_actor]
impl Snapshot {
    fn new() -> Self {
        Snapshot { n: 0 }
    }

    /// `Self` in a method's types is the actor's type.
    fn snapshot(&self) -> Self {
        self.clone()
    }

    fn replace(&mut self, other: Self) {
        *self = other;
    }

    /// A method left out by `cfg` leaves its generated code out too.
    #[cfg(any())]
    fn gated(&mut self, x: OnlyWithFeature) -> u64 {
        let _ = x;
        self.n
    }
}

async fn use_it(engine: &Engine) -> workflow::Result<()> {
    let actor = Snapshot::get_or_create(engine, "s").await?;
    let copy: Snapshot = actor.snapshot().run().await?;
    actor.replace(copy).run().await?;
    Ok(())
}

fn main() {
    let _ = use_it;
}
