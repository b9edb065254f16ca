//! Ids in URLs, checked before anything is read: the engine's id rules.

use super::error::ApiError;

/// The longest id accepted, as the engine accepts.
const MAX_ID_LEN: usize = 200;

/// `id` if it may name a workflow, task or actor: 1 to 200 of `[A-Za-z0-9-_.:@]` (`@` for
/// an actor call's id).
pub(crate) fn checked_id(id: &str) -> Result<&str, ApiError> {
    let allowed =
        |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'@');
    // `.` and `..` would be read as path steps by browsers.
    let dots = id.bytes().all(|b| b == b'.');
    if id.is_empty() || id.len() > MAX_ID_LEN || !id.bytes().all(allowed) || dots {
        let shown: String = id.chars().take(64).collect();
        return Err(ApiError::bad_request(format!(
            "`{}` is not an id here: ids have 1 to 200 of the characters A-Z a-z 0-9 - _ . : @, \
             not only dots",
            shown.escape_debug()
        )));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::checked_id;

    #[test]
    fn ids_follow_the_engine_rules() {
        assert!(checked_id("order-7").is_ok());
        assert!(checked_id("counter@12").is_ok());
        assert!(checked_id("").is_err());
        assert!(checked_id("a/b").is_err());
        assert!(checked_id("<script>").is_err());
        assert!(checked_id(&"x".repeat(201)).is_err());
        assert!(checked_id("..").is_err());
        assert!(checked_id("v1.2").is_ok());
    }
}
