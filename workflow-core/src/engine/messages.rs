//! What the fleet's messages say: one `LISTEN` channel per schema carries short notes
//! (`ready`, `cancel <id>`, `finished <id> ...`) that wake the workers they concern.

use std::sync::Arc;

use workflow_storage::{OFFERED_MESSAGE, READY_MESSAGE};

/// The bytes of a message the fleet carries at most (PostgreSQL takes under 8000).
const MESSAGE_BYTES: usize = 7000;

/// What the fleet's messages say.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Message<'a> {
    /// Claims wait for a worker.
    Ready,
    /// Workflow `id` is to be canceled by the worker that runs it.
    Cancel(&'a str),
    /// An event arrived for workflow `.0` under key `.1`.
    Event(&'a str, &'a str),
    /// These workflows' runs ended (their end is durable).
    Finished(Vec<&'a str>),
    /// Steps were offered to the fleet.
    Offered,
    /// Offered steps of these workflows ended; their notices are stored.
    Done(Vec<&'a str>),
    /// Workflow `id` ended: its offered steps are not to run any more.
    Abandoned(&'a str),
    /// Calls were queued in the inbox of actor `.0`.
    Inbox(&'a str),
    /// The worker serving actor `.0` took in calls queued for it.
    Queued(&'a str),
}

impl<'a> Message<'a> {
    pub(crate) fn parse(text: &'a str) -> Option<Message<'a>> {
        match text {
            READY_MESSAGE => return Some(Message::Ready),
            OFFERED_MESSAGE => return Some(Message::Offered),
            _ => {}
        }
        let mut words = text.split(' ');
        let ids = || -> Vec<&'a str> { text.split(' ').skip(1).collect() };
        match (words.next()?, words.next(), words.next()) {
            ("cancel", Some(id), None) => Some(Message::Cancel(id)),
            ("abandoned", Some(id), None) => Some(Message::Abandoned(id)),
            ("inbox", Some(actor), None) => Some(Message::Inbox(actor)),
            ("queued", Some(actor), None) => Some(Message::Queued(actor)),
            ("event", Some(id), Some(key)) => Some(Message::Event(id, key)),
            ("finished", Some(_), _) => Some(Message::Finished(ids())),
            ("done", Some(_), _) => Some(Message::Done(ids())),
            _ => None,
        }
    }
}

/// Messages naming the ends of `ids`, each within what the fleet carries.
pub(crate) fn finished_messages(ids: &[Arc<str>]) -> Vec<String> {
    list_messages("finished", ids)
}

/// Messages `word id id ...` naming every one of `ids`, each within what the fleet carries.
pub(crate) fn list_messages(word: &str, ids: &[Arc<str>]) -> Vec<String> {
    let mut messages = Vec::new();
    let mut message = String::new();
    for id in ids {
        if !message.is_empty() && message.len() + id.len() + 1 > MESSAGE_BYTES {
            messages.push(std::mem::take(&mut message));
        }
        if message.is_empty() {
            message.push_str(word);
        }
        message.push(' ');
        message.push_str(id);
    }
    if !message.is_empty() {
        messages.push(message);
    }
    messages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_back_as_written() {
        assert_eq!(Message::parse(READY_MESSAGE), Some(Message::Ready));
        assert_eq!(Message::parse("cancel w-1"), Some(Message::Cancel("w-1")));
        assert_eq!(
            Message::parse("event w-1 approval"),
            Some(Message::Event("w-1", "approval"))
        );
        assert_eq!(Message::parse("cancel"), None);
        assert_eq!(Message::parse(OFFERED_MESSAGE), Some(Message::Offered));
        assert_eq!(
            Message::parse("done a b"),
            Some(Message::Done(vec!["a", "b"]))
        );
        assert_eq!(Message::parse("abandoned a"), Some(Message::Abandoned("a")));
        assert_eq!(Message::parse("inbox a"), Some(Message::Inbox("a")));
        assert_eq!(Message::parse("queued a"), Some(Message::Queued("a")));
        assert_eq!(Message::parse("whatever else"), None);
        let ids: Vec<Arc<str>> = (0..2000).map(|i| format!("workflow-{i}").into()).collect();
        let messages = finished_messages(&ids);
        assert!(messages.len() > 1);
        let mut read = Vec::new();
        for message in &messages {
            assert!(message.len() <= MESSAGE_BYTES);
            match Message::parse(message) {
                Some(Message::Finished(ids)) => read.extend(ids.into_iter().map(str::to_string)),
                other => panic!("{other:?}"),
            }
        }
        let written: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
        assert_eq!(read, written);
    }
}
