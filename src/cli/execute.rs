//! Running one command against an engine.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Value};

use super::{render, Command};
use crate::{
    admin::AdminClient, Engine, Error, ListQuery, Progress, StoreStats, Waits, WorkflowInfo,
    WorkflowMetadata, WorkflowPage, WorkflowStatus, MAX_PAGE,
};

/// Who runs the command: the standalone tool links none of the program's tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Standalone,
    Embedded,
}

/// Why a command failed, as the command line reports it.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The engine refused or failed.
    #[error(transparent)]
    Engine(#[from] Error),
    /// The command cannot run here; the message says what to do instead.
    #[error("{0}")]
    Usage(String),
}

/// Where the commands go: an engine of this process, or the engine of the running program
/// that holds the store, through its admin socket.
pub(crate) enum Target<'a> {
    Local(&'a Engine),
    Live(AdminClient),
}

impl Target<'_> {
    /// The engine of this process, for command `name`, which a live store cannot serve.
    fn local(&self, name: &str) -> Result<&Engine, CliError> {
        match self {
            Target::Local(engine) => Ok(engine),
            Target::Live(_) => Err(CliError::Usage(format!(
                "`{name}` cannot run on a store that a running program holds: stop the \
                 program, or run the command from within it (workflow::cli::run)"
            ))),
        }
    }

    async fn list_page(&self, query: &ListQuery) -> crate::Result<WorkflowPage> {
        match self {
            Target::Local(engine) => engine.list_page(query).await,
            Target::Live(client) => client.list_page(query).await,
        }
    }

    /// The workflows of `query`: one page of `limit`, or every page without one. Returns the
    /// cursor of what is left.
    async fn list(
        &self,
        mut query: ListQuery,
        limit: Option<usize>,
    ) -> crate::Result<(Vec<WorkflowInfo>, Option<String>)> {
        let mut workflows = Vec::new();
        loop {
            let wanted = limit.map_or(MAX_PAGE, |limit| limit - workflows.len());
            let page = self.list_page(&query.clone().limit(wanted)).await?;
            workflows.extend(page.workflows);
            match page.next {
                Some(next) if limit.is_none_or(|limit| workflows.len() < limit) => {
                    query = query.after(next)
                }
                next => return Ok((workflows, next)),
            }
        }
    }

    async fn show(&self, id: &str) -> crate::Result<WorkflowMetadata> {
        match self {
            Target::Local(engine) => engine.metadata(id).await,
            Target::Live(client) => client.show(id).await,
        }
    }

    async fn waits(&self, id: &str) -> crate::Result<Waits> {
        match self {
            Target::Local(engine) => engine.waits(id).await,
            Target::Live(client) => client.waits(id).await,
        }
    }

    async fn stats(&self) -> crate::Result<StoreStats> {
        match self {
            Target::Local(engine) => engine.stats().await,
            Target::Live(client) => client.stats().await,
        }
    }

    /// Cancels workflow `id`; its status after.
    async fn cancel(&self, id: &str) -> crate::Result<WorkflowStatus> {
        match self {
            Target::Local(engine) => {
                engine.cancel(id).await?;
                engine.status(id).await
            }
            Target::Live(client) => client.cancel(id).await,
        }
    }

    /// Calls `each` with the progress of workflow `id` until its run ends; its status then.
    async fn watch(
        &self,
        id: &str,
        mut each: impl FnMut(Progress),
    ) -> crate::Result<WorkflowStatus> {
        match self {
            Target::Local(engine) => {
                let mut progress = engine.progress(id).await?;
                loop {
                    each(*progress.borrow_and_update());
                    if progress.changed().await.is_err() {
                        break;
                    }
                }
                engine.status(id).await
            }
            Target::Live(client) => client.watch(id, each).await,
        }
    }
}

/// Runs `command` on `target`, printing its result; `json` selects JSON output.
pub(crate) async fn execute(
    target: &Target<'_>,
    command: Command,
    json: bool,
    mode: Mode,
) -> Result<(), CliError> {
    if mode == Mode::Standalone && command.needs_tasks() {
        return Err(CliError::Usage(format!(
            "`{}` needs the program's own task types: run it from the program that owns the \
             workflows, which mounts these commands with `workflow::cli::run(engine)`",
            command.name()
        )));
    }
    let print = |value: Value, text: String| {
        if json {
            println!("{}", serde_json::to_string_pretty(&value).expect("JSON"));
        } else {
            println!("{text}");
        }
    };
    match command {
        Command::List {
            status,
            prefix,
            limit,
            after,
        } => {
            let mut query = ListQuery::new().newest_first().id_prefix(prefix);
            query.status = status;
            query.after = after;
            let (workflows, next) = target.list(query, limit.map(|l| l.max(1))).await?;
            print(render::list_json(&workflows), render::list_text(&workflows));
            if let Some(next) = next {
                eprintln!("more workflows follow: add `--after {next}`");
            }
        }
        Command::Show { id } => {
            let meta = target.show(&id).await?;
            print(render::show_json(&meta), render::show_text(&meta));
        }
        Command::Events { id } => {
            let waits = target.waits(&id).await?;
            print(render::waits_json(&waits), render::waits_text(&waits));
        }
        Command::Stats => {
            let stats = target.stats().await?;
            print(render::stats_json(&stats), render::stats_text(&stats));
        }
        Command::Cancel { id } => {
            let status = target.cancel(&id).await?;
            print(
                json!({ "id": id, "status": status }),
                format!("{id}: {status}"),
            );
        }
        Command::Watch { id } => {
            let bar = progress_bar(json);
            let status = target
                .watch(&id, |now| show_progress(bar.as_ref(), json, now))
                .await?;
            finish_watch(bar, &id, status, json);
        }
        Command::Delete { id } => {
            target.local("delete")?.delete(&id).await?;
            print(
                json!({ "id": id, "deleted": true }),
                format!("{id}: deleted"),
            );
        }
        Command::Output { id } => {
            let output = target.local("output")?.output_json(&id).await?;
            println!("{}", serde_json::to_string_pretty(&output).expect("JSON"));
        }
        Command::Resume { id } => {
            let output = target.local("resume")?.resume_json(&id).await?;
            print(
                json!({ "id": id, "status": WorkflowStatus::Successful, "output": output }),
                format!(
                    "{id}: successful\n{}",
                    serde_json::to_string_pretty(&output).expect("JSON")
                ),
            );
        }
        Command::ResumeAll => {
            let resumed = target.local("resume-all")?.resume_all().await?;
            let text = if resumed.is_empty() {
                "nothing to resume".to_string()
            } else {
                format!("resumed {}: {}", resumed.len(), resumed.join(", "))
            };
            print(json!({ "resumed": resumed }), text);
        }
        Command::SendEvent { id, key, value } => {
            let value: Value = serde_json::from_str(&value).map_err(|error| {
                CliError::Usage(format!("the event is not valid JSON: {error}"))
            })?;
            target
                .local("send-event")?
                .send_event_json(&id, &key, value)
                .await?;
            print(
                json!({ "id": id, "key": key, "sent": true }),
                format!("{id}: event `{key}` sent"),
            );
        }
        #[cfg(feature = "web")]
        Command::Serve { addr, token } => serve(target, mode, addr, token).await?,
    }
    Ok(())
}

/// Serves the web view of `target` on `addr` until the process is interrupted.
#[cfg(feature = "web")]
async fn serve(
    target: &Target<'_>,
    mode: Mode,
    addr: std::net::SocketAddr,
    token: Option<String>,
) -> Result<(), CliError> {
    use crate::web::WebView;

    let mut view = match (target, mode) {
        (Target::Local(engine), Mode::Embedded) => WebView::new((*engine).clone()),
        (Target::Local(engine), Mode::Standalone) => WebView::standalone((*engine).clone()),
        (Target::Live(client), _) => WebView::admin(client.clone()),
    };
    if let Some(token) = &token {
        view = view.token(token.clone());
    }
    // Refused before listening: an address beyond this machine without a token.
    view.clone()
        .for_address(addr)
        .map_err(|error| CliError::Usage(error.to_string()))?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|error| CliError::Usage(format!("cannot listen on {addr}: {error}")))?;
    let bound = listener.local_addr().unwrap_or(addr);
    match &token {
        Some(token) => println!("serving the web view on http://{bound}/?token={token}"),
        None => println!("serving the web view on http://{bound}/"),
    }
    view.serve(listener)
        .await
        .map_err(|error| CliError::Usage(error.to_string()))
}

/// A progress bar on a terminal, unless JSON is asked for.
fn progress_bar(json: bool) -> Option<ProgressBar> {
    (!json && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {bar:40} {pos}/{len} tasks {elapsed}")
                .expect("a valid template"),
        );
        bar
    })
}

fn show_progress(bar: Option<&ProgressBar>, json: bool, now: Progress) {
    match bar {
        Some(bar) => {
            bar.set_length(now.known);
            bar.set_position(now.done);
        }
        None if json => println!("{}", json!({ "done": now.done, "known": now.known })),
        None => println!("{}/{} tasks", now.done, now.known),
    }
}

fn finish_watch(bar: Option<ProgressBar>, id: &str, status: WorkflowStatus, json: bool) {
    if let Some(bar) = bar {
        bar.finish();
    }
    if json {
        println!("{}", json!({ "id": id, "status": status }));
    } else {
        println!("{id}: {status}");
    }
}
