//! The error of every use case: a domain rule that refused the request, or a failure of the
//! service itself (the database away, a bug). Each variant keeps what the caller needs to fix the
//! request; internal failures keep their cause for the log, never for the caller.
use crate::domain::photo::PhotoError;
use crate::domain::{AccessError, Invalid, WorkflowError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error(transparent)]
    Access(#[from] AccessError),
    #[error(transparent)]
    Photo(#[from] PhotoError),
    #[error("{0}")]
    NotFound(String),
    /// The database cannot take the request now (pool exhausted, connection lost): retry.
    #[error("{0}")]
    Unavailable(String),
    #[error("database: {0}")]
    Database(sqlx::Error),
    #[error("{0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn not_found(what: impl Into<String>) -> Self {
        AppError::NotFound(what.into())
    }

    pub fn internal(what: impl std::fmt::Display) -> Self {
        AppError::Internal(what.to_string())
    }
}

impl From<WorkflowError> for AppError {
    fn from(e: WorkflowError) -> Self {
        AppError::Invalid(e.into())
    }
}

/// Whether a database error means the database cannot be reached or lost the connection (as
/// opposed to a statement it refused): no connection in time, the connection refused or reset,
/// the server shutting down or starting up. The request may succeed if retried.
pub fn is_connection_failure(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // Class 08: connection exception; 57P01-57P03: admin/crash shutdown, starting up;
            // 53300: too many connections.
            code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        if is_connection_failure(&e) {
            tracing::warn!(error = %e, "database unavailable");
            return AppError::Unavailable("the database is unavailable; retry shortly".into());
        }
        AppError::Database(e)
    }
}
