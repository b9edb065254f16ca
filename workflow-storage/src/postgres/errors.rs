//! PostgreSQL's errors as [`StorageError`]s that say what happened and what to do.

use crate::StorageError;

/// Maps an error of the driver: a lost or refused connection is `Unreachable`, an error the
/// server reported is `Backend` with its message and code.
pub(crate) fn map_pg_error(target: &str, error: tokio_postgres::Error) -> StorageError {
    if let Some(db) = error.as_db_error() {
        return StorageError::Backend {
            message: format!(
                "PostgreSQL at `{target}` refused a statement: {} (code {})",
                db.message(),
                db.code().code()
            ),
        };
    }
    StorageError::Unreachable {
        target: target.to_string(),
        reason: describe(&error),
    }
}

/// Maps an error of the pool.
pub(crate) fn map_pool_error(target: &str, error: deadpool_postgres::PoolError) -> StorageError {
    use deadpool_postgres::PoolError;
    match error {
        PoolError::Backend(error) => map_pg_error(target, error),
        PoolError::Closed => StorageError::Closed,
        PoolError::Timeout(_) => StorageError::Unreachable {
            target: target.to_string(),
            reason: "no connection became free in time".to_string(),
        },
        other => StorageError::Unreachable {
            target: target.to_string(),
            reason: other.to_string(),
        },
    }
}

/// Whether a transaction failed only because it ran into another one, and may be retried.
pub(crate) fn is_transient(error: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    error.code().is_some_and(|code| {
        *code == SqlState::T_R_SERIALIZATION_FAILURE || *code == SqlState::T_R_DEADLOCK_DETECTED
    })
}

/// The driver's description of an error, with its cause (which names the I/O failure).
fn describe(error: &tokio_postgres::Error) -> String {
    match std::error::Error::source(error) {
        Some(source) => format!("{error}: {source}"),
        None => error.to_string(),
    }
}
