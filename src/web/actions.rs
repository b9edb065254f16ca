//! The API's changing routes, all `POST`: cancel, delete, and (where the view links the
//! program's tasks) resume and send an event. The guard has checked the token or origin.

use std::{sync::Arc, time::Duration};

use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use serde_json::{json, Value};

use super::{error::ApiError, ids::checked_id, json::Json, view::View};
use crate::Engine;

/// How long `resume` waits for the run's end before it answers that the run goes on.
const RESUME_WAIT: Duration = Duration::from_millis(500);

type Answer = Result<(StatusCode, Json<Value>), ApiError>;

/// `POST /api/workflows/{id}/cancel`.
pub(crate) async fn cancel(State(view): State<Arc<View>>, Path(id): Path<String>) -> Answer {
    checked_id(&id)?;
    let status = view.source.cancel(&id).await?;
    view.changed();
    Ok((
        StatusCode::OK,
        Json(json!({ "id": id, "status": status.to_string() })),
    ))
}

/// `POST /api/workflows/{id}/delete`.
pub(crate) async fn delete(State(view): State<Arc<View>>, Path(id): Path<String>) -> Answer {
    checked_id(&id)?;
    view.source.delete(&id).await?;
    view.changed();
    Ok((StatusCode::OK, Json(json!({ "id": id, "deleted": true }))))
}

/// `POST /api/workflows/{id}/resume`: resumes the run in this process. Answers `200` with
/// the output if the run ends soon, `202` while it goes on.
pub(crate) async fn resume(State(view): State<Arc<View>>, Path(id): Path<String>) -> Answer {
    checked_id(&id)?;
    let engine = program_engine(&view, "resume")?.clone();
    let run = {
        let id = id.clone();
        tokio::spawn(async move { engine.resume_json(&id).await })
    };
    view.changed();
    match tokio::time::timeout(RESUME_WAIT, run).await {
        Ok(Ok(Ok(output))) => Ok((
            StatusCode::OK,
            Json(json!({ "id": id, "status": "successful", "output": output })),
        )),
        Ok(Ok(Err(error))) => Err(error.into()),
        Ok(Err(join)) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "engine",
            format!("the resumed run stopped: {join}"),
        )),
        Err(_) => Ok((
            StatusCode::ACCEPTED,
            Json(json!({ "id": id, "status": "running" })),
        )),
    }
}

/// `POST /api/workflows/{id}/events/{key}` with the event's value as a JSON body.
pub(crate) async fn send_event(
    State(view): State<Arc<View>>,
    Path((id, key)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Answer {
    checked_id(&id)?;
    checked_id(&key)?;
    let value: Value = serde_json::from_slice(&body).map_err(|error| {
        ApiError::bad_request(format!("the event's value is not JSON: {error}"))
    })?;
    program_engine(&view, "send-event")?
        .send_event_json(&id, &key, value)
        .await?;
    Ok((
        StatusCode::OK,
        Json(json!({ "id": id, "key": key, "sent": true })),
    ))
}

/// The engine of the program that runs the workflows, for `action`, which needs its tasks.
fn program_engine<'a>(view: &'a View, action: &str) -> Result<&'a Engine, ApiError> {
    view.source.embedded_engine().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "needs_program",
            format!(
                "`{action}` needs the program's own task types: serve the view from the \
                 program that runs the workflows (workflow::web::router)"
            ),
        )
    })
}
