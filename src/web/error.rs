//! Errors of the web view: what a handler answers when the engine refuses, and what
//! serving can fail with.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;

use super::json::Json;
use crate::Error;

/// Why the web view cannot be served.
///
/// # Examples
///
/// ```
/// # use workflow::prelude::*;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> workflow::Result<()> {
/// let engine = Engine::temporary().await?;
/// let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.expect("a port");
/// let refused = workflow::web::WebView::new(engine).serve(listener).await;
/// assert!(matches!(refused, Err(workflow::web::WebError::TokenRequired { .. })));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebError {
    /// The view would listen beyond this machine without a token.
    #[error(
        "{addr} is reachable from other machines: serve it with a token (`--token` or \
         WORKFLOW_WEB_TOKEN; WebView::token), or bind a loopback address such as 127.0.0.1"
    )]
    TokenRequired {
        /// The address asked for.
        addr: std::net::SocketAddr,
    },
    /// The token has characters a link cannot carry as they are.
    #[error(
        "a token is 1 to 256 of the characters A-Z a-z 0-9 - . _ ~ (for example the output of \
         `openssl rand -hex 24`)"
    )]
    InvalidToken,
    /// Listening or serving failed.
    #[error("serving the web view failed: {0}")]
    Io(#[from] std::io::Error),
}

/// The web view's `Result`.
pub type Result<T, E = WebError> = std::result::Result<T, E>;

/// A refused API request: a status code and a JSON body `{"error": .., "kind": ..}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) kind: &'static str,
    pub(crate) message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid", message)
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        let (status, kind) = match &error {
            Error::NotFound { .. } => (StatusCode::NOT_FOUND, "not_found"),
            Error::InvalidId { .. } => (StatusCode::BAD_REQUEST, "invalid"),
            Error::Codec { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "codec"),
            Error::StillRunning { .. }
            | Error::NotFinished { .. }
            | Error::AlreadyExists { .. }
            | Error::ActorElsewhere { .. } => (StatusCode::CONFLICT, "conflict"),
            Error::TaskFailed { .. } | Error::Canceled { .. } | Error::Interrupted { .. } => {
                (StatusCode::CONFLICT, "failed")
            }
            Error::Admin { .. } | Error::Closed | Error::Locked { .. } => {
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
            }
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "engine"),
        };
        ApiError::new(status, kind, error.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({ "error": self.message, "kind": self.kind }));
        (self.status, body).into_response()
    }
}
