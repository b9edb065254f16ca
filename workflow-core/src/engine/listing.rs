//! Listing stored workflows page by page, from the head records in id order or from the
//! creation index, without holding more than a page in memory.

use workflow_storage::{Keyspace, Order};

use super::{queries::stored_status, Engine, Shared};
use crate::{
    actor::records::parse_call_id,
    list_query::{ListQuery, WorkflowPage, MAX_PAGE},
    metadata::WorkflowInfo,
    records::{decode, parse_created_key, system_time, WorkflowRecord, CREATED, WORKFLOWS},
    Error, Result, WorkflowStatus,
};

/// Stored entries read per store call while filling a page.
const CHUNK: usize = 512;

/// Stored entries one page may pass over (filtered out) before it returns, short, with a
/// cursor: a page costs a bounded amount of work however selective its filter.
const MAX_SCANNED: usize = 20_000;

/// Where a listing reads: the head records by id, or the creation index newest first.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    ById,
    NewestFirst,
}

impl Source {
    fn tag(self) -> char {
        match self {
            Self::ById => 'i',
            Self::NewestFirst => 'c',
        }
    }

    fn keyspace(self) -> Keyspace {
        match self {
            Self::ById => WORKFLOWS,
            Self::NewestFirst => CREATED,
        }
    }
}

impl Engine {
    /// One page of the stored workflows (not actor calls) that match `query`, and the cursor
    /// of the next page.
    ///
    /// Unlike [`list`](Engine::list), it reads only what one page needs, so it serves stores
    /// of any size. Pages by id follow the head records' order; pages `newest_first` follow
    /// an index of creation times. A page whose filter skips many workflows stops after
    /// reading 20,000 of them and returns what it found with a cursor, so no call does
    /// unbounded work.
    ///
    /// A cursor stays valid while workflows are added or deleted: the next page starts just
    /// after the last workflow the previous one read.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidId`] if `query.after` is not a cursor of a page of the same order.
    ///
    /// # Examples
    ///
    /// ```
    /// # use workflow::prelude::*;
    /// # #[task] fn one() -> i64 { 1 }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// let engine = Engine::temporary().await?;
    /// for n in 0..5 {
    ///     engine.run(&format!("job-{n}"), one::bind()).await?;
    /// }
    /// let mut seen = Vec::new();
    /// let mut query = ListQuery::new().newest_first().limit(2);
    /// loop {
    ///     let page = engine.list_page(&query).await?;
    ///     seen.extend(page.workflows.into_iter().map(|w| w.id));
    ///     match page.next {
    ///         Some(next) => query = query.after(next),
    ///         None => break,
    ///     }
    /// }
    /// assert_eq!(seen, ["job-4", "job-3", "job-2", "job-1", "job-0"]);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn list_page(&self, query: &ListQuery) -> Result<WorkflowPage> {
        self.shared().list_page(query, false).await
    }
}

impl Shared {
    /// One page of the workflows matching `query`; actor calls only if `calls`.
    pub(crate) async fn list_page(&self, query: &ListQuery, calls: bool) -> Result<WorkflowPage> {
        let source = if query.newest_first {
            Source::NewestFirst
        } else {
            Source::ById
        };
        let limit = query.limit.clamp(1, MAX_PAGE);
        let mut after = match &query.after {
            Some(cursor) => Some(decode_cursor(cursor, source)?),
            None => None,
        };
        let prefix: &[u8] = match source {
            Source::ById => query.id_prefix.as_bytes(),
            Source::NewestFirst => &[],
        };
        let order = match source {
            Source::ById => Order::Ascending,
            Source::NewestFirst => Order::Descending,
        };
        let mut workflows = Vec::new();
        let mut scanned = 0;
        loop {
            let chunk = self
                .store
                .scan_page(source.keyspace(), prefix, after.as_deref(), order, CHUNK)
                .await?;
            let exhausted = chunk.len() < CHUNK;
            let len = chunk.len();
            for (at, (key, value)) in chunk.into_iter().enumerate() {
                scanned += 1;
                if let Some(info) = self.listed(source, &key, &value, query, calls).await? {
                    workflows.push(info);
                }
                if workflows.len() == limit || scanned == MAX_SCANNED {
                    // No cursor when nothing is stored beyond this entry.
                    let more = at + 1 < len || !exhausted;
                    let next = more.then(|| encode_cursor(source, &key));
                    return Ok(WorkflowPage { workflows, next });
                }
                after = Some(key);
            }
            if exhausted {
                return Ok(WorkflowPage {
                    workflows,
                    next: None,
                });
            }
        }
    }

    /// The entry of one stored key of `source` if it passes `query`'s filters.
    async fn listed(
        &self,
        source: Source,
        key: &[u8],
        value: &[u8],
        query: &ListQuery,
        calls: bool,
    ) -> Result<Option<WorkflowInfo>> {
        let (id, record) = match source {
            Source::ById => (String::from_utf8_lossy(key).into_owned(), Some(value)),
            Source::NewestFirst => match parse_created_key(key) {
                Some((_, id)) => (id, None),
                None => {
                    tracing::warn!(key = ?key, "listing skips a malformed creation index entry");
                    return Ok(None);
                }
            },
        };
        if !id.starts_with(&query.id_prefix) || (!calls && parse_call_id(&id).is_some()) {
            return Ok(None);
        }
        let fetched;
        let bytes = match record {
            Some(bytes) => bytes,
            None => match self.store.get(WORKFLOWS, id.as_bytes()).await? {
                Some(bytes) => {
                    fetched = bytes;
                    &fetched
                }
                // Deleted between the index read and this one.
                None => return Ok(None),
            },
        };
        let record: WorkflowRecord = match decode(WORKFLOWS, id.as_bytes(), bytes) {
            Ok(record) => record,
            Err(error) => {
                tracing::warn!(%error, "listing skips a workflow record that cannot be decoded");
                return Ok(None);
            }
        };
        let status = self
            .active_status(&id)
            .unwrap_or(stored_status(&record, self.fleet().is_some()));
        if query.status.is_some_and(|wanted| wanted != status) {
            return Ok(None);
        }
        Ok(Some(info(id, status, &record)))
    }

    /// Every stored workflow with status `filter` (all if `None`), actor calls only if
    /// `calls`, read page by page.
    pub(crate) async fn list_all(
        &self,
        filter: Option<WorkflowStatus>,
        calls: bool,
    ) -> Result<Vec<WorkflowInfo>> {
        let mut query = ListQuery::new().limit(MAX_PAGE);
        query.status = filter;
        let mut out = Vec::new();
        loop {
            let page = self.list_page(&query, calls).await?;
            out.extend(page.workflows);
            match page.next {
                Some(next) => query.after = Some(next),
                None => return Ok(out),
            }
        }
    }
}

pub(crate) fn info(id: String, status: WorkflowStatus, record: &WorkflowRecord) -> WorkflowInfo {
    WorkflowInfo {
        id,
        status,
        created_time: system_time(record.created_us),
        start_time: record.start_us.map(system_time),
        end_time: record.end_us.map(system_time),
    }
}

fn encode_cursor(source: Source, key: &[u8]) -> String {
    let mut cursor = String::with_capacity(1 + 2 * key.len());
    cursor.push(source.tag());
    for byte in key {
        cursor.push_str(&format!("{byte:02x}"));
    }
    cursor
}

fn decode_cursor(cursor: &str, source: Source) -> Result<Vec<u8>> {
    let invalid = || Error::InvalidId {
        id: cursor
            .chars()
            .take(64)
            .collect::<String>()
            .escape_debug()
            .to_string(),
        reason: "not a cursor of a page in this order; pass the `next` of the previous page",
    };
    let hex = cursor.strip_prefix(source.tag()).ok_or_else(invalid)?;
    if hex.len() % 2 != 0 || hex.is_empty() {
        return Err(invalid());
    }
    (0..hex.len())
        .step_by(2)
        .map(|at| {
            hex.get(at..at + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(invalid)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_foreign_text() {
        for source in [Source::ById, Source::NewestFirst] {
            let key = b"job-1\x00\xff";
            let cursor = encode_cursor(source, key);
            assert_eq!(decode_cursor(&cursor, source).unwrap(), key);
        }
        let by_id = encode_cursor(Source::ById, b"a");
        for bad in [by_id.as_str(), "c", "c0", "czz", "c\u{e9}\u{e9}", "", "x61"] {
            assert!(
                matches!(
                    decode_cursor(bad, Source::NewestFirst),
                    Err(Error::InvalidId { .. })
                ),
                "{bad:?} was accepted"
            );
        }
    }
}
