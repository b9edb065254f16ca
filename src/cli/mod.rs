//! The command line: inspect and steer workflows (feature `cli`).
//!
//! Two ways to use it:
//!
//! - the standalone `workflow` tool (`cargo install --path . --features cli` in a checkout, or
//!   `cargo run --features cli --bin workflow -- --store PATH list`) opens a store folder
//!   given with `--store` or `WORKFLOW_STORE`, and lists, shows, watches, cancels and deletes
//!   workflows, lists what they wait for, and counts them;
//! - a program mounts the same commands with one call, [`run`], or as a clap subcommand of
//!   its own ([`Command`] with [`execute`]). Since it links its own tasks, it can also print
//!   outputs as JSON, resume workflows and send events given as JSON.
//!
//! A store is open in one process at a time: when the standalone tool finds the store held
//! by a running program, it sends `list`, `show`, `watch`, `events`, `stats` and `cancel` to
//! that program's engine through its [admin socket](crate::admin).
//!
//! Every command prints a table, or JSON with `--json`. Exit codes: 0 on success, 1 when the
//! command failed (unknown id, a workflow still running, ...), 2 for a command line that does
//! not parse, 3 when the store cannot be opened.
//!
//! # Examples
//!
//! A program whose command line is the workflow commands:
//!
//! ```no_run
//! # use workflow::prelude::*;
//! #[tokio::main]
//! async fn main() -> std::process::ExitCode {
//!     let engine = Engine::open("orders.db").await.expect("the store");
//!     // `my-app list --status failed`, `my-app output order-7 --json`, ...
//!     workflow::cli::run(engine).await
//! }
//! ```

mod args;
mod execute;
mod render;
mod standalone;
mod tree;

use std::process::ExitCode;

use clap::Parser;

pub use args::Command;
pub use execute::CliError;
#[doc(hidden)]
pub use standalone::standalone;

use crate::Engine;

/// Runs the command given on this process's command line against `engine`, prints its
/// result, closes the engine, and returns the exit code to end the process with.
///
/// `--help` lists the commands. Unlike the standalone tool, it links the program's tasks, so
/// `output`, `resume`, `resume-all` and `send-event` work too.
///
/// # Examples
///
/// ```no_run
/// # #[tokio::main]
/// # async fn main() -> std::process::ExitCode {
/// let engine = workflow::Engine::open("orders.db").await.expect("the store");
/// workflow::cli::run(engine).await
/// # }
/// ```
pub async fn run(engine: Engine) -> ExitCode {
    run_from(engine, std::env::args_os()).await
}

/// [`run`] with the given command line instead of this process's (its first item is the
/// program's name).
///
/// # Examples
///
/// ```
/// # use workflow::prelude::*;
/// # #[task] fn one() -> i64 { 1 }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> workflow::Result<()> {
/// let engine = Engine::temporary().await?;
/// engine.run("w", one::bind()).await?;
/// let code = workflow::cli::run_from(engine, ["my-app", "show", "w"]).await;
/// assert_eq!(code, std::process::ExitCode::SUCCESS);
/// # Ok(())
/// # }
/// ```
pub async fn run_from<I, T>(engine: Engine, args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args = match args::Embedded::try_parse_from(args) {
        Ok(args) => args,
        Err(error) => {
            let _ = error.print();
            let _ = engine.close().await;
            return ExitCode::from(error.exit_code().clamp(0, 255) as u8);
        }
    };
    let code = report(execute(&engine, args.command, args.json).await);
    let _ = engine.close().await;
    code
}

/// Runs `command` against `engine` and prints its result (JSON if `json`): for a program that
/// mounts [`Command`] in its own clap parser.
///
/// # Errors
///
/// [`CliError::Engine`] when the engine refused or failed the command.
///
/// # Examples
///
/// ```
/// # use workflow::prelude::*;
/// # #[task] fn one() -> i64 { 1 }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), workflow::cli::CliError> {
/// use clap::Parser;
///
/// #[derive(Parser)]
/// struct Admin {
///     #[arg(long)]
///     json: bool,
///     #[command(subcommand)]
///     command: workflow::cli::Command,
/// }
///
/// let engine = Engine::temporary().await?;
/// engine.run("w", one::bind()).await?;
/// let admin = Admin::parse_from(["admin", "--json", "output", "w"]);
/// workflow::cli::execute(&engine, admin.command, admin.json).await?; // prints 1
/// # Ok(())
/// # }
/// ```
pub async fn execute(engine: &Engine, command: Command, json: bool) -> Result<(), CliError> {
    let target = execute::Target::Local(engine);
    execute::execute(&target, command, json, execute::Mode::Embedded).await
}

/// Prints a failure to stderr; the exit code of the outcome.
fn report(outcome: Result<(), CliError>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            match error {
                // The store's holder does not answer: the store is unavailable.
                CliError::Engine(crate::Error::Admin { .. }) => ExitCode::from(3),
                _ => ExitCode::from(1),
            }
        }
    }
}
