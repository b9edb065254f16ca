//! What every handler shares: the source, the live updates, and a short-lived copy of the
//! store's counts.

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

use serde_json::{json, Value};

use super::{live::Live, shapes, source::Source};
use crate::Result;

/// How long the store's counts are reused: counting reads every workflow's head record, so
/// viewers that load pages at the same time share one count.
const STATS_FOR: Duration = Duration::from_secs(2);

/// The state of a served view.
pub(crate) struct View {
    pub(crate) source: Source,
    pub(crate) live: Live,
    pub(crate) token: Option<String>,
    /// The `Host` headers accepted; any if `None`.
    pub(crate) hosts: Option<Vec<String>>,
    stats: tokio::sync::Mutex<()>,
    counted: Mutex<Option<(Instant, Value)>>,
    /// Set when the server stops: live streams end.
    stopping: tokio::sync::watch::Sender<bool>,
}

impl View {
    pub(crate) fn new(source: Source, token: Option<String>, hosts: Option<Vec<String>>) -> Self {
        View {
            live: Live::new(source.clone()),
            source,
            token,
            hosts,
            stats: tokio::sync::Mutex::new(()),
            counted: Mutex::new(None),
            stopping: tokio::sync::watch::Sender::new(false),
        }
    }

    /// Ends the live streams: the server stops.
    pub(crate) fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// Whether the server stops, as it changes.
    pub(crate) fn stopping(&self) -> tokio::sync::watch::Receiver<bool> {
        self.stopping.subscribe()
    }

    /// The store's counts, read at most once per [`STATS_FOR`].
    pub(crate) async fn stats(&self) -> Result<Value> {
        let fresh = || {
            self.counted
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .as_ref()
                .filter(|(at, _)| at.elapsed() < STATS_FOR)
                .map(|(_, value)| value.clone())
        };
        if let Some(value) = fresh() {
            return Ok(value);
        }
        // One count at a time: the others wait for it.
        let _counting = self.stats.lock().await;
        if let Some(value) = fresh() {
            return Ok(value);
        }
        let stats = self.source.stats().await?;
        let by_status: serde_json::Map<String, Value> = stats
            .by_status
            .iter()
            .map(|(status, count)| (status.to_string(), json!(count)))
            .collect();
        let value = json!({
            "workflows": stats.workflows,
            "by_status": by_status,
            "actors": stats.actors,
            "disk_bytes": stats.disk_bytes,
            "counted_at": shapes::millis(std::time::SystemTime::now()),
        });
        *self.counted.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((Instant::now(), value.clone()));
        Ok(value)
    }

    /// Forgets the counts after a change made through the view.
    pub(crate) fn changed(&self) {
        *self.counted.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}
