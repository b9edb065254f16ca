//! The standalone `workflow` tool: the commands on a store folder named on the command line.

use std::{path::PathBuf, process::ExitCode};

use clap::Parser;

use super::{args::Command, execute, report};
use crate::{Engine, Error};

/// The exit code when the store cannot be opened.
const STORE_UNAVAILABLE: u8 = 3;

/// The standalone tool's command line.
#[derive(Debug, Parser)]
#[command(
    name = "workflow",
    version,
    about = "Inspect and steer the workflows of a workflow store",
    after_help = "Commands that need the program's task types (output, resume, resume-all, \
                  send-event) run from the program itself: see workflow::cli::run."
)]
struct Standalone {
    /// The store folder.
    #[arg(long, env = "WORKFLOW_STORE", value_name = "PATH")]
    store: PathBuf,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

/// The standalone tool: parses the process's arguments, opens the store, runs the command.
pub async fn standalone() -> ExitCode {
    let args = match Standalone::try_parse() {
        Ok(args) => args,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(error.exit_code().clamp(0, 255) as u8);
        }
    };
    let engine = match open(&args.store).await {
        Ok(engine) => engine,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(STORE_UNAVAILABLE);
        }
    };
    let outcome =
        execute::execute(&engine, args.command, args.json, execute::Mode::Standalone).await;
    let code = report(outcome);
    if let Err(error) = engine.close().await {
        eprintln!("error: closing the store: {error}");
        return ExitCode::from(STORE_UNAVAILABLE);
    }
    code
}

/// Opens the store at `path`, which must exist: the tool never creates a store.
async fn open(path: &PathBuf) -> Result<Engine, String> {
    let shown = path.display();
    match std::fs::metadata(path) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!(
                "there is no store at {shown}: the folder does not exist"
            ));
        }
        Err(error) => return Err(format!("cannot read {shown}: {error}")),
        Ok(metadata) if !metadata.is_dir() => {
            return Err(format!("{shown} is a file, not a store folder"));
        }
        Ok(_) => {}
    }
    if !path.join("version").is_file() {
        return Err(format!(
            "{shown} holds no workflow store (a store folder is made by Engine::open)"
        ));
    }
    Engine::open(path).await.map_err(|error| match error {
        Error::Locked { .. } => format!(
            "the store at {shown} is held by a running process, which must be stopped first \
             (or run the command from within it, with workflow::cli::run)"
        ),
        other => format!("cannot open the store at {shown}: {other}"),
    })
}
