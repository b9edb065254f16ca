//! `examples/batch_job.rs` as its users run it: stopped with Ctrl-C (SIGINT) or killed
//! (SIGKILL) and started again with the same command, it resumes and ends with the result a
//! run without interruption gives.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

/// The example's binary, which `cargo test` builds beside the test binaries.
fn example() -> PathBuf {
    let deps = std::env::current_exe().unwrap();
    let profile = deps.parent().unwrap().parent().unwrap();
    profile.join("examples").join("batch_job")
}

const FILES: &str = "3000";

fn start(dir: &Path) -> (Child, BufReader<std::process::ChildStdout>) {
    let mut child = Command::new(example())
        .args(["--files", FILES, "--dir"])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the batch_job example is built by `cargo test`");
    let stdout = BufReader::new(child.stdout.take().unwrap());
    (child, stdout)
}

/// Runs the example to its end; what it printed.
fn finish(dir: &Path) -> String {
    let output = Command::new(example())
        .args(["--files", FILES, "--dir"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn checksum(printed: &str) -> String {
    printed
        .lines()
        .find(|line| line.starts_with("checksum "))
        .unwrap_or_else(|| panic!("no checksum in\n{printed}"))
        .to_string()
}

/// Reads the example's lines until the job is stored and running, then lets it run a little.
fn wait_started(stdout: &mut impl BufRead) {
    let mut line = String::new();
    while !line.starts_with("started") {
        line.clear();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "the example ended early"
        );
    }
    std::thread::sleep(Duration::from_millis(50));
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([name, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn batch_job_resumes_after_ctrl_c_and_after_sigkill_with_the_same_result() {
    let clean = tempfile::tempdir().unwrap();
    let expected = checksum(&finish(clean.path()));

    // Ctrl-C: the job drains and says how to resume.
    let dir = tempfile::tempdir().unwrap();
    let (mut child, mut stdout) = start(dir.path());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(
        first.starts_with("counting the words of 3000 files"),
        "{first}"
    );
    wait_started(&mut stdout);
    signal(&child, "-INT");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert!(child.wait().unwrap().success());
    assert!(
        rest.contains("stopped; run the same command again"),
        "{rest}"
    );
    let resumed = finish(dir.path());
    assert!(resumed.contains("was stopped: resuming it"), "{resumed}");
    assert_eq!(checksum(&resumed), expected);

    // SIGKILL: nothing is drained, and the next run resumes all the same.
    let dir = tempfile::tempdir().unwrap();
    let (mut child, mut stdout) = start(dir.path());
    wait_started(&mut stdout);
    signal(&child, "-KILL");
    assert!(!child.wait().unwrap().success());
    let resumed = finish(dir.path());
    assert!(resumed.contains("was stopped: resuming it"), "{resumed}");
    assert_eq!(checksum(&resumed), expected);

    // A finished job is not run again.
    let again = finish(dir.path());
    assert!(again.contains("finished in an earlier run"), "{again}");
    assert_eq!(checksum(&again), expected);
}
