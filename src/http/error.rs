//! The one error type of the HTTP surface: a status, a stable machine-readable code, a message for
//! people and, where it applies, the field that was wrong. Internal failures are logged and
//! answered with a generic message: details of the database or the code never leave the service.
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    /// Extra machine-readable detail (allowed transitions, the existing report...).
    pub detail: Option<serde_json::Value>,
    /// Seconds after which a retry may succeed, sent as `Retry-After` (429 and 503).
    pub retry_after: Option<u64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// A signed link whose signature does not match is refused (403), not merely invalid.
    pub fn link_refused(err: impl Into<ApiError>) -> Self {
        let mut api = err.into();
        if api.code == "bad_signature" {
            api.status = StatusCode::FORBIDDEN;
        }
        api
    }

    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            detail: None,
            retry_after: None,
        }
    }

    /// Sends `Retry-After: seconds` with the answer.
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }

    pub fn at(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn with_detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail);
        self
    }

    /// 400: the request is malformed (syntax, types, missing fields).
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 422: well-formed, but not something the city can accept (outside the city, invalid shape).
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", what)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; the failure was logged",
        )
    }

    /// 503: the service cannot take the request now (the database is away or busy); retry soon.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message).retry_after(2)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        if crate::app::error::is_connection_failure(&err) {
            tracing::warn!(error = %err, "database unavailable");
            return Self::unavailable("the database is unavailable; retry shortly");
        }
        Self::internal(err)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some(field) = self.field {
            error["field"] = json!(field);
        }
        if let Some(detail) = self.detail {
            error["detail"] = detail;
        }
        let mut response = (self.status, Json(json!({ "error": error }))).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl From<crate::domain::Invalid> for ApiError {
    fn from(e: crate::domain::Invalid) -> Self {
        use crate::domain::InvalidKind;
        let status = match e.kind {
            InvalidKind::Malformed => StatusCode::BAD_REQUEST,
            InvalidKind::Unacceptable => StatusCode::UNPROCESSABLE_ENTITY,
            InvalidKind::Conflict => StatusCode::CONFLICT,
        };
        Self {
            status,
            code: e.code,
            message: e.message,
            field: e.field,
            detail: e.detail,
            retry_after: None,
        }
    }
}

impl From<crate::domain::WorkflowError> for ApiError {
    fn from(e: crate::domain::WorkflowError) -> Self {
        crate::domain::Invalid::from(e).into()
    }
}

impl From<crate::domain::AccessError> for ApiError {
    fn from(e: crate::domain::AccessError) -> Self {
        use crate::domain::AccessError as A;
        let status = match e {
            A::Unauthenticated | A::InvalidCredentials => StatusCode::UNAUTHORIZED,
            A::MissingRole(_) | A::OtherUnit | A::Csrf | A::NotTheReporter => StatusCode::FORBIDDEN,
            A::Throttled => StatusCode::TOO_MANY_REQUESTS,
        };
        let error = Self::new(status, e.code(), e.to_string());
        match e {
            A::NotTheReporter => error.at("email"),
            _ => error,
        }
    }
}

impl From<crate::domain::photo::PhotoError> for ApiError {
    fn from(e: crate::domain::photo::PhotoError) -> Self {
        use crate::domain::photo::PhotoError as P;
        match e {
            P::TooLarge => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                e.to_string(),
            )
            .at("file"),
            P::NotAnImage(m) => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                m,
            )
            .at("file"),
            P::Encode(m) => Self::internal(m),
        }
    }
}

impl From<crate::app::AppError> for ApiError {
    fn from(e: crate::app::AppError) -> Self {
        use crate::app::AppError as E;
        match e {
            E::Invalid(e) => e.into(),
            E::Access(e) => e.into(),
            E::Photo(e) => e.into(),
            E::NotFound(what) => Self::not_found(what),
            E::Unavailable(m) => Self::unavailable(m),
            E::Database(e) => e.into(),
            E::Internal(m) => Self::internal(m),
        }
    }
}

/// A filter the CQL2 layer refused: 400 with its code, message and parameter. An unknown property
/// keeps the code it has always had in responses (`invalid_filter`).
impl From<crate::cql::CqlError> for ApiError {
    fn from(e: crate::cql::CqlError) -> Self {
        let code = match e.code {
            crate::cql::UNKNOWN_PROPERTY => crate::cql::INVALID_FILTER,
            code => code,
        };
        Self::bad_request(code, e.message).at(e.field)
    }
}

/// A list filter that cannot be used: 400, naming the parameter.
impl From<crate::domain::query::QueryError> for ApiError {
    fn from(err: crate::domain::query::QueryError) -> Self {
        Self::bad_request("invalid_parameter", err.to_string()).at(err.field())
    }
}

impl From<crate::storage::ReadError> for ApiError {
    fn from(e: crate::storage::ReadError) -> Self {
        match e {
            crate::storage::ReadError::Filter(e) => e.into(),
            crate::storage::ReadError::Database(e) => e.into(),
        }
    }
}
