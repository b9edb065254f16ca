//! Steps that wait: durable sleeps.

mod sleep;

pub use sleep::sleep;
