//! Steps that wait: durable sleeps and external events.

mod external;
pub(crate) mod hub;
mod sleep;

pub use external::{wait_for_event, EventSource, ExternalEvent};
pub(crate) use hub::EventHub;
pub use sleep::sleep;
