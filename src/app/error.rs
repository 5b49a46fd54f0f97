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

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut => {
                AppError::Unavailable("the database is busy; retry shortly".into())
            }
            e => AppError::Database(e),
        }
    }
}
