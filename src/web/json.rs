//! JSON answers. The view writes them itself rather than through `axum`'s `json` feature,
//! which would turn on features of `serde_json` for the whole program that links it.

use axum::{
    http::header,
    response::{IntoResponse, Response},
};
use serde_json::Value;

/// An answer whose body is `0` as JSON.
pub(crate) struct Json<T>(pub(crate) T);

impl IntoResponse for Json<Value> {
    fn into_response(self) -> Response {
        (
            [(header::CONTENT_TYPE, "application/json")],
            self.0.to_string(),
        )
            .into_response()
    }
}
