//! What a list or an export of reports asks for: the filters shared by the reports list, OGC API
//! items, exports, Open311 and the `zglos export` command. Built from typed values
//! ([`ReportQuery::from_filters`]); the text parsers here are for callers that read words, such as
//! the command line. How a query becomes SQL is storage's business (`storage::exports`).
use chrono::{DateTime, NaiveDate, Utc};

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

/// The list filters (reports list, exports, `zglos export`), already split and typed.
#[derive(Debug, Default, Clone)]
pub struct ReportFilters {
    /// west, south, east, north in degrees.
    pub bbox: Option<[f64; 4]>,
    pub categories: Vec<String>,
    pub statuses: Vec<String>,
    pub districts: Vec<i32>,
    pub units: Vec<String>,
    /// Reported at or after.
    pub since: Option<DateTime<Utc>>,
    /// Reported before.
    pub until: Option<DateTime<Utc>>,
    /// A parsed CQL2 filter.
    pub filter: Option<cql::Expr>,
}

/// A filter value that cannot be used; names the filter (`field`) it was given for.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueryError {
    #[error("{field} must be four numbers west,south,east,north; got {value:?}")]
    BboxNotFourNumbers { field: &'static str, value: String },
    #[error("{field} {value:?} is not a valid west,south,east,north box in degrees")]
    BboxOutOfRange { field: &'static str, value: String },
    #[error("{field} must be a list of integer ids, got {value:?}")]
    NotAnId { field: &'static str, value: String },
    #[error("{field} must be an RFC 3339 time or a YYYY-MM-DD date, got {value:?}")]
    NotATime { field: &'static str, value: String },
}

impl QueryError {
    /// The filter the value was given for.
    pub fn field(&self) -> &'static str {
        match self {
            Self::BboxNotFourNumbers { field, .. }
            | Self::BboxOutOfRange { field, .. }
            | Self::NotAnId { field, .. }
            | Self::NotATime { field, .. } => field,
        }
    }
}

impl ReportQuery {
    /// The query of the list filters; the box must be a box in degrees.
    pub fn from_filters(f: ReportFilters) -> Result<Self, QueryError> {
        if let Some(b) = f.bbox {
            let text = b.map(|v| v.to_string()).join(",");
            check_bbox("bbox", b, &text)?;
        }
        Ok(Self {
            bbox: f.bbox,
            categories: f.categories,
            statuses: f.statuses,
            districts: f.districts,
            units: f.units,
            since: f.since,
            until: f.until,
            filter: f.filter,
            ..Default::default()
        })
    }
}

fn check_bbox(field: &'static str, b: [f64; 4], text: &str) -> Result<[f64; 4], QueryError> {
    let [w, s, e, n] = b;
    if !b.iter().all(|x| x.is_finite())
        || !(-180.0..=180.0).contains(&w)
        || !(-180.0..=180.0).contains(&e)
        || !(-90.0..=90.0).contains(&s)
        || !(-90.0..=90.0).contains(&n)
        || s > n
        || w > e
    {
        return Err(QueryError::BboxOutOfRange {
            field,
            value: text.to_owned(),
        });
    }
    Ok(b)
}

/// `west,south,east,north` in degrees.
pub fn parse_bbox(field: &'static str, text: &str) -> Result<[f64; 4], QueryError> {
    let shape = || QueryError::BboxNotFourNumbers {
        field,
        value: text.to_owned(),
    };
    let nums: Vec<f64> = text
        .split(',')
        .map(|s| s.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| shape())?;
    let b: [f64; 4] = nums.try_into().map_err(|_| shape())?;
    check_bbox(field, b, text)
}

/// Comma-separated values, trimmed, empty ones dropped.
pub fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Comma-separated integer ids.
pub fn parse_ids(field: &'static str, text: &str) -> Result<Vec<i32>, QueryError> {
    split_list(text)
        .into_iter()
        .map(|v| {
            v.parse::<i32>()
                .map_err(|_| QueryError::NotAnId { field, value: v })
        })
        .collect()
}

/// An RFC 3339 time or a plain date (midnight UTC).
pub fn parse_time(field: &'static str, text: &str) -> Result<DateTime<Utc>, QueryError> {
    DateTime::parse_from_rfc3339(text)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
        })
        .ok_or_else(|| QueryError::NotATime {
            field,
            value: text.to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_become_a_query_and_a_bad_box_names_its_field() {
        let q = ReportQuery::from_filters(ReportFilters {
            bbox: Some([19.8, 50.0, 20.1, 50.1]),
            categories: vec!["pothole".into()],
            districts: vec![18],
            ..Default::default()
        })
        .unwrap();
        assert_eq!(q.bbox, Some([19.8, 50.0, 20.1, 50.1]));
        assert_eq!(q.categories, ["pothole"]);
        assert_eq!(q.districts, [18]);
        assert!(q.ids.is_empty() && q.open.is_none() && q.datetime.is_none());

        let e = ReportQuery::from_filters(ReportFilters {
            bbox: Some([20.1, 50.0, 19.8, 50.1]),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(e.field(), "bbox");
        assert_eq!(
            e.to_string(),
            "bbox \"20.1,50,19.8,50.1\" is not a valid west,south,east,north box in degrees"
        );
    }

    #[test]
    fn text_values_parse_with_the_messages_of_the_query_string() {
        assert_eq!(
            parse_bbox("bbox", "19.8, 50.0,20.1,50.1").unwrap(),
            [19.8, 50.0, 20.1, 50.1]
        );
        assert_eq!(
            parse_bbox("bbox", "1,2").unwrap_err().to_string(),
            "bbox must be four numbers west,south,east,north; got \"1,2\""
        );
        assert_eq!(
            parse_bbox("bbox", "0,95,1,96").unwrap_err().to_string(),
            "bbox \"0,95,1,96\" is not a valid west,south,east,north box in degrees"
        );
        assert_eq!(split_list(" pothole,,litter "), ["pothole", "litter"]);
        assert_eq!(parse_ids("district", "1, 18").unwrap(), [1, 18]);
        assert_eq!(
            parse_ids("district", "1,x").unwrap_err().to_string(),
            "district must be a list of integer ids, got \"x\""
        );
        assert_eq!(
            parse_time("since", "2026-01-02").unwrap().to_rfc3339(),
            "2026-01-02T00:00:00+00:00"
        );
        let e = parse_time("until", "soon").unwrap_err();
        assert_eq!(e.field(), "until");
        assert_eq!(
            e.to_string(),
            "until must be an RFC 3339 time or a YYYY-MM-DD date, got \"soon\""
        );
    }
}
