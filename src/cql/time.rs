//! Instants as the service reads them from people and machines.
use chrono::{DateTime, NaiveDate, Utc};

/// An RFC 3339 time, or a plain `YYYY-MM-DD` date (midnight UTC).
pub fn parse_datetime(v: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(v)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
        })
}
