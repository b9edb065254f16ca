//! API.md §4: the `objects` acceptance example, as a test.

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

#[tokio::test]
async fn acceptance_objects() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).await?;
    assert_eq!(
        engine.run("objects", concat::bind(words::bind())).await?,
        "hello world"
    );
    // The references are checkpointed with `words`' output, and the objects before it.
    let refs: Vec<ObjectRef<String>> = engine.task_output("objects", "words").await?;
    engine.close().await?;

    let engine = Engine::open(dir.path()).await?;
    assert_eq!(*engine.get(&refs[0]).await?, "hello");
    assert_eq!(*engine.get(&refs[1]).await?, "world");
    engine.close().await
}
