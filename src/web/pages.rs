//! The HTML pages and their assets, built into the binary: the page needs no network.
//!
//! Each page is one HTML shell naming the page; `app.js` reads the JSON API and draws it.

use std::sync::Arc;

use axum::{
    extract::{OriginalUri, Path, State},
    http::{header, StatusCode, Uri},
    response::{Html, IntoResponse, Response},
};

use super::{graph::escape, ids::checked_id, view::View};
use crate::Error;

const SHELL: &str = include_str!("assets/page.html");
const SCRIPT: &str = include_str!("assets/app.js");
const STYLE: &str = include_str!("assets/style.css");

/// Where the view is mounted, for the page's links: `/`, or the path a program nested it
/// under, with a `/` at the end.
#[derive(Clone, Debug)]
pub(crate) struct Base(String);

impl Base {
    /// The base of a request for `uri` within the view, which came in as `original`.
    pub(crate) fn of(original: &Uri, uri: &Uri) -> Base {
        let (outer, inner) = (original.path(), uri.path());
        // Nested under `/ops`, the view's root `/` is asked for as `/ops`.
        let prefix = match inner {
            "/" => outer,
            _ => outer.strip_suffix(inner).unwrap_or_default(),
        }
        .trim_end_matches('/');
        Base(format!("{prefix}/"))
    }
}

/// `GET /`: the workflows.
pub(crate) async fn list(OriginalUri(original): OriginalUri, uri: Uri) -> Response {
    page(
        &Base::of(&original, &uri),
        StatusCode::OK,
        "Workflows",
        "list",
        "",
        "",
    )
}

/// `GET /workflows/{id}`: one workflow.
pub(crate) async fn workflow(
    State(view): State<Arc<View>>,
    OriginalUri(original): OriginalUri,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    let found = async { view.source.progress_now(&id).await.map(drop) };
    item_page(&Base::of(&original, &uri), "workflow", &id, found).await
}

/// `GET /actors`: the actors.
pub(crate) async fn actors(OriginalUri(original): OriginalUri, uri: Uri) -> Response {
    page(
        &Base::of(&original, &uri),
        StatusCode::OK,
        "Actors",
        "actors",
        "",
        "",
    )
}

/// `GET /actors/{id}`: one actor.
pub(crate) async fn actor(
    State(view): State<Arc<View>>,
    OriginalUri(original): OriginalUri,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    let found = async { view.source.actor_detail(&id).await.map(drop) };
    item_page(&Base::of(&original, &uri), "actor", &id, found).await
}

/// The page of `kind` for `id`, once `found` finds it: a `400` page for a malformed id, a
/// `404` page for an unknown one.
async fn item_page(
    base: &Base,
    kind: &str,
    id: &str,
    found: impl std::future::Future<Output = crate::Result<()>>,
) -> Response {
    if let Err(error) = checked_id(id) {
        return error_page_at(base, StatusCode::BAD_REQUEST, &error.message);
    }
    match found.await {
        Ok(()) => page(base, StatusCode::OK, id, kind, id, ""),
        Err(error) => engine_error_page(base, error),
    }
}

/// Any other path: a 404 page, or a JSON 404 under `/api/`.
pub(crate) async fn not_found(OriginalUri(original): OriginalUri, uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        let message = format!("no route {}: see docs/web.md for the API", uri.path());
        return super::error::ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
            .into_response();
    }
    let base = Base::of(&original, &uri);
    error_page_at(&base, StatusCode::NOT_FOUND, "There is no page here.")
}

/// `GET /assets/app.js`.
pub(crate) async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

/// `GET /assets/style.css`.
pub(crate) async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

/// A page that says what went wrong, with status `status`, for a view mounted at `/`.
pub(crate) fn error_page(status: StatusCode, message: &str) -> Response {
    error_page_at(&Base("/".to_string()), status, message)
}

fn error_page_at(base: &Base, status: StatusCode, message: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    page(base, status, title, "error", "", message)
}

fn engine_error_page(base: &Base, error: Error) -> Response {
    let status = match error {
        Error::NotFound { .. } => StatusCode::NOT_FOUND,
        Error::InvalidId { .. } => StatusCode::BAD_REQUEST,
        Error::Admin { .. } | Error::Closed => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    error_page_at(base, status, &error.to_string())
}

fn page(
    base: &Base,
    status: StatusCode,
    title: &str,
    kind: &str,
    id: &str,
    message: &str,
) -> Response {
    let html = SHELL
        .replace("{base}", &escape(&base.0))
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
