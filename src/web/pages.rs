//! The HTML pages and their assets, built into the binary: the page needs no network.
//!
//! Each page is one HTML shell naming the page; `app.js` reads the JSON API and draws it.

use std::sync::Arc;

use axum::{
    extract::{Path, State},
    http::{header, StatusCode},
    response::{Html, IntoResponse, Response},
};

use super::{graph::escape, ids::checked_id, view::View};
use crate::Error;

const SHELL: &str = include_str!("assets/page.html");
const SCRIPT: &str = include_str!("assets/app.js");
const STYLE: &str = include_str!("assets/style.css");

/// `GET /`: the workflows.
pub(crate) async fn list() -> Response {
    page(StatusCode::OK, "Workflows", "list", "", "")
}

/// `GET /workflows/{id}`: one workflow.
pub(crate) async fn workflow(State(view): State<Arc<View>>, Path(id): Path<String>) -> Response {
    if let Err(error) = checked_id(&id) {
        return error_page(StatusCode::BAD_REQUEST, &error.message);
    }
    match view.source.progress_now(&id).await {
        Ok(_) => page(StatusCode::OK, &id, "workflow", &id, ""),
        Err(error) => engine_error_page(error),
    }
}

/// `GET /actors`: the actors.
pub(crate) async fn actors() -> Response {
    page(StatusCode::OK, "Actors", "actors", "", "")
}

/// `GET /actors/{id}`: one actor.
pub(crate) async fn actor(State(view): State<Arc<View>>, Path(id): Path<String>) -> Response {
    if let Err(error) = checked_id(&id) {
        return error_page(StatusCode::BAD_REQUEST, &error.message);
    }
    match view.source.actor_detail(&id).await {
        Ok(_) => page(StatusCode::OK, &id, "actor", &id, ""),
        Err(error) => engine_error_page(error),
    }
}

/// Any other path.
pub(crate) async fn not_found() -> Response {
    error_page(StatusCode::NOT_FOUND, "There is no page here.")
}

/// `GET /assets/app.js`.
pub(crate) async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

/// `GET /assets/style.css`.
pub(crate) async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

/// A page that says what went wrong, with status `status`.
pub(crate) fn error_page(status: StatusCode, message: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    page(status, title, "error", "", message)
}

fn engine_error_page(error: Error) -> Response {
    let status = match error {
        Error::NotFound { .. } => StatusCode::NOT_FOUND,
        Error::InvalidId { .. } => StatusCode::BAD_REQUEST,
        Error::Admin { .. } | Error::Closed => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    error_page(status, &error.to_string())
}

fn page(status: StatusCode, title: &str, kind: &str, id: &str, message: &str) -> Response {
    let html = SHELL
        .replace("{title}", &escape(title))
        .replace("{page}", kind)
        .replace("{id}", &escape(id))
        .replace("{message}", &escape(message));
    (status, Html(html)).into_response()
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}
