//! Workflow and task id rules.

use crate::{Error, Result};

/// The longest id accepted.
pub(crate) const MAX_ID_LEN: usize = 200;

/// Checks the id of an existing workflow: a user's id, or the id of an actor's call.
pub(crate) fn validate_workflow_id(id: &str) -> Result<()> {
    // The workflow of an actor's call: `{actor_id}@{n}`.
    if let Some((actor, call)) = id.rsplit_once('@') {
        if !call.is_empty() && call.bytes().all(|b| b.is_ascii_digit()) {
            return validate_user_id(actor).map_err(|_| Error::InvalidId {
                id: shorten(id),
                reason: "an actor call's id is an actor id, `@` and a number",
            });
        }
    }
    validate_user_id(id)
}

/// Checks an id a user gives to a new workflow or actor: 1 to 200 of `[A-Za-z0-9-_.:]`.
pub(crate) fn validate_user_id(id: &str) -> Result<()> {
    let reason = if id.is_empty() {
        Some("an id must not be empty")
    } else if id.len() > MAX_ID_LEN {
        Some("an id has at most 200 characters")
    } else if !id.bytes().all(is_id_byte) {
        Some("an id may only contain ASCII letters, digits, `-`, `_`, `.` and `:`")
    } else {
        None
    };
    match reason {
        None => Ok(()),
        Some(reason) => Err(Error::InvalidId {
            id: shorten(id),
            reason,
        }),
    }
}

/// Checks a task id given with `Dag::task_id` or asked for by `task_output`.
pub(crate) fn validate_task_id(id: &str) -> Result<()> {
    validate_workflow_id(id)
}

fn is_id_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':')
}

fn shorten(id: &str) -> String {
    let mut shown: String = id.chars().take(64).collect();
    if shown.len() < id.len() {
        shown.push_str("...");
    }
    shown.escape_debug().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_alphabet() {
        assert!(validate_workflow_id("run_1").is_ok());
        assert!(validate_workflow_id("a-b.c:d_E9").is_ok());
        assert!(validate_workflow_id(&"x".repeat(200)).is_ok());
    }

    #[test]
    fn rejects_everything_else() {
        for bad in ["", "a/b", "a b", "a\0b", "é", "a@1", &"x".repeat(201)] {
            assert!(
                matches!(validate_user_id(bad), Err(Error::InvalidId { .. })),
                "{bad:?} was accepted"
            );
        }
        for bad in ["a@", "@1", "a@1x", "a/b@1", "a@1@2"] {
            assert!(
                matches!(validate_workflow_id(bad), Err(Error::InvalidId { .. })),
                "{bad:?} was accepted"
            );
        }
    }

    #[test]
    fn accepts_the_ids_of_actor_calls() {
        assert!(validate_workflow_id("counter_1@0").is_ok());
        assert!(validate_workflow_id("counter_1@42").is_ok());
        assert!(validate_user_id("counter_1@42").is_err());
    }
}
