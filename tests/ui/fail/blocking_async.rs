use workflow::prelude::*;

#[task(blocking)]
async fn fetch(url: String) -> String {
    url
}

fn main() {
    let _ = fetch::bind("https://example.com");
}
