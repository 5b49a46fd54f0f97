//! The one error of the CQL2 layer: a machine code, a message for people, the request parameter
//! at fault and, when a property is the cause, its name. The HTTP layer turns it into a 400.
use thiserror::Error;

/// The filter cannot be read, or does not fit the collection's queryables.
pub const INVALID_FILTER: &str = "invalid_filter";
/// The filter names a property the collection does not offer.
pub const UNKNOWN_PROPERTY: &str = "unknown_property";
/// A parameter beside the filter (`filter-lang`) is wrong.
pub const INVALID_PARAMETER: &str = "invalid_parameter";

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct CqlError {
    /// [`INVALID_FILTER`], [`UNKNOWN_PROPERTY`] or [`INVALID_PARAMETER`].
    pub code: &'static str,
    pub message: String,
    /// The request parameter at fault: `filter` or `filter-lang`.
    pub field: &'static str,
    /// The property the filter named, when it is the cause.
    pub property: Option<String>,
}

impl CqlError {
    pub fn filter(message: impl Into<String>) -> Self {
        Self {
            code: INVALID_FILTER,
            message: message.into(),
            field: "filter",
            property: None,
        }
    }

    pub fn unknown_property(name: &str, message: impl Into<String>) -> Self {
        Self {
            code: UNKNOWN_PROPERTY,
            message: message.into(),
            field: "filter",
            property: Some(name.to_owned()),
        }
    }

    pub fn parameter(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            code: INVALID_PARAMETER,
            message: message.into(),
            field,
            property: None,
        }
    }
}

pub type CqlResult<T> = Result<T, CqlError>;

/// Shorthand for an unreadable or unsupported filter.
pub(crate) fn bad(message: impl Into<String>) -> CqlError {
    CqlError::filter(message)
}
