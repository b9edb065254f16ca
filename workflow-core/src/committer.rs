//! Group commit: one loop turns every checkpoint that is ready at the same moment into one
//! write and (under `Durability::Sync`) one fsync.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use workflow_storage::{Batch, Durability, Storage, StorageError};

use crate::metrics::{CHECKPOINT_RECORDS, CHECKPOINT_SECONDS};

/// What a committed batch reports back to whoever submitted it.
pub(crate) type CommitResult = Result<(), Arc<StorageError>>;

/// Called once the batch is durable (or failed); runs on the commit loop, so it must be quick.
pub(crate) type OnCommit = Box<dyn FnOnce(CommitResult) + Send>;

struct Request {
    batch: Batch,
    on_commit: OnCommit,
}

/// A handle to the commit loop.
#[derive(Clone)]
pub(crate) struct Committer {
    requests: mpsc::UnboundedSender<Request>,
}

/// The most requests merged into one write.
const MAX_GROUP: usize = 8192;

impl Committer {
    /// Starts the commit loop; it ends when every `Committer` is dropped.
    pub(crate) fn start(store: Arc<dyn Storage>, durability: Durability) -> Committer {
        let (requests, receiver) = mpsc::unbounded_channel();
        tokio::spawn(commit_loop(store, durability, receiver));
        Committer { requests }
    }

    /// Queues `batch`; `on_commit` runs once it is durable.
    pub(crate) fn submit(&self, batch: Batch, on_commit: OnCommit) {
        if let Err(mpsc::error::SendError(request)) =
            self.requests.send(Request { batch, on_commit })
        {
            (request.on_commit)(Err(Arc::new(StorageError::Closed)));
        }
    }

    /// Queues `batch` and waits until it is durable.
    pub(crate) async fn commit(&self, batch: Batch) -> CommitResult {
        let (sender, receiver) = oneshot::channel();
        self.submit(
            batch,
            Box::new(move |result| {
                let _ = sender.send(result);
            }),
        );
        receiver
            .await
            .unwrap_or_else(|_| Err(Arc::new(StorageError::Closed)))
    }
}

async fn commit_loop(
    store: Arc<dyn Storage>,
    durability: Durability,
    mut receiver: mpsc::UnboundedReceiver<Request>,
) {
    let mut group: Vec<Request> = Vec::new();
    while receiver.recv_many(&mut group, MAX_GROUP).await > 0 {
        let mut merged = Batch::new();
        let mut waiters: Vec<OnCommit> = Vec::with_capacity(group.len());
        for request in group.drain(..) {
            if request.batch.expectations().is_empty() {
                merged.append(request.batch);
                waiters.push(request.on_commit);
            } else {
                // A conditional batch is committed alone, after what came before it, so that a
                // failed expectation fails only its own batch.
                flush(
                    &*store,
                    durability,
                    std::mem::take(&mut merged),
                    &mut waiters,
                )
                .await;
                let result = store.commit(request.batch, durability).await;
                (request.on_commit)(result.map_err(Arc::new));
            }
        }
        flush(&*store, durability, merged, &mut waiters).await;
    }
}

async fn flush(
    store: &dyn Storage,
    durability: Durability,
    batch: Batch,
    waiters: &mut Vec<OnCommit>,
) {
    if waiters.is_empty() {
        return;
    }
    let records = batch.len();
    let started = std::time::Instant::now();
    let result = store.commit(batch, durability).await.map_err(Arc::new);
    ::metrics::histogram!(CHECKPOINT_SECONDS).record(started.elapsed());
    ::metrics::histogram!(CHECKPOINT_RECORDS).record(records as f64);
    match &result {
        Ok(()) => tracing::trace!(records, commits = waiters.len(), "group commit durable"),
        Err(error) => tracing::error!(records, %error, "group commit failed"),
    }
    for waiter in waiters.drain(..) {
        waiter(result.clone());
    }
}
