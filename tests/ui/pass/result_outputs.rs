use std::fmt;

use workflow::prelude::*;

#[derive(Debug)]
struct FetchError(String);

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fetch failed: {}", self.0)
    }
}

#[task]
async fn fetch(url: String) -> Result<String, FetchError> {
    if url.is_empty() {
        return Err(FetchError("empty url".to_string()));
    }
    Ok(format!("body of {url}"))
}

#[task]
fn parse(body: String) -> workflow::Result<usize> {
    Ok(body.len())
}

#[task]
fn read(path: String) -> std::io::Result<Vec<u8>> {
    std::fs::read(path)
}

#[task]
fn check(len: usize) -> Result<(), String> {
    if len > 0 {
        Ok(())
    } else {
        Err("empty".to_string())
    }
}

fn main() {
    let body: Dag<String> = fetch::bind("https://example.com");
    let len: Dag<usize> = parse::bind(body);
    let _bytes: Dag<Vec<u8>> = read::bind("Cargo.toml");
    let _done: Dag<()> = check::bind(len);
}
