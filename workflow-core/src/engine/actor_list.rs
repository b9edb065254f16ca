//! Inspecting actors: a page of them, and one in detail with its state as JSON.

use workflow_storage::Order;

use super::{listing::info, queries::stored_status, Engine};
use crate::{
    actor::records::{call_workflow_id, ActorRecord, ACTORS},
    id::validate_user_id,
    records::{decode, system_time},
    value_type::ValueType,
    ActorDetail, ActorInfo, ActorPage, Error, Result, MAX_PAGE,
};

/// Actor records read per store call while filling a page.
const CHUNK: usize = 512;
/// Actor records one page may pass over (of other types) before it returns, short.
const MAX_SCANNED: usize = 20_000;
/// The calls shown with an actor.
const RECENT_CALLS: u64 = 20;

impl Engine {
    /// One page of the actors in the store, in id order: those of type `type_name` (an
    /// actor's durable type name) if given, at most `limit` (up to
    /// [`MAX_PAGE`](crate::MAX_PAGE)), after the cursor `after` of the previous page.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidId`] if `after` is not a cursor.
    ///
    /// # Examples
    ///
    /// ```
    /// # use workflow::prelude::*;
    /// # use serde::{Deserialize, Serialize};
    /// #[derive(Serialize, Deserialize)]
    /// struct Counter { value: i64 }
    ///
    /// #[virtual_actor]
    /// impl Counter {
    ///     fn new() -> Self { Counter { value: 0 } }
    ///     fn incr(&mut self) -> i64 { self.value += 1; self.value }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// let engine = Engine::temporary().await?;
    /// for id in ["c-1", "c-2", "c-3"] {
    ///     Counter::get_or_create(&engine, id).await?.incr().run().await?;
    /// }
    /// let page = engine.actors_page(None, None, 2).await?;
    /// assert_eq!(page.actors.len(), 2);
    /// let rest = engine.actors_page(None, page.next.as_deref(), 2).await?;
    /// assert_eq!(rest.actors[0].id, "c-3");
    /// assert_eq!(rest.actors[0].calls, 1);
    /// assert!(rest.next.is_none());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn actors_page(
        &self,
        type_name: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<ActorPage> {
        if let Some(after) = after {
            validate_user_id(after).map_err(|_| Error::InvalidId {
                id: after.chars().take(64).collect(),
                reason: "not a cursor of a page of actors",
            })?;
        }
        let limit = limit.clamp(1, MAX_PAGE);
        let store = &self.shared().store;
        let mut actors = Vec::new();
        let mut cursor = after.map(|after| after.as_bytes().to_vec());
        let mut scanned = 0;
        loop {
            let chunk = store
                .scan_page(ACTORS, &[], cursor.as_deref(), Order::Ascending, CHUNK)
                .await?;
            let full = chunk.len() == CHUNK;
            for (key, bytes) in chunk {
                scanned += 1;
                let record: ActorRecord = match decode(ACTORS, &key, &bytes) {
                    Ok(record) => record,
                    Err(error) => {
                        tracing::warn!(%error, "the actor listing skips a record it cannot read");
                        cursor = Some(key);
                        continue;
                    }
                };
                if type_name.is_none_or(|wanted| wanted == record.type_name) {
                    actors.push(actor_info(&key, record));
                }
                let next = String::from_utf8_lossy(&key).into_owned();
                cursor = Some(key);
                if actors.len() == limit || (scanned >= MAX_SCANNED && full) {
                    return Ok(ActorPage {
                        actors,
                        next: Some(next),
                    });
                }
            }
            if !full {
                return Ok(ActorPage { actors, next: None });
            }
        }
    }

    /// Actor `id` in detail: its record, its last committed state as JSON (when this
    /// program links the actor's type; otherwise `state_error` says why not), and its last
    /// calls, newest first.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidId`] for a malformed id, [`Error::NotFound`] for an unknown actor.
    ///
    /// # Examples
    ///
    /// ```
    /// # use workflow::prelude::*;
    /// # use serde::{Deserialize, Serialize};
    /// #[derive(Serialize, Deserialize)]
    /// struct Counter { value: i64 }
    ///
    /// #[virtual_actor]
    /// impl Counter {
    ///     fn new() -> Self { Counter { value: 0 } }
    ///     fn add(&mut self, n: i64) -> i64 { self.value += n; self.value }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// let engine = Engine::temporary().await?;
    /// let counter = Counter::get_or_create(&engine, "visits").await?;
    /// counter.add(5).run().await?;
    /// let detail = engine.actor_detail("visits").await?;
    /// assert_eq!(detail.state, Some(serde_json::json!({ "value": 5 })));
    /// assert_eq!(detail.recent_calls[0].id, "visits@0");
    /// assert_eq!(detail.recent_calls[0].status, WorkflowStatus::Successful);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn actor_detail(&self, id: &str) -> Result<ActorDetail> {
        validate_user_id(id)?;
        let shared = self.shared();
        let bytes = shared
            .store
            .get(ACTORS, id.as_bytes())
            .await?
            .ok_or_else(|| Error::NotFound {
                what: "actor",
                id: id.to_string(),
            })?;
        let record: ActorRecord = decode(ACTORS, id.as_bytes(), &bytes)?;
        let state_bytes = shared.actors.state(id, &record.type_name).await?;
        let decoded = match ValueType::of_actor(&record.type_name) {
            Some(state) => state
                .decode_json(&state_bytes)
                .map_err(|error| error.to_string()),
            None => Err(format!(
                "this program links no actor of type `{}`: its state shows where the \
                 program that defines it serves this view",
                record.type_name
            )),
        };
        let mut recent_calls = Vec::new();
        let first = record.next_call.saturating_sub(RECENT_CALLS);
        for call in (first..record.next_call).rev() {
            let call_id = call_workflow_id(id, call);
            if let Ok(call_record) = shared.record(&call_id).await {
                let status = shared
                    .active_status(&call_id)
                    .unwrap_or(stored_status(&call_record, shared.fleet().is_some()));
                recent_calls.push(info(call_id, status, &call_record));
            }
        }
        let (state, state_error) = match decoded {
            Ok(state) => (Some(state), None),
            Err(error) => (None, Some(error)),
        };
        Ok(ActorDetail {
            actor: actor_info(id.as_bytes(), record),
            state,
            state_error,
            state_bytes: state_bytes.len() as u64,
            recent_calls,
        })
    }
}

fn actor_info(key: &[u8], record: ActorRecord) -> ActorInfo {
    ActorInfo {
        id: String::from_utf8_lossy(key).into_owned(),
        type_name: record.type_name,
        calls: record.next_call,
        created_time: system_time(record.created_us),
    }
}
