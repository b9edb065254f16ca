//! Live updates: one feed per watched workflow, shared by all its viewers.
//!
//! A feed follows the workflow's progress, which the engine changes as tasks settle. On a
//! change (bursts are taken together), it reads the workflow once and sends every viewer the
//! nodes whose state changed. Nothing reads the store while nothing changes, and a hundred
//! viewers cost one read per change.

use std::{
    collections::HashMap,
    convert::Infallible,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    extract::{Path, State},
    response::sse::{Event, KeepAlive, Sse},
};
use serde_json::{json, Value};
use tokio::sync::broadcast;
use tokio_stream::{
    wrappers::{BroadcastStream, WatchStream},
    Stream, StreamExt,
};

use super::{error::ApiError, graph, ids::checked_id, source::Source, view::View};
use crate::{Progress, Result, WorkflowStatus};

/// How long a feed waits after a change for the changes that follow it.
const GATHER: Duration = Duration::from_millis(150);
/// How often a feed reads a workflow that runs in another process.
const ELSEWHERE: Duration = Duration::from_secs(1);
/// How often an idle feed looks whether anyone still watches.
const IDLE_CHECK: Duration = Duration::from_secs(10);
/// Updates a slow viewer may fall behind by before it is told to read everything again.
const BACKLOG: usize = 64;

type Feeds = Arc<Mutex<HashMap<String, broadcast::Sender<Arc<Value>>>>>;

/// The live feeds of a view.
pub(crate) struct Live {
    source: Source,
    feeds: Feeds,
}

impl Live {
    pub(crate) fn new(source: Source) -> Live {
        Live {
            source,
            feeds: Feeds::default(),
        }
    }

    /// The updates of workflow `id` from now on, and its state now.
    async fn subscribe(&self, id: &str) -> Result<(Value, broadcast::Receiver<Arc<Value>>)> {
        let receiver = {
            let mut feeds = self.feeds.lock().unwrap_or_else(|p| p.into_inner());
            match feeds.get(id) {
                Some(sender) => sender.subscribe(),
                None => {
                    let (sender, receiver) = broadcast::channel(BACKLOG);
                    feeds.insert(id.to_string(), sender.clone());
                    let feeds = self.feeds.clone();
                    tokio::spawn(feed(self.source.clone(), id.to_string(), sender, feeds));
                    receiver
                }
            }
        };
        let (snapshot, _) = read(&self.source, id).await?;
        Ok((snapshot, receiver))
    }
}

/// Reads workflow `id`: its state as sent to viewers (every node), and each node's state by
/// id.
async fn read(source: &Source, id: &str) -> Result<(Value, HashMap<String, Value>)> {
    let meta = source.metadata(id).await?;
    let progress = source.progress_now(id).await.unwrap_or_default();
    let status = meta.status;
    let nodes = tokio::task::spawn_blocking(move || graph::node_states(&meta))
        .await
        .unwrap_or_default();
    let by_id: HashMap<String, Value> = nodes
        .iter()
        .map(|node| {
            (
                node.id.clone(),
                serde_json::to_value(node).unwrap_or(Value::Null),
            )
        })
        .collect();
    Ok((update(status, progress, &nodes, false), by_id))
}

fn update(
    status: WorkflowStatus,
    progress: Progress,
    nodes: impl serde::Serialize,
    reshaped: bool,
) -> Value {
    json!({
        "status": status.to_string(),
        "tasks_done": progress.done,
        "tasks_total": progress.known,
        "nodes": nodes,
        "reshaped": reshaped,
        "running": matches!(status, WorkflowStatus::Running | WorkflowStatus::Pending),
    })
}

/// Follows workflow `id` while it runs and someone watches, sending what changed.
///
/// It waits on the engine's progress while the workflow runs in the engine behind the view.
/// A workflow that runs in another process (another worker of a PostgreSQL fleet) changes
/// no progress here: the feed then reads it once every [`ELSEWHERE`], for all its viewers.
async fn feed(source: Source, id: String, sender: broadcast::Sender<Arc<Value>>, feeds: Feeds) {
    let mut progress = source.progress(&id).await.ok();
    // Empty, so that the first update holds every node: a viewer's own first read may be
    // older than this feed's.
    let mut last = HashMap::new();
    loop {
        match progress.as_mut() {
            Some(watch) => {
                let ended = tokio::select! {
                    changed = watch.changed() => changed.is_err(),
                    _ = tokio::time::sleep(IDLE_CHECK) => {
                        if sender.receiver_count() == 0 {
                            break;
                        }
                        continue;
                    }
                };
                if ended {
                    progress = None;
                } else {
                    tokio::time::sleep(GATHER).await;
                    watch.borrow_and_update();
                }
            }
            None => tokio::time::sleep(ELSEWHERE).await,
        }
        if sender.receiver_count() == 0 {
            break;
        }
        let Ok((mut now, by_id)) = read(&source, &id).await else {
            break;
        };
        let reshaped = by_id.keys().any(|node| !last.contains_key(node)) && !last.is_empty();
        let changed: Vec<&Value> = by_id
            .iter()
            .filter(|(node, state)| last.get(*node) != Some(*state))
            .map(|(_, state)| state)
            .collect();
        let running = now["running"].as_bool().unwrap_or(false);
        if !changed.is_empty() || reshaped || !running {
            now["nodes"] = json!(changed);
            now["reshaped"] = json!(reshaped);
            let _ = sender.send(Arc::new(now));
        }
        last = by_id;
        if !running {
            break;
        }
    }
    let mut all = feeds.lock().unwrap_or_else(|p| p.into_inner());
    if all.get(&id).is_some_and(|kept| kept.same_channel(&sender)) {
        all.remove(&id);
    }
}

/// `GET /api/workflows/{id}/live`: server-sent events. The first `update` holds every node;
/// each later one holds the nodes that changed, and `reshaped` when a continuation added
/// nodes (read the graph again). The stream ends after the update whose `running` is false.
pub(crate) async fn events(
    State(view): State<Arc<View>>,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = std::result::Result<Event, Infallible>>>, ApiError> {
    checked_id(&id)?;
    let (snapshot, receiver) = view.live.subscribe(&id).await?;
    let running = snapshot["running"].as_bool().unwrap_or(false);
    let first = tokio_stream::once(snapshot);
    let later = BroadcastStream::new(receiver)
        .take_while(move |_| running)
        .map(|received| match received {
            Ok(update) => (*update).clone(),
            // Fell behind: read everything again.
            Err(_) => json!({ "nodes": [], "reshaped": true, "running": true }),
        });
    // The server stops: the stream ends, so that stopping does not wait for the run's end.
    let stopping = WatchStream::new(view.stopping())
        .filter(|stopping| *stopping)
        .map(|_| None);
    let stream = first
        .chain(later)
        .map(Some)
        .merge(stopping)
        .take_while(Option::is_some)
        .filter_map(|update| update)
        .map(|update| Ok(Event::default().event("update").data(update.to_string())));
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
