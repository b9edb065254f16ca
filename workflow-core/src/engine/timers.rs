//! The timer index: started sleeps by deadline, so that workflows with due timers are found
//! without reading every workflow.

use workflow_storage::Batch;

use super::{queries::stored_status, Shared};
use crate::{
    launch::read_record,
    records::{now_us, parse_timer_key, TIMERS},
    Error, Result, WorkflowStatus,
};

impl Shared {
    /// The `Resumable` workflows with a sleep due by now, earliest deadline first, each once.
    ///
    /// Reads the index up to the first timer not due. Entries of workflows that are gone or
    /// can no longer resume are stale: they are removed.
    pub(crate) async fn due_timers(&self) -> Result<Vec<String>> {
        let now = now_us();
        let mut due: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut stale = Batch::new();
        for (key, _) in self.store.scan_prefix(TIMERS, &[]).await? {
            let Some((deadline, id)) = parse_timer_key(&key) else {
                stale.delete(TIMERS, key);
                continue;
            };
            if deadline > now {
                break;
            }
            if seen.contains(&id) {
                continue;
            }
            let record = match read_record(&*self.store, &id).await {
                Ok(record) => record,
                Err(error) => {
                    tracing::warn!(workflow.id = %id, %error, "a due timer's workflow cannot be read");
                    continue;
                }
            };
            let status = record.as_ref().map(|record| {
                self.active_status(&id)
                    .unwrap_or(stored_status(record, self.fleet().is_some()))
            });
            match status {
                Some(WorkflowStatus::Resumable) => {
                    seen.insert(id.clone());
                    due.push(id);
                }
                Some(WorkflowStatus::Running | WorkflowStatus::Pending) => {}
                _ => stale.delete(TIMERS, key),
            }
        }
        if !stale.is_empty() {
            self.committer
                .commit(stale)
                .await
                .map_err(Error::from_storage)?;
        }
        Ok(due)
    }
}
