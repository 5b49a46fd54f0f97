//! What a list or an export of reports asks for: the filters shared by the reports list, OGC API
//! items, exports, Open311 and the `zglos export` command. How a query becomes SQL is storage's
//! business (`storage::exports`).
use chrono::{DateTime, Utc};

use crate::cql;

/// What a caller may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Public,
    /// Analysts: unit, routing rule and timing fields (never contact data).
    Internal,
}

/// Inclusive bounds on a time; `None` is open-ended.
pub type TimeRange = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// Filters shared by the reports list, OGC API items, exports and Open311.
#[derive(Debug, Default, Clone)]
pub struct ReportQuery {
    pub bbox: Option<[f64; 4]>,
    pub categories: Vec<String>,
    pub statuses: Vec<String>,
    pub districts: Vec<i32>,
    pub units: Vec<String>,
    pub ids: Vec<i64>,
    /// `created_at >= since`.
    pub since: Option<DateTime<Utc>>,
    /// `created_at < until`.
    pub until: Option<DateTime<Utc>>,
    /// OGC `datetime`: inclusive bounds on `created_at`.
    pub datetime: Option<TimeRange>,
    /// Open (true) or closed (false) statuses only.
    pub open: Option<bool>,
    pub filter: Option<cql::Expr>,
}
