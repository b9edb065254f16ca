use workflow::prelude::*;

#[task(timeout = "30 secs please")]
async fn fetch(url: String) -> String {
    url
}

fn main() {
    let _ = fetch::bind("https://example.com");
}
