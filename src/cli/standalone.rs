//! The standalone `workflow` tool: the commands on a store folder named on the command line.

use std::{path::PathBuf, process::ExitCode};

use clap::Parser;

use super::{args::Command, execute, report};
use crate::{admin::AdminClient, Engine, Error};

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
    /// The store: a folder, or a `postgres://` URL (with the `postgres` feature).
    #[arg(long, env = "WORKFLOW_STORE", value_name = "PATH|URL")]
    store: PathBuf,
    /// The schema of a PostgreSQL store.
    #[arg(long, env = "WORKFLOW_SCHEMA", default_value = "workflow")]
    schema: String,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

/// The standalone tool: parses the process's arguments, opens the store, runs the command.
pub async fn standalone() -> ExitCode {
    // The engine's warnings (a record it skips, ...) go to stderr.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing_subscriber::filter::LevelFilter::WARN)
        .without_time()
        .with_target(false)
        .try_init();
    let args = match Standalone::try_parse() {
        Ok(args) => args,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(error.exit_code().clamp(0, 255) as u8);
        }
    };
    let engine = match open(&args.store, &args.schema).await {
        Ok(engine) => engine,
        Err(Unavailable::Held) => {
            // A running program holds the store: ask its engine.
            let target = execute::Target::Live(AdminClient::new(&args.store));
            let outcome =
                execute::execute(&target, args.command, args.json, execute::Mode::Standalone).await;
            return report(outcome);
        }
        Err(Unavailable::Other(message)) => {
            eprintln!("error: {message}");
            return ExitCode::from(STORE_UNAVAILABLE);
        }
    };
    let target = execute::Target::Local(&engine);
    let outcome =
        execute::execute(&target, args.command, args.json, execute::Mode::Standalone).await;
    let code = report(outcome);
    if let Err(error) = engine.close().await {
        eprintln!("error: closing the store: {error}");
        return ExitCode::from(STORE_UNAVAILABLE);
    }
    code
}

/// Why the store cannot be opened here.
enum Unavailable {
    /// Another process holds it.
    Held,
    Other(String),
}

/// Opens the store at `path` (a folder or a PostgreSQL URL), which must exist: the tool
/// never creates a store.
async fn open(path: &PathBuf, schema: &str) -> Result<Engine, Unavailable> {
    if let Some(url) = path
        .to_str()
        .filter(|p| p.starts_with("postgres://") || p.starts_with("postgresql://"))
    {
        return open_postgres(url, schema).await;
    }
    let shown = path.display();
    let other = |message: String| Err(Unavailable::Other(message));
    match std::fs::metadata(path) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return other(format!(
                "there is no store at {shown}: the folder does not exist"
            ));
        }
        Err(error) => return other(format!("cannot read {shown}: {error}")),
        Ok(metadata) if !metadata.is_dir() => {
            return other(format!("{shown} is a file, not a store folder"));
        }
        Ok(_) => {}
    }
    if !path.join("version").is_file() {
        return other(format!(
            "{shown} holds no workflow store (a store folder is made by Engine::open)"
        ));
    }
    // The tool's own engine serves no admin socket: it would replace the socket of a
    // program that opens the store after it.
    match Engine::builder()
        .path(path)
        .admin_socket(false)
        .build()
        .await
    {
        Ok(engine) => Ok(engine),
        Err(Error::Locked { .. }) => Err(Unavailable::Held),
        Err(error) => other(format!("cannot open the store at {shown}: {error}")),
    }
}

/// Opens the store in `schema` of the PostgreSQL database at `url`, which must hold one.
#[cfg(feature = "postgres")]
async fn open_postgres(url: &str, schema: &str) -> Result<Engine, Unavailable> {
    let other = |message: String| Err(Unavailable::Other(message));
    match crate::storage::PgStore::exists(url, schema).await {
        Ok(true) => {}
        Ok(false) => {
            return other(format!(
                "the database holds no workflow store in schema `{schema}` (a store is made \
                 by an engine built with EngineBuilder::postgres); name another with --schema"
            ))
        }
        Err(error) => return other(error.to_string()),
    }
    // A worker of the schema's fleet that takes up none of its work.
    match Engine::builder()
        .postgres(url)
        .postgres_schema(schema)
        .takes_fleet_work(false)
        .build()
        .await
    {
        Ok(engine) => Ok(engine),
        Err(error) => other(error.to_string()),
    }
}

/// A build without the PostgreSQL store says how to get one.
#[cfg(not(feature = "postgres"))]
async fn open_postgres(_url: &str, _schema: &str) -> Result<Engine, Unavailable> {
    Err(Unavailable::Other(
        "this build of the tool has no PostgreSQL store: build it with `--features \
         cli,postgres`"
            .to_string(),
    ))
}
