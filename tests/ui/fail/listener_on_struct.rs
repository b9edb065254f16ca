use workflow::prelude::*;

#[event_listener]
struct Orders;

fn main() {}
