//! Why an input was refused, said for people and for machines: a stable code, a message and,
//! where it applies, the field that was wrong. The HTTP edge turns the kind into a status; nothing
//! here knows about HTTP.
use serde_json::Value;

/// How an input failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvalidKind {
    /// Malformed: wrong syntax, type or shape, or a required field missing.
    Malformed,
    /// Well-formed, but not something the city can accept (outside the city, an invalid shape,
    /// a photo that is not there).
    Unacceptable,
    /// Acceptable in itself, but not in the state the thing it names is in now.
    Conflict,
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Invalid {
    pub kind: InvalidKind,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    /// Extra machine-readable detail (allowed values, the existing report...).
    pub detail: Option<Value>,
}

impl Invalid {
    fn new(kind: InvalidKind, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            code,
            message: message.into(),
            field: None,
            detail: None,
        }
    }

    pub fn malformed(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(InvalidKind::Malformed, code, message)
    }

    pub fn unacceptable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(InvalidKind::Unacceptable, code, message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(InvalidKind::Conflict, code, message)
    }

    pub fn at(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn with_detail(mut self, detail: Value) -> Self {
        self.detail = Some(detail);
        self
    }
}
