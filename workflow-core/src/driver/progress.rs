//! Publishing how far the workflow is, for [`Engine::progress`](crate::Engine::progress).

use super::Driver;
use crate::Progress;

impl Driver {
    /// Publishes the workflow's progress; watchers are woken only if it changed, and only
    /// if there are any (a later one reads the value stored here).
    pub(super) fn publish_progress(&mut self) {
        let Some(progress) = &self.progress else {
            return;
        };
        let now = Progress::new(self.settled, self.records.len() as u64);
        // Most turns of the event loop change nothing: no lock is taken for them.
        if now == self.published {
            return;
        }
        self.published = now;
        let watched = progress.receiver_count() > 0;
        progress.send_if_modified(|published| {
            let changed = *published != now;
            *published = now;
            changed && watched
        });
    }
}
