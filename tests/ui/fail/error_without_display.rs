use workflow::prelude::*;

#[derive(Debug)]
struct ParseFailure;

#[task]
fn parse(text: String) -> Result<i64, ParseFailure> {
    text.parse().map_err(|_| ParseFailure)
}

fn main() {
    let _ = parse::bind("42");
}
