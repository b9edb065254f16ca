//! The query and the page of [`Engine::list_page`](crate::Engine::list_page).

use serde::{Deserialize, Serialize};

use crate::{WorkflowInfo, WorkflowStatus};

/// The most workflows one page holds, whatever [`ListQuery::limit`] asks.
pub const MAX_PAGE: usize = 10_000;

/// Which workflows a page of [`Engine::list_page`](crate::Engine::list_page) holds, in
/// which order, and where it starts.
///
/// By default: every workflow, by id, 100 per page, from the first.
///
/// # Examples
///
/// ```
/// use workflow::{ListQuery, WorkflowStatus};
///
/// let query = ListQuery::new()
///     .status(WorkflowStatus::Failed)
///     .id_prefix("nightly-")
///     .newest_first()
///     .limit(50);
/// assert_eq!(query.limit, 50);
/// assert!(query.newest_first);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ListQuery {
    /// Only workflows with this status.
    pub status: Option<WorkflowStatus>,
    /// Only workflows whose id starts with this.
    pub id_prefix: String,
    /// Most recently created first, instead of by id.
    pub newest_first: bool,
    /// The most workflows in the page (at least 1, at most [`MAX_PAGE`]).
    pub limit: usize,
    /// Where the page starts: the [`next`](WorkflowPage::next) cursor of the page before.
    pub after: Option<String>,
}

impl ListQuery {
    /// Every workflow, by id, 100 per page, from the first.
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow::ListQuery;
    ///
    /// let query = ListQuery::new();
    /// assert_eq!((query.limit, query.status, query.after), (100, None, None));
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self {
            status: None,
            id_prefix: String::new(),
            newest_first: false,
            limit: 100,
            after: None,
        }
    }

    /// Only workflows with status `status`.
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow::{ListQuery, WorkflowStatus};
    ///
    /// let query = ListQuery::new().status(WorkflowStatus::Running);
    /// assert_eq!(query.status, Some(WorkflowStatus::Running));
    /// ```
    #[must_use]
    pub fn status(mut self, status: WorkflowStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// Only workflows whose id starts with `prefix`.
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow::ListQuery;
    ///
    /// assert_eq!(ListQuery::new().id_prefix("batch-").id_prefix, "batch-");
    /// ```
    #[must_use]
    pub fn id_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.id_prefix = prefix.into();
        self
    }

    /// Most recently created first, instead of by id.
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow::ListQuery;
    ///
    /// assert!(ListQuery::new().newest_first().newest_first);
    /// ```
    #[must_use]
    pub fn newest_first(mut self) -> Self {
        self.newest_first = true;
        self
    }

    /// At most `limit` workflows per page; clamped to 1..=[`MAX_PAGE`].
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow::{ListQuery, MAX_PAGE};
    ///
    /// assert_eq!(ListQuery::new().limit(0).limit, 1);
    /// assert_eq!(ListQuery::new().limit(usize::MAX).limit, MAX_PAGE);
    /// ```
    #[must_use]
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit.clamp(1, MAX_PAGE);
        self
    }

    /// The page that follows the one whose [`next`](WorkflowPage::next) cursor is `cursor`.
    ///
    /// # Examples
    ///
    /// ```
    /// use workflow::ListQuery;
    ///
    /// let query = ListQuery::new().after("i6131");
    /// assert_eq!(query.after.as_deref(), Some("i6131"));
    /// ```
    #[must_use]
    pub fn after(mut self, cursor: impl Into<String>) -> Self {
        self.after = Some(cursor.into());
        self
    }
}

impl Default for ListQuery {
    fn default() -> Self {
        Self::new()
    }
}

/// One page of [`Engine::list_page`](crate::Engine::list_page).
///
/// # Examples
///
/// ```
/// # use workflow::prelude::*;
/// # #[task] fn one() -> i64 { 1 }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> workflow::Result<()> {
/// let engine = Engine::temporary().await?;
/// engine.run("a", one::bind()).await?;
/// engine.run("b", one::bind()).await?;
/// let page = engine.list_page(&ListQuery::new().limit(1)).await?;
/// assert_eq!(page.workflows[0].id, "a");
/// let next = page.next.expect("b is on the next page");
/// let page = engine.list_page(&ListQuery::new().limit(1).after(next)).await?;
/// assert_eq!(page.workflows[0].id, "b");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WorkflowPage {
    /// The workflows of the page, in the query's order.
    pub workflows: Vec<WorkflowInfo>,
    /// The cursor of the next page ([`ListQuery::after`]), or `None` if no workflow is
    /// stored beyond this page. A page may hold fewer workflows than asked and still have a
    /// next one, when a filter skipped many stored workflows; and the page after a cursor
    /// may be empty, when the workflows beyond it do not match the filter.
    pub next: Option<String>,
}
