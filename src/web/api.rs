//! The JSON API's reading routes: what the pages show.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::task::JoinSet;

use super::{error::ApiError, graph, ids::checked_id, json::Json, shapes, view::View};
use crate::{ListQuery, Progress, WorkflowStatus};

/// The rows of a list page when none is asked for.
const DEFAULT_LIMIT: usize = 50;
/// The most rows of one list page.
const MAX_LIMIT: usize = 500;
/// The rows whose progress is read at the same time.
const PROGRESS_READS: usize = 16;

type Answer = Result<Json<Value>, ApiError>;

/// The rows a page asks for with `limit`: 1 to [`MAX_LIMIT`], [`DEFAULT_LIMIT`] if none.
fn page_limit(limit: Option<&str>) -> Result<usize, ApiError> {
    match limit.filter(|limit| !limit.is_empty()) {
        None => Ok(DEFAULT_LIMIT),
        Some(limit) => limit
            .parse::<usize>()
            .map(|limit| limit.clamp(1, MAX_LIMIT))
            .map_err(|_| {
                ApiError::bad_request(format!("`limit` is a number of rows, not `{limit}`"))
            }),
    }
}

/// `GET /api/info`: what this view can do.
pub(crate) async fn info(State(view): State<Arc<View>>) -> Json<Value> {
    let embedded = view.source.embedded();
    Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "mode": if embedded { "embedded" } else { "standalone" },
        "can_resume": embedded,
        "can_send_events": embedded,
        "shows_outputs": embedded,
    }))
}

/// The query of `GET /api/workflows`.
#[derive(Debug, Deserialize)]
pub(crate) struct ListParams {
    status: Option<String>,
    #[serde(default)]
    prefix: String,
    limit: Option<String>,
    after: Option<String>,
}

/// `GET /api/workflows`: one page of workflows, newest first.
pub(crate) async fn workflows(
    State(view): State<Arc<View>>,
    Query(params): Query<ListParams>,
) -> Answer {
    if !params.prefix.is_empty() {
        checked_id(&params.prefix)?;
    }
    let mut query = ListQuery::new()
        .newest_first()
        .id_prefix(params.prefix)
        .limit(page_limit(params.limit.as_deref())?);
    query.status = match params.status.as_deref().filter(|s| !s.is_empty()) {
        Some(status) => Some(
            status
                .parse::<WorkflowStatus>()
                .map_err(|error| ApiError::bad_request(error.to_string()))?,
        ),
        None => None,
    };
    query.after = params.after.filter(|after| !after.is_empty());
    let page = view.source.list_page(&query).await?;
    // Each row's progress, a few read side by side.
    let mut reads = JoinSet::new();
    let mut progress: Vec<Option<Progress>> = vec![None; page.workflows.len()];
    for (row, workflow) in page.workflows.iter().enumerate() {
        if reads.len() >= PROGRESS_READS {
            if let Some(Ok((row, read))) = reads.join_next().await {
                progress[row] = read;
            }
        }
        let (source, id) = (view.source.clone(), workflow.id.clone());
        reads.spawn(async move { (row, source.progress_now(&id).await.ok()) });
    }
    while let Some(joined) = reads.join_next().await {
        if let Ok((row, read)) = joined {
            progress[row] = read;
        }
    }
    let rows: Vec<Value> = page
        .workflows
        .iter()
        .zip(progress)
        .map(|(workflow, progress)| shapes::workflow_row(workflow, progress))
        .collect();
    Ok(Json(json!({ "workflows": rows, "next": page.next })))
}

/// `GET /api/stats`: workflows by status, and actors.
pub(crate) async fn stats(State(view): State<Arc<View>>) -> Answer {
    Ok(Json(view.stats().await?))
}

/// `GET /api/workflows/{id}`: a workflow's status, times, metadata and task counts.
pub(crate) async fn workflow(State(view): State<Arc<View>>, Path(id): Path<String>) -> Answer {
    checked_id(&id)?;
    let meta = view.source.metadata(&id).await?;
    let progress = view.source.progress_now(&id).await?;
    Ok(Json(shapes::workflow_summary(&meta, progress)))
}

/// `GET /api/workflows/{id}/tasks`: every task of a workflow.
pub(crate) async fn tasks(State(view): State<Arc<View>>, Path(id): Path<String>) -> Answer {
    checked_id(&id)?;
    let meta = view.source.metadata(&id).await?;
    let tasks: Vec<Value> = meta
        .tasks
        .iter()
        .map(|task| shapes::task(task, &meta))
        .collect();
    Ok(Json(json!({ "tasks": tasks })))
}

/// `GET /api/workflows/{id}/tasks/{task_id}`: one task, with its output where this view
/// links its type.
pub(crate) async fn task(
    State(view): State<Arc<View>>,
    Path((id, task_id)): Path<(String, String)>,
) -> Answer {
    checked_id(&id)?;
    checked_id(&task_id)?;
    let meta = view.source.metadata(&id).await?;
    let Some(task) = meta.tasks.iter().find(|task| task.task_id == task_id) else {
        return Err(crate::Error::NotFound {
            what: "task",
            id: format!("{id}/{task_id}"),
        }
        .into());
    };
    let mut shown = shapes::task(task, &meta);
    if task.status == crate::TaskStatus::Successful {
        match view.source.task_output(&id, &task_id).await {
            Ok(output) => shown["output"] = output,
            Err(error) => shown["output_error"] = json!(error.to_string()),
        }
    }
    Ok(Json(shown))
}

/// `GET /api/workflows/{id}/graph`: the DAG drawn as SVG, with the state of each node.
pub(crate) async fn graph(State(view): State<Arc<View>>, Path(id): Path<String>) -> Answer {
    checked_id(&id)?;
    let meta = view.source.metadata(&id).await?;
    let status = meta.status.to_string();
    let drawing = tokio::task::spawn_blocking(move || graph::draw(&meta))
        .await
        .map_err(|error| {
            ApiError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "engine",
                format!("drawing the graph failed: {error}"),
            )
        })?;
    Ok(Json(json!({
        "status": status,
        "svg": drawing.svg,
        "nodes": drawing.nodes,
    })))
}

/// `GET /api/workflows/{id}/waits`: pending timers and events.
pub(crate) async fn waits(State(view): State<Arc<View>>, Path(id): Path<String>) -> Answer {
    checked_id(&id)?;
    Ok(Json(shapes::waits(&view.source.waits(&id).await?)))
}

/// The query of `GET /api/actors`.
#[derive(Debug, Deserialize)]
pub(crate) struct ActorParams {
    #[serde(rename = "type")]
    type_name: Option<String>,
    limit: Option<String>,
    after: Option<String>,
}

/// `GET /api/actors`: one page of actors, in id order, of one type if asked.
pub(crate) async fn actors(
    State(view): State<Arc<View>>,
    Query(params): Query<ActorParams>,
) -> Answer {
    let after = params.after.filter(|after| !after.is_empty());
    if let Some(after) = &after {
        checked_id(after)?;
    }
    let type_name = params.type_name.filter(|name| !name.is_empty());
    let limit = page_limit(params.limit.as_deref())?;
    let page = view
        .source
        .actors_page(type_name.as_deref(), after.as_deref(), limit)
        .await?;
    let actors: Vec<Value> = page.actors.iter().map(shapes::actor).collect();
    Ok(Json(json!({ "actors": actors, "next": page.next })))
}

/// `GET /api/actors/{id}`: one actor's state and recent calls.
pub(crate) async fn actor(State(view): State<Arc<View>>, Path(id): Path<String>) -> Answer {
    checked_id(&id)?;
    Ok(Json(shapes::actor_detail(
        &view.source.actor_detail(&id).await?,
    )))
}
