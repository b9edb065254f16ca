//! The standalone `workflow` tool: inspect and steer the workflows of a store folder.
//!
//! `workflow --store PATH list`; `workflow --help` lists the commands. See `workflow::cli`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    workflow::cli::standalone().await
}
