//! Delivering external events.

use workflow_storage::{Batch, KeyBuilder};

use super::Engine;
use crate::{
    id::{validate_task_id, validate_workflow_id},
    records::{encode, EventRecord, EVENTS},
    value::{encode_value, fingerprint, short_type_name},
    wait::hub::queue_prefix,
    Error, Result, TaskValue,
};

impl Engine {
    /// Sends `value` as event `key` to workflow `workflow_id`, for a step waiting on
    /// `ExternalEvent::<T>::new(key)`.
    ///
    /// Events sent with one key form a queue: each is delivered once, in order, to successive
    /// waits on that key. An event sent before anything waits for it is kept until then.
    ///
    /// # Durability
    ///
    /// The event is stored when this returns.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if there is no such workflow, [`Error::InvalidId`] for a malformed
    /// id or key. A value of another type than the wait expects fails the waiting step with a
    /// codec error naming both types.
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow::prelude::*;
    ///
    /// #[task]
    /// fn greet(name: String) -> String {
    ///     format!("hello {name}")
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// let engine = Engine::temporary().await?;
    /// let name = workflow::wait_for_event(ExternalEvent::<String>::new("name"));
    /// let handle = engine.spawn("greeting", greet::bind(name)).await?;
    /// engine.send_event("greeting", "name", &"Ada".to_string()).await?;
    /// assert_eq!(handle.output().await?, "hello Ada");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn send_event<T: TaskValue>(
        &self,
        workflow_id: &str,
        key: &str,
        value: &T,
    ) -> Result<()> {
        validate_workflow_id(workflow_id)?;
        validate_task_id(key)?;
        let record = EventRecord {
            fingerprint: fingerprint::<T>(),
            type_name: short_type_name::<T>(),
            bytes: encode_value(value)?,
        };
        self.send_event_record(workflow_id, key, record).await
    }

    /// Queues an encoded event; the ids are valid.
    pub(super) async fn send_event_record(
        &self,
        workflow_id: &str,
        key: &str,
        record: EventRecord,
    ) -> Result<()> {
        let shared = self.shared();
        shared.record(workflow_id).await?;
        let prefix = queue_prefix(workflow_id, key);
        let events = &shared.events;
        {
            // One send at a time: the next sequence number follows the last one stored.
            let _sending = events.lock_sends(&prefix).await;
            let queued = shared.store.scan_prefix(EVENTS, &prefix).await?;
            let last = match queued.last() {
                Some((last, _)) => Some(sequence_of(prefix.len(), last)?),
                None => None,
            };
            let mut next = events.next_sequence(last);
            let value = encode(&record)?;
            let in_fleet = shared.fleet().is_some();
            for attempt in 1.. {
                let mut batch = Batch::new();
                let key = KeyBuilder::new().bytes(&prefix).u64(next).build();
                if in_fleet {
                    // Another worker may send to this queue at once: never over its event.
                    batch.expect(EVENTS, key.clone(), None);
                }
                batch.put(EVENTS, key, value.clone());
                match shared.committer.commit(batch).await {
                    Ok(()) => break,
                    Err(error)
                        if attempt < 10
                            && matches!(
                                *error,
                                workflow_storage::StorageError::Conflict { .. }
                            ) =>
                    {
                        next = events.next_sequence(Some(next));
                    }
                    Err(error) => return Err(Error::from_storage(error)),
                }
            }
        }
        events.wake(&prefix);
        shared.send_event_note(workflow_id, key).await?;
        Ok(())
    }
}

fn sequence_of(prefix_len: usize, key: &[u8]) -> Result<u64> {
    key.get(prefix_len..)
        .and_then(|bytes| <[u8; 8]>::try_from(bytes).ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| Error::Corrupt {
            keyspace: EVENTS.name(),
            key: workflow_storage::render_key(key),
            reason: "the key has no sequence number".to_string(),
        })
}
