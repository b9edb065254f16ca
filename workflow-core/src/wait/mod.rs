//! Steps that wait: durable sleeps, external events and event listeners.

mod external;
pub(crate) mod hub;
mod listener;
mod sleep;

pub use external::{wait_for_event, EventSource, ExternalEvent};
pub(crate) use hub::EventHub;
pub use listener::EventListener;
#[doc(hidden)]
pub use listener::{ack_registration, poll_registration, RegisteredListener};
pub use sleep::sleep;
