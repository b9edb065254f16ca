//! `workflow serve`: the standalone tool serves the web view of a store folder, or of the
//! store a running program holds, through its admin socket.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    process::{Child, Command, Stdio},
    time::Duration,
};

use workflow::prelude::*;

mod support;

#[task]
fn one() -> i64 {
    1
}

#[task]
async fn slow(x: i64) -> i64 {
    tokio::time::sleep(Duration::from_secs(60)).await;
    x
}

/// The tool serving `store` on a free loopback port, killed on drop.
struct Served {
    child: Child,
    addr: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(store: &std::path::Path) -> Served {
    serve_with(&[std::ffi::OsStr::new("--store"), store.as_os_str()])
}

fn serve_with(store: &[&std::ffi::OsStr]) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_workflow"))
        .args(store)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the workflow binary runs");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("its output"))
        .read_line(&mut line)
        .expect("a line");
    let addr = line
        .trim()
        .strip_prefix("serving the web view on http://")
        .and_then(|rest| rest.strip_suffix('/'))
        .unwrap_or_else(|| panic!("not the serving line: {line}"))
        .to_string();
    Served { child, addr }
}

/// One HTTP/1.1 request; the status line and the body.
fn request(addr: &str, method: &str, path: &str, host: &str, headers: &str) -> (String, String) {
    let mut stream = TcpStream::connect(addr).expect("the view listens");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: 0\r\n{headers}\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer.lines().next().unwrap_or_default().to_string();
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test]
async fn the_tool_serves_a_store_folder_on_loopback() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).await?;
    engine.run("report-7", one::bind()).await?;
    engine.close().await?;

    let served = serve(dir.path());
    let host = served.addr.clone();
    let (status, body) = request(&served.addr, "GET", "/api/workflows", &host, "");
    assert!(status.contains("200"), "{status}");
    assert!(body.contains("\"report-7\""), "{body}");
    let (status, body) = request(&served.addr, "GET", "/", &host, "");
    assert!(
        status.contains("200") && body.contains("data-page=\"list\""),
        "{status}"
    );
    // Another name for the same address: a page of another site after DNS rebinding.
    let (status, _) = request(
        &served.addr,
        "GET",
        "/api/workflows",
        "attacker.example",
        "",
    );
    assert!(status.contains("421"), "{status}");
    // The tool links no task: no resume.
    let (status, _) = request(
        &served.addr,
        "POST",
        "/api/workflows/report-7/resume",
        &host,
        "x-workflow-request: 1\r\n",
    );
    assert!(status.contains("501"), "{status}");
    Ok(())
}

// The requests block this thread while the engine answers on another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tool_serves_a_held_store_through_its_program() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).await?;
    engine.spawn("long", slow::bind(1)).await?;
    let served = serve(dir.path());
    let host = served.addr.clone();
    let (status, body) = request(&served.addr, "GET", "/api/workflows/long", &host, "");
    assert!(
        status.contains("200") && body.contains("\"running\""),
        "{status} {body}"
    );
    let (status, body) = request(
        &served.addr,
        "POST",
        "/api/workflows/long/cancel",
        &host,
        "x-workflow-request: 1\r\n",
    );
    assert!(status.contains("200"), "{status} {body}");
    assert_eq!(engine.status("long").await?, WorkflowStatus::Canceled);
    drop(served);
    engine.close().await
}

/// Ctrl-C stops the tool even while a page follows a running workflow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupt_stops_serving_while_a_page_follows_a_run() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).await?;
    engine.spawn("long", slow::bind(1)).await?;
    let mut served = serve(dir.path());
    let mut live = TcpStream::connect(&served.addr).expect("the view listens");
    let head = format!(
        "GET /api/workflows/long/live HTTP/1.1\r\nHost: {}\r\n\r\n",
        served.addr
    );
    live.write_all(head.as_bytes()).unwrap();
    live.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut first = [0u8; 512];
    let read = live.read(&mut first).unwrap();
    assert!(String::from_utf8_lossy(&first[..read]).contains("200 OK"));

    let pid = served.child.id().to_string();
    let sent = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(sent.success());
    let mut waited = 0;
    let status = loop {
        if let Some(status) = served.child.try_wait().unwrap() {
            break status;
        }
        assert!(waited < 100, "the tool still serves 10 s after Ctrl-C");
        std::thread::sleep(Duration::from_millis(100));
        waited += 1;
    };
    assert!(status.success(), "{status}");
    assert_eq!(engine.status("long").await?, WorkflowStatus::Running);
    engine.close().await
}

/// On a PostgreSQL store, the tool serves the view as a worker of its fleet that takes up
/// none of its work.
#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tool_serves_a_postgres_store() -> workflow::Result<()> {
    let schema = support::postgres::Schema::new("web");
    let engine = schema.builder().build().await?;
    engine.run("pg-report", one::bind()).await?;
    let url = support::postgres::url();
    let args = ["--store", url.as_str(), "--schema", schema.0.as_str()];
    let args: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
    let served = serve_with(&args);
    let host = served.addr.clone();
    let (status, body) = request(&served.addr, "GET", "/api/workflows", &host, "");
    assert!(
        status.contains("200") && body.contains("\"pg-report\""),
        "{status} {body}"
    );
    let (status, body) = request(
        &served.addr,
        "GET",
        "/api/workflows/pg-report/graph",
        &host,
        "",
    );
    assert!(
        status.contains("200") && body.contains("data-node"),
        "{status} {body}"
    );
    drop(served);
    engine.close().await
}

#[test]
fn other_addresses_need_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let engine = Engine::open(dir.path()).await.unwrap();
        engine.close().await.unwrap();
    });
    let output = Command::new(env!("CARGO_BIN_EXE_workflow"))
        .arg("--store")
        .arg(dir.path())
        .args(["serve", "--addr", "0.0.0.0:0"])
        .env_remove("WORKFLOW_WEB_TOKEN")
        .output()
        .expect("the workflow binary runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("token"), "{stderr}");
}
