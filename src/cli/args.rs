//! The command line's arguments, as clap parses them.

use clap::{Parser, Subcommand};

use crate::WorkflowStatus;

/// The commands of the command line, to mount in a program's own clap parser.
///
/// # Examples
///
/// ```
/// use clap::Parser;
///
/// #[derive(Parser)]
/// enum MyCli {
///     /// Serve the application.
///     Serve,
///     /// Inspect and steer its workflows.
///     #[command(subcommand)]
///     Workflows(workflow::cli::Command),
/// }
///
/// let parsed = MyCli::parse_from(["app", "workflows", "show", "order-7"]);
/// assert!(matches!(parsed, MyCli::Workflows(workflow::cli::Command::Show { .. })));
/// ```
#[derive(Clone, Debug, Subcommand)]
#[non_exhaustive]
pub enum Command {
    /// Lists workflows, newest first.
    List {
        /// Only workflows with this status (pending, running, successful, failed, canceled,
        /// resumable).
        #[arg(long, value_parser = parse_status)]
        status: Option<WorkflowStatus>,
        /// Only workflows whose id starts with this.
        #[arg(long, default_value = "")]
        prefix: String,
        /// At most this many workflows; the cursor of the rest is printed on stderr.
        #[arg(long)]
        limit: Option<usize>,
        /// Continues a listing from the cursor a `--limit` listing printed.
        #[arg(long)]
        after: Option<String>,
    },
    /// Shows a workflow: status, times, metadata, its tasks and its graph.
    Show {
        /// The workflow id.
        id: String,
    },
    /// Follows a running workflow's progress until its run ends.
    Watch {
        /// The workflow id.
        id: String,
    },
    /// Lists what a workflow waits for: sleeps, events, events sent and not taken.
    Events {
        /// The workflow id.
        id: String,
    },
    /// Counts workflows by status, and the store's size.
    Stats,
    /// Cancels a workflow.
    Cancel {
        /// The workflow id.
        id: String,
    },
    /// Deletes a finished workflow and everything stored for it.
    Delete {
        /// The workflow id.
        id: String,
    },
    /// Prints a workflow's output as JSON (needs the program's task types).
    Output {
        /// The workflow id.
        id: String,
    },
    /// Resumes a workflow and waits for its output (needs the program's tasks).
    Resume {
        /// The workflow id.
        id: String,
    },
    /// Resumes every resumable workflow in the background of this process.
    ResumeAll,
    /// Sends an event, given as JSON, to a workflow (needs the program's task types).
    SendEvent {
        /// The workflow id.
        id: String,
        /// The event key.
        key: String,
        /// The event's value as JSON, for example `true` or '{"amount": 10}'.
        #[arg(value_name = "JSON")]
        value: String,
    },
    /// Serves the web view of the workflows until interrupted (needs the `web` feature).
    #[cfg(feature = "web")]
    Serve {
        /// The address to listen on. One beyond this machine needs a token.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        /// The token every request must carry (open the printed link once).
        #[arg(long, env = "WORKFLOW_WEB_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
}

impl Command {
    /// The command's name, as typed.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Command::List { .. } => "list",
            Command::Show { .. } => "show",
            Command::Watch { .. } => "watch",
            Command::Events { .. } => "events",
            Command::Stats => "stats",
            Command::Cancel { .. } => "cancel",
            Command::Delete { .. } => "delete",
            Command::Output { .. } => "output",
            Command::Resume { .. } => "resume",
            Command::ResumeAll => "resume-all",
            Command::SendEvent { .. } => "send-event",
            #[cfg(feature = "web")]
            Command::Serve { .. } => "serve",
        }
    }

    /// Whether the command needs the program's own task types, which only the program's
    /// binary links.
    pub(crate) fn needs_tasks(&self) -> bool {
        matches!(
            self,
            Command::Output { .. }
                | Command::Resume { .. }
                | Command::ResumeAll
                | Command::SendEvent { .. }
        )
    }
}

/// The command line of a program that mounts it with [`run`](super::run).
#[derive(Debug, Parser)]
#[command(about = "Inspect and steer the workflows of this program")]
pub(crate) struct Embedded {
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Parses a workflow status, in any case.
pub(crate) fn parse_status(text: &str) -> Result<WorkflowStatus, String> {
    text.parse()
        .map_err(|error: crate::ParseStatusError| error.to_string())
}
