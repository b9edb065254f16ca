//! Headless Chromium for the browser tests, driven over WebDriver by `fantoccini`.
//!
//! A test file takes this module in with
//!
//! ```ignore
//! #[path = "support/browser.rs"]
//! mod browser;
//! ```
//!
//! and each test starts a [`Browser`] of its own: its own ChromeDriver on its own port, its own
//! Chromium with a fresh profile. Tests of one binary may run in parallel.
//!
//! The binaries are `/usr/bin/chromium` and `/usr/bin/chromedriver`, or the ones that
//! `WORKFLOW_CHROMIUM` and `WORKFLOW_CHROMEDRIVER` name; `scripts/browser-deps` installs them.
//!
//! # `confirm()` and `alert()` dialogs
//!
//! Two ways work; the tests use the first unless the dialog itself is under test:
//!
//! - [`Browser::accept_confirms`] replaces `window.confirm` on the current page with a function
//!   that answers `true`, so no dialog opens at all. Call it after each page load (a load resets
//!   `window`) and before the click that asks.
//! - Let the dialog open, then answer it with `browser.client.accept_alert()` (or
//!   `dismiss_alert()`; `get_alert_text()` reads its message). The answer has to come right
//!   after the click: any other command while a dialog is open dismisses it (WebDriver's default
//!   `unhandledPromptBehavior`) and fails with "unexpected alert open".
#![allow(dead_code)]

use std::{
    fs::File,
    io::{Read, Seek, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use fantoccini::{elements::Element, wd::Capabilities, Client, ClientBuilder, Locator};
use serde_json::{json, Value};

/// How long [`Browser::wait_for`] waits for an element.
pub const WAIT: Duration = Duration::from_secs(15);

/// How long [`Browser::start`] waits for ChromeDriver to accept connections.
const DRIVER_START: Duration = Duration::from_secs(20);

/// How long dropping a [`Browser`] waits for ChromeDriver to end itself before it is killed.
const DRIVER_STOP: Duration = Duration::from_secs(5);

/// How often the waits look again.
const POLL: Duration = Duration::from_millis(50);

/// The Chromium binary the tests drive.
pub fn chromium_path() -> PathBuf {
    std::env::var_os("WORKFLOW_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// The ChromeDriver binary the tests start.
pub fn chromedriver_path() -> PathBuf {
    std::env::var_os("WORKFLOW_CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver"))
}

/// Where [`Browser::screenshot`] saves its pictures: `web-screenshots` in the target
/// directory (`CARGO_TARGET_DIR`, or `target` in the crate's directory).
pub fn screenshot_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => manifest.join(dir),
        None => manifest.join("target"),
    };
    target.join("web-screenshots")
}

/// A headless Chromium under test, and the ChromeDriver that drives it.
///
/// Dropping it, also while a failed test unwinds, asks the driver to end the browser and
/// itself, and kills the driver if it has not within 5 s. [`Browser::close`] ends the
/// WebDriver client first.
pub struct Browser {
    /// The WebDriver client: `goto`, `find`, `execute`, `accept_alert` and the rest.
    pub client: Client,
    /// The ChromeDriver process, stopped on drop.
    driver: Child,
    /// The port ChromeDriver listens on, at 127.0.0.1.
    port: u16,
    /// The temporary directory of the driver and the browser (their `TMPDIR`), which holds
    /// the browser's profile; removed on drop.
    scratch: tempfile::TempDir,
}

impl Browser {
    /// Starts ChromeDriver on a free port of 127.0.0.1 and opens a headless Chromium
    /// window of 1280×900 through it.
    ///
    /// Panics, naming `scripts/browser-deps`, when a binary is missing, and with the
    /// driver's output when it does not come up.
    pub async fn start() -> Browser {
        let chromium = chromium_path();
        let chromedriver = chromedriver_path();
        for binary in [&chromium, &chromedriver] {
            assert!(
                binary.is_file(),
                "{} is missing: run scripts/browser-deps (as root on Debian it installs \
                 chromium and chromium-driver), or name the binaries in WORKFLOW_CHROMIUM \
                 and WORKFLOW_CHROMEDRIVER",
                binary.display()
            );
        }

        let scratch = tempfile::Builder::new()
            .prefix("workflow-browser-")
            .tempdir()
            .expect("create a temporary directory for the browser");
        // The port is free when it is picked, but another process may take it before the
        // driver binds it: a driver that exits at once gets another port.
        let mut attempt = 0;
        let (mut driver, mut driver_log, port) = loop {
            attempt += 1;
            let port = free_port();
            let (mut driver, mut driver_log) = spawn_driver(&chromedriver, port, scratch.path());
            match wait_for_port(&mut driver, port).await {
                Ok(()) => break (driver, driver_log, port),
                Err(failure) => {
                    let _ = driver.kill();
                    let _ = driver.wait();
                    if attempt < 3 && failure == DriverFailure::Exited {
                        continue;
                    }
                    let output = read_log(&mut driver_log);
                    panic!(
                        "{} did not accept connections on 127.0.0.1:{port} ({failure:?}; run \
                         scripts/browser-deps if it is not installed). Its output:\n{output}",
                        chromedriver.display()
                    );
                }
            }
        };

        let mut capabilities = Capabilities::new();
        capabilities.insert(
            "goog:chromeOptions".to_string(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-dev-shm-usage",
                    "--disable-gpu",
                    "--window-size=1280,900",
                ],
            }),
        );
        let connected = ClientBuilder::rustls()
            .expect(
                "rustls found no root certificates: run scripts/browser-deps (it installs the \
                 Debian package ca-certificates)",
            )
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await;
        match connected {
            Ok(client) => Browser {
                client,
                driver,
                port,
                scratch,
            },
            Err(error) => {
                let _ = driver.kill();
                let _ = driver.wait();
                let output = read_log(&mut driver_log);
                panic!(
                    "ChromeDriver did not start {}: {error}. Its output:\n{output}",
                    chromium.display()
                );
            }
        }
    }

    /// Waits up to [`WAIT`] for an element that matches the CSS selector `css`, and returns it.
    ///
    /// Panics, naming the selector, when none appears.
    pub async fn wait_for(&self, css: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(WAIT)
            .every(POLL)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(error) => panic!("no element matches `{css}` after {WAIT:?}: {error}"),
        }
    }

    /// Waits up to `timeout` until the JavaScript expression `js_condition` is truthy on the
    /// page, evaluating it every 50 ms.
    ///
    /// An expression that throws counts as false (the page may still be loading). Panics,
    /// naming the expression and its last value or error, on timeout.
    pub async fn wait_until(&self, js_condition: &str, timeout: Duration) {
        let script = format!("return !!({js_condition});");
        let deadline = Instant::now() + timeout;
        loop {
            let last = match self.client.execute(&script, vec![]).await {
                Ok(Value::Bool(true)) => return,
                Ok(value) => format!("it was {value}"),
                Err(error) => format!("it failed: {error}"),
            };
            if Instant::now() >= deadline {
                panic!("`{js_condition}` was not true after {timeout:?}; {last}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The value of the JavaScript expression `js` on the page.
    ///
    /// Panics, naming the expression, when it throws.
    pub async fn eval(&self, js: &str) -> Value {
        match self
            .client
            .execute(&format!("return ({js});"), vec![])
            .await
        {
            Ok(value) => value,
            Err(error) => panic!("`{js}` failed: {error}"),
        }
    }

    /// Milliseconds from the start of the navigation (`performance.timing.navigationStart`)
    /// to the moment the page stored in `window.__drawn`, a `performance.now()` reading the
    /// page takes once it has drawn itself.
    ///
    /// Waits up to [`WAIT`] for the page to set it.
    pub async fn drawn_ms(&self) -> f64 {
        self.wait_until("typeof window.__drawn === 'number'", WAIT)
            .await;
        let value = self
            .eval("window.__drawn + performance.timeOrigin - performance.timing.navigationStart")
            .await;
        value
            .as_f64()
            .unwrap_or_else(|| panic!("window.__drawn gave {value}, not a number"))
    }

    /// Makes `confirm()` on the current page answer `true` at once, with no dialog.
    ///
    /// Lasts until the next page load.
    pub async fn accept_confirms(&self) {
        self.eval("window.confirm = () => true").await;
    }

    /// Saves a PNG of the window as `<name>.png` in [`screenshot_dir`], and returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self
            .client
            .screenshot()
            .await
            .unwrap_or_else(|error| panic!("screenshot `{name}` failed: {error}"));
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|error| panic!("cannot create {}: {error}", dir.display()));
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png)
            .unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
        path
    }

    /// Ends the browser through WebDriver, then stops the driver.
    pub async fn close(self) {
        // A client that has already failed cannot end anything: stopping the driver does.
        let _ = self.client.clone().close().await;
        drop(self);
    }
}

impl Drop for Browser {
    /// Asks ChromeDriver to end its browser and itself (`GET /shutdown`), so that no Chromium
    /// outlives the test; kills the driver if it is still there after [`DRIVER_STOP`].
    fn drop(&mut self) {
        let deadline = Instant::now() + DRIVER_STOP;
        if request_shutdown(self.port).is_ok() {
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.driver.try_wait() {
                    return;
                }
                std::thread::sleep(POLL);
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Sends ChromeDriver on `port` its `GET /shutdown`, which quits every browser it runs and then
/// the driver itself, and reads the answer.
fn request_shutdown(port: u16) -> std::io::Result<()> {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(1))?;
    stream.set_write_timeout(Some(DRIVER_STOP))?;
    stream.set_read_timeout(Some(DRIVER_STOP))?;
    write!(
        stream,
        "GET /shutdown HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = Vec::new();
    // The driver may close the connection as it ends, before or after a complete answer.
    let _ = stream.read_to_end(&mut answer);
    Ok(())
}

/// Why ChromeDriver did not come up.
#[derive(Debug, PartialEq)]
enum DriverFailure {
    /// The process ended: most likely another process took its port.
    Exited,
    /// The port did not answer within [`DRIVER_START`].
    TimedOut,
}

/// A TCP port of 127.0.0.1 that was free a moment ago.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0 to find a port");
    listener
        .local_addr()
        .expect("the address of a bound listener")
        .port()
}

/// Starts ChromeDriver on `port` with `scratch` as its `TMPDIR`, its output going to an
/// unnamed temporary file.
fn spawn_driver(chromedriver: &Path, port: u16, scratch: &Path) -> (Child, File) {
    let log = tempfile::tempfile().expect("create a temporary file for ChromeDriver's output");
    let stdout = log
        .try_clone()
        .expect("duplicate the ChromeDriver log file");
    let stderr = log
        .try_clone()
        .expect("duplicate the ChromeDriver log file");
    let driver = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .env("TMPDIR", scratch)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|error| {
            panic!(
                "cannot start {} ({error}): run scripts/browser-deps",
                chromedriver.display()
            )
        });
    (driver, log)
}

/// Waits until `port` accepts TCP connections, or the driver exits, or [`DRIVER_START`] passes.
async fn wait_for_port(driver: &mut Child, port: u16) -> Result<(), DriverFailure> {
    let deadline = Instant::now() + DRIVER_START;
    loop {
        if let Ok(Some(_)) = driver.try_wait() {
            return Err(DriverFailure::Exited);
        }
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(DriverFailure::TimedOut);
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Everything written to `log` so far.
fn read_log(log: &mut File) -> String {
    let mut output = String::new();
    if log.rewind().is_ok() {
        let mut bytes = Vec::new();
        let _ = log.read_to_end(&mut bytes);
        output = String::from_utf8_lossy(&bytes).into_owned();
    }
    output
}
