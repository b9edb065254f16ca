//! The third acceptance example: values passed by reference.
//!
//! `cargo run --example objects`

use workflow::prelude::*;

#[task]
fn hello() -> String {
    "hello".to_string()
}

#[task]
fn words() -> Vec<ObjectRef<String>> {
    vec![hello::remote(), workflow::put("world".to_string())]
}

#[task]
async fn concat(words: Vec<ObjectRef<String>>) -> workflow::Result<String> {
    let mut parts = Vec::new();
    for w in &words {
        parts.push(w.get().await?.to_string());
    }
    Ok(parts.join(" "))
}

#[tokio::main]
async fn main() -> workflow::Result<()> {
    // A store of its own, fresh on every run.
    let path = std::env::temp_dir().join("workflow-example-objects");
    let _ = std::fs::remove_dir_all(&path);
    let engine = Engine::open(&path).await?;

    let out = engine.run("objects", concat::bind(words::bind())).await?;
    assert_eq!(out, "hello world");
    println!("{out}");

    engine.close().await?;
    Ok(())
}
