//! The command line as users run it: the standalone `workflow` binary on stores made here,
//! and a program that mounts the commands (this test binary, run again as a child process).

mod support;

use std::{
    path::Path,
    process::{Command, Output},
    time::Duration,
};

use serde_json::Value;
use workflow::prelude::*;

#[task]
fn one() -> i64 {
    1
}

#[task]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[task]
fn countdown(n: u32) -> Flow<u32> {
    if n == 0 {
        Flow::Done(0)
    } else {
        Flow::Continue(countdown::bind(n - 1))
    }
}

#[task]
fn broken() -> Result<i64, String> {
    Err("out of paper".to_string())
}

#[task]
fn approve(yes: bool, _slept: ()) -> String {
    if yes {
        "approved".to_string()
    } else {
        "refused".to_string()
    }
}

/// A store with a successful, a failed, a continued and a waiting (then interrupted) workflow.
async fn make_store(path: &Path) -> workflow::Result<()> {
    let engine = Engine::open(path).await?;
    engine
        .run("alpha", add::bind(add::bind(one::bind(), one::bind()), 5))
        .await?;
    assert!(engine.run("broken", broken::bind()).await.is_err());
    engine.run("levels", countdown::bind(2)).await?;
    let waiting = approve::bind(
        workflow::wait_for_event(ExternalEvent::<bool>::new("approval")),
        workflow::sleep(Duration::from_millis(300)),
    );
    engine.spawn("waiting", waiting).await?;
    tokio::time::sleep(Duration::from_millis(50)).await;
    engine.close().await
}

fn tool(store: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_workflow"))
        .arg("--store")
        .arg(store)
        .args(args)
        .output()
        .expect("the workflow binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs the tool, expects success, parses its JSON output.
fn tool_json(store: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let output = tool(store, &all);
    assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    serde_json::from_str(&stdout(&output)).unwrap_or_else(|e| panic!("{e}: {}", stdout(&output)))
}

#[tokio::test]
async fn list_show_events_and_stats_read_a_store() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    make_store(dir.path()).await?;
    let store = dir.path();

    let listed = tool(store, &["list"]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    let text = stdout(&listed);
    for line in [
        "alpha",
        "successful",
        "broken",
        "failed",
        "waiting",
        "resumable",
    ] {
        assert!(text.contains(line), "{line} missing from\n{text}");
    }
    let all = tool_json(store, &["list"]);
    assert_eq!(all.as_array().unwrap().len(), 4);
    let failed = tool_json(store, &["list", "--status", "failed"]);
    assert_eq!(failed[0]["id"], "broken");
    assert_eq!(failed.as_array().unwrap().len(), 1);

    // Pages, newest first; the cursor of the rest is printed on stderr.
    let ids = |listed: &Value| -> Vec<String> {
        listed
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["id"].as_str().unwrap().to_string())
            .collect()
    };
    let first = tool(store, &["--json", "list", "--limit", "2"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let page: Value = serde_json::from_str(&stdout(&first)).unwrap();
    assert_eq!(ids(&page), ["waiting", "levels"]);
    let hint = stderr(&first);
    let cursor = hint
        .split("--after ")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .unwrap_or_else(|| panic!("no cursor in {hint}"));
    let rest = tool_json(store, &["list", "--after", cursor]);
    assert_eq!(ids(&rest), ["broken", "alpha"]);
    let prefixed = tool_json(store, &["list", "--prefix", "al"]);
    assert_eq!(ids(&prefixed), ["alpha"]);
    let bad = tool(store, &["list", "--after", "nonsense"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("cursor"), "{}", stderr(&bad));

    let shown = tool(store, &["show", "alpha"]);
    let text = stdout(&shown);
    assert!(text.contains("status    successful"), "{text}");
    // The graph: the outer `add_1` takes the inner `add`, which takes both `one`s.
    assert!(text.contains("add_1 [successful]"), "{text}");
    assert!(text.contains("└─ add [successful]"), "{text}");
    assert!(text.contains("one_1 [successful]"), "{text}");
    let levels = tool_json(store, &["show", "levels"]);
    assert_eq!(levels["status"], "Successful");
    assert_eq!(levels["tasks"].as_array().unwrap().len(), 3);
    assert_eq!(levels["tasks"][2]["parent"], "countdown_1");
    let levels_text = stdout(&tool(store, &["show", "levels"]));
    assert!(
        levels_text.contains("continues as countdown_1"),
        "{levels_text}"
    );
    let broken = tool_json(store, &["show", "broken"]);
    assert!(broken["tasks"][0]["error"]
        .as_str()
        .unwrap()
        .contains("out of paper"));

    let waits = tool_json(store, &["events", "waiting"]);
    assert_eq!(waits["events"][0]["key"], "approval");
    assert_eq!(waits["timers"][0]["task_id"], "sleep");
    assert_eq!(waits["timers"][0]["duration_ms"], 300);
    assert!(stdout(&tool(store, &["events", "waiting"])).contains("approval"));

    let stats = tool_json(store, &["stats"]);
    assert_eq!(stats["workflows"], 4);
    assert_eq!(stats["by_status"]["Successful"], 2);
    assert_eq!(stats["by_status"]["Failed"], 1);
    assert_eq!(stats["by_status"]["Resumable"], 1);
    assert!(stats["disk_bytes"].as_u64().unwrap() > 0);
    assert!(stdout(&tool(store, &["stats"])).contains("workflows"));

    // A store left by a process that stopped opens normally: its workflow is resumable, and
    // watching it ends at once with its stored progress.
    let watched = tool(store, &["watch", "waiting"]);
    assert!(watched.status.success(), "{}", stderr(&watched));
    assert!(stdout(&watched).contains("waiting: resumable"));
    Ok(())
}

#[tokio::test]
async fn cancel_and_delete_change_the_store() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    make_store(dir.path()).await?;
    let store = dir.path();

    let canceled = tool_json(store, &["cancel", "waiting"]);
    assert_eq!(canceled["status"], "Canceled");
    let deleted = tool(store, &["delete", "alpha"]);
    assert!(deleted.status.success(), "{}", stderr(&deleted));
    assert!(stdout(&deleted).contains("alpha: deleted"));

    let engine = Engine::open(store).await?;
    assert_eq!(engine.status("waiting").await?, WorkflowStatus::Canceled);
    assert!(matches!(
        engine.status("alpha").await,
        Err(Error::NotFound { .. })
    ));
    engine.close().await?;

    let missing = tool(store, &["show", "alpha"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("alpha"), "{}", stderr(&missing));
    Ok(())
}

#[tokio::test]
async fn bad_paths_ids_and_commands_get_messages_and_exit_codes() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    make_store(&dir.path().join("store")).await?;
    let store = dir.path().join("store");

    let nowhere = tool(&dir.path().join("nowhere"), &["list"]);
    assert_eq!(nowhere.status.code(), Some(3));
    assert!(
        stderr(&nowhere).contains("does not exist"),
        "{}",
        stderr(&nowhere)
    );
    // The tool never creates a store.
    assert!(!dir.path().join("nowhere").exists());

    let file = dir.path().join("file");
    std::fs::write(&file, "not a store").unwrap();
    let on_file = tool(&file, &["list"]);
    assert_eq!(on_file.status.code(), Some(3));
    assert!(
        stderr(&on_file).contains("is a file"),
        "{}",
        stderr(&on_file)
    );

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let not_store = tool(&empty, &["list"]);
    assert_eq!(not_store.status.code(), Some(3));
    assert!(stderr(&not_store).contains("holds no workflow store"));

    let bad_id = tool(&store, &["show", "bad/id"]);
    assert_eq!(bad_id.status.code(), Some(1));
    assert!(stderr(&bad_id).contains("bad/id"), "{}", stderr(&bad_id));

    let needs_tasks = tool(&store, &["output", "alpha"]);
    assert_eq!(needs_tasks.status.code(), Some(1));
    assert!(stderr(&needs_tasks).contains("workflow::cli::run"));

    let unknown = tool(&store, &["frobnicate"]);
    assert_eq!(unknown.status.code(), Some(2));

    let by_env = Command::new(env!("CARGO_BIN_EXE_workflow"))
        .env("WORKFLOW_STORE", &store)
        .args(["--json", "list", "--status", "SUCCESSFUL"])
        .output()
        .unwrap();
    assert!(by_env.status.success(), "{}", stderr(&by_env));
    let listed: Value = serde_json::from_str(&stdout(&by_env)).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    Ok(())
}

/// Where the child's command output starts, after the test harness's own lines.
const MARK: &str = "--- cli output ---";
const CHILD_STORE: &str = "WORKFLOW_CLI_TEST_STORE";
const CHILD_ARGS: &str = "WORKFLOW_CLI_TEST_ARGS";

/// In a child process: a program that mounts the commands with `workflow::cli::run_from`.
#[tokio::test]
async fn embedded_program() {
    let (Ok(store), Ok(args)) = (std::env::var(CHILD_STORE), std::env::var(CHILD_ARGS)) else {
        return;
    };
    let engine = Engine::open(store).await.expect("the store");
    let args: Vec<String> = serde_json::from_str(&args).unwrap();
    println!("{MARK}");
    let code = workflow::cli::run_from(engine, args).await;
    std::process::exit(if code == std::process::ExitCode::SUCCESS {
        0
    } else {
        1
    });
}

/// Runs the program with `args`; its exit status and what it printed after the mark.
fn program(store: &Path, args: &[&str]) -> (bool, String, String) {
    let mut argv = vec!["my-app"];
    argv.extend_from_slice(args);
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "embedded_program",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_STORE, store)
        .env(CHILD_ARGS, serde_json::to_string(&argv).unwrap())
        .output()
        .unwrap();
    let out = stdout(&output);
    let printed = out
        .split_once(MARK)
        .map(|(_, rest)| rest.trim().to_string());
    (
        output.status.success(),
        printed.unwrap_or_default(),
        stderr(&output),
    )
}

#[tokio::test]
async fn a_program_mounting_the_commands_reads_outputs_sends_events_and_resumes(
) -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    make_store(dir.path()).await?;
    let store = dir.path();

    let (ok, printed, err) = program(store, &["output", "alpha"]);
    assert!(ok, "{err}");
    assert_eq!(serde_json::from_str::<Value>(&printed).unwrap(), 7);

    let (ok, _, err) = program(store, &["send-event", "waiting", "approval", "maybe"]);
    assert!(!ok);
    assert!(err.contains("not valid JSON"), "{err}");
    let (ok, _, err) = program(store, &["send-event", "waiting", "approval", "\"yes\""]);
    assert!(!ok);
    assert!(err.contains("bool"), "{err}");
    let (ok, printed, err) = program(store, &["send-event", "waiting", "approval", "true"]);
    assert!(ok, "{err}");
    assert!(printed.contains("event `approval` sent"), "{printed}");

    let (ok, printed, err) = program(store, &["--json", "resume", "waiting"]);
    assert!(ok, "{err}");
    let resumed: Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(resumed["output"], "approved");

    let (ok, printed, err) = program(store, &["resume-all"]);
    assert!(ok, "{err}");
    assert_eq!(printed, "nothing to resume");

    let (ok, _, err) = program(store, &["output", "broken"]);
    assert!(!ok);
    assert!(err.contains("out of paper"), "{err}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_held_by_a_running_program_is_read_through_its_admin_socket() -> workflow::Result<()>
{
    let dir = tempfile::tempdir().unwrap();
    make_store(dir.path()).await?;
    let store = dir.path().to_path_buf();
    let engine = Engine::open(&store).await?;
    // Owner-only: another user cannot steer this program's workflows.
    use std::os::unix::fs::PermissionsExt;
    let socket = store.join(workflow::admin::SOCKET);
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let live = approve::bind(
        workflow::wait_for_event(ExternalEvent::<bool>::new("approval")),
        workflow::sleep(Duration::from_millis(10)),
    );
    engine.spawn("live", live).await?;

    // The tool runs in another process while this one holds the store.
    let (list, stats, shown, events) = tokio::task::spawn_blocking({
        let store = store.clone();
        move || {
            (
                tool_json(&store, &["list"]),
                tool_json(&store, &["stats"]),
                tool_json(&store, &["show", "live"]),
                tool_json(&store, &["events", "live"]),
            )
        }
    })
    .await
    .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 5);
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["id"] == "live" && w["status"] == "Running"));
    assert_eq!(stats["by_status"]["Running"], 1);
    assert_eq!(shown["status"], "Running");
    assert_eq!(events["events"][0]["key"], "approval");

    // `watch` follows the run until it ends, here by an event sent meanwhile.
    let watch = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || tool(&store, &["watch", "live"]))
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    engine.send_event("live", "approval", &true).await?;
    let watched = watch.await.unwrap();
    assert!(watched.status.success(), "{}", stderr(&watched));
    let printed = stdout(&watched);
    assert!(printed.contains("3/3 tasks"), "{printed}");
    assert!(
        printed.trim_end().ends_with("live: successful"),
        "{printed}"
    );

    // Commands that change what the program holds, other than cancel, are refused.
    let refused = tokio::task::spawn_blocking({
        let store = store.clone();
        move || tool(&store, &["delete", "alpha"])
    })
    .await
    .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("running program holds"));

    let nap = approve::bind(
        workflow::wait_for_event(ExternalEvent::<bool>::new("never")),
        workflow::sleep(Duration::from_secs(3600)),
    );
    engine.spawn("napping", nap).await?;
    let canceled = tokio::task::spawn_blocking({
        let store = store.clone();
        move || tool_json(&store, &["cancel", "napping"])
    })
    .await
    .unwrap();
    assert_eq!(canceled["status"], "Canceled");
    assert_eq!(engine.status("napping").await?, WorkflowStatus::Canceled);

    engine.close().await?;
    assert!(!socket.exists(), "the socket goes with the engine");
    Ok(())
}

#[tokio::test]
async fn a_held_store_whose_program_does_not_answer_is_reported() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let silent = Engine::builder()
        .path(dir.path())
        .admin_socket(false)
        .build()
        .await?;
    silent.run("w", one::bind()).await?;
    let store = dir.path().to_path_buf();
    let output = tokio::task::spawn_blocking(move || tool(&store, &["list"]))
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert!(
        stderr(&output).contains("no engine answers"),
        "{}",
        stderr(&output)
    );
    silent.close().await?;
    Ok(())
}

#[tokio::test]
async fn a_record_of_a_newer_format_is_named_with_what_to_do() -> workflow::Result<()> {
    use workflow::storage::{Batch, Durability, FjallStore, KeyBuilder, Keyspace, Storage};
    let dir = tempfile::tempdir().unwrap();
    make_store(dir.path()).await?;
    {
        // A workflow record as a newer build would write it: format version 200.
        let store = FjallStore::open(dir.path()).unwrap();
        let mut batch = Batch::new();
        batch.put(Keyspace::new("workflows"), "future", vec![200u8, 1, 2, 3]);
        // Its entry in the index of creation times, as that build writes it too.
        let created = KeyBuilder::new().u64(u64::MAX).str("future").build();
        batch.put(Keyspace::new("created"), created, Vec::<u8>::new());
        store.commit(batch, Durability::Sync).await.unwrap();
        store.close().await.unwrap();
    }
    let store = dir.path();
    let shown = tool(store, &["show", "future"]);
    assert_eq!(shown.status.code(), Some(1));
    let message = stderr(&shown);
    assert!(
        message.contains("newer than this build supports"),
        "{message}"
    );
    assert!(message.contains("upgrade"), "{message}");
    // The others are still listed, and the one skipped is named.
    let listed = tool(store, &["--json", "list"]);
    let workflows: Value = serde_json::from_str(&stdout(&listed)).unwrap();
    assert_eq!(workflows.as_array().unwrap().len(), 4);
    let warning = stderr(&listed);
    assert!(
        warning.contains("listing skips a workflow record"),
        "{warning}"
    );
    assert!(warning.contains("future"), "{warning}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_admin_client_does_not_keep_a_dropped_engine_open() -> workflow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).await?;
    // A client that connects and never sends its request.
    let idle = tokio::net::UnixStream::connect(dir.path().join(workflow::admin::SOCKET))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    drop(engine);
    // Dropping the last handle releases the store, the idle client notwithstanding.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let reopened = loop {
        match Engine::open(dir.path()).await {
            Err(Error::Locked { .. }) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            other => break other,
        }
    };
    assert!(reopened.is_ok(), "{reopened:?}");
    drop(idle);
    Ok(())
}

/// The tool on a PostgreSQL store: given its URL and schema, the same commands work; a
/// schema without a store is refused without creating one; a held schema is named so.
#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tool_reads_a_postgres_store() -> workflow::Result<()> {
    let schema = support::postgres::Schema::new("cli");
    let url = support::postgres::url();
    let engine = schema.builder().build().await?;
    engine
        .run("alpha", add::bind(add::bind(one::bind(), one::bind()), 5))
        .await?;
    assert!(engine.run("broken", broken::bind()).await.is_err());
    engine.close().await?;

    let pg_tool = |schema: &str, args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_workflow"))
            .args(["--store", &url, "--schema", schema])
            .args(args)
            .output()
            .expect("the workflow binary runs")
    };
    let listed = pg_tool(&schema.0, &["--json", "list"]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    let workflows: Value = serde_json::from_str(&stdout(&listed)).unwrap();
    let ids: Vec<&str> = workflows
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["broken", "alpha"]);
    let shown = pg_tool(&schema.0, &["show", "alpha"]);
    assert!(
        stdout(&shown).contains("status    successful"),
        "{}",
        stdout(&shown)
    );

    // No store in that schema: refused, and none made.
    let empty = support::postgres::Schema::new("cli_none");
    let missing = pg_tool(&empty.0, &["list"]);
    assert_eq!(missing.status.code(), Some(3));
    assert!(
        stderr(&missing).contains("no workflow store"),
        "{}",
        stderr(&missing)
    );
    assert!(!workflow::storage::PgStore::exists(&url, &empty.0).await?);

    // Beside a running engine: the tool joins the fleet, and lists what that engine runs.
    let running = schema.builder().build().await?;
    running.spawn("gamma", one::bind()).await?;
    let beside = pg_tool(&schema.0, &["list"]);
    assert!(beside.status.success(), "{}", stderr(&beside));
    assert!(stdout(&beside).contains("gamma"), "{}", stdout(&beside));
    running.close().await
}
