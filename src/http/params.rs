//! Query-string parsing with errors that name the parameter.
use chrono::{DateTime, Utc};

use base64::Engine as _;

use crate::http::error::{ApiError, ApiResult};

pub struct Params(Vec<(String, String)>);

fn bad(name: &str, message: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid_parameter", message).at(name)
}

impl Params {
    pub fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        let pairs = serde_urlencoded::from_str::<Vec<(String, String)>>(raw.unwrap_or(""))
            .map_err(|e| {
                ApiError::bad_request(
                    "invalid_query",
                    format!("the query string cannot be read: {e}"),
                )
            })?;
        Ok(Self(pairs))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// Comma-separated or repeated values.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    pub fn f64(&self, name: &str) -> Result<Option<f64>, ApiError> {
        self.get(name)
            .map(|v| {
                v.parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite())
                    .ok_or_else(|| bad(name, format!("{name} must be a number, got {v:?}")))
            })
            .transpose()
    }

    pub fn required_f64(&self, name: &str) -> Result<f64, ApiError> {
        self.f64(name)?.ok_or_else(|| {
            ApiError::bad_request("missing_parameter", format!("{name} is required")).at(name)
        })
    }

    pub fn i64(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.get(name)
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| bad(name, format!("{name} must be an integer, got {v:?}")))
            })
            .transpose()
    }

    pub fn i32_list(&self, name: &str) -> Result<Vec<i32>, ApiError> {
        self.list(name)
            .iter()
            .map(|v| {
                v.parse::<i32>().map_err(|_| {
                    bad(
                        name,
                        format!("{name} must be a list of integer ids, got {v:?}"),
                    )
                })
            })
            .collect()
    }

    /// RFC 3339 timestamp or a plain date (midnight UTC).
    pub fn datetime(&self, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
        self.get(name)
            .map(|v| {
                parse_datetime(v).ok_or_else(|| {
                    bad(
                        name,
                        format!("{name} must be an RFC 3339 time or a YYYY-MM-DD date, got {v:?}"),
                    )
                })
            })
            .transpose()
    }

    /// `west,south,east,north` in degrees (see [`crate::domain::query::parse_bbox`]).
    pub fn bbox(&self, name: &'static str) -> Result<Option<[f64; 4]>, ApiError> {
        self.get(name)
            .map(|v| crate::domain::query::parse_bbox(name, v))
            .transpose()
            .map_err(ApiError::from)
    }
}

pub use crate::cql::time::parse_datetime;

/// Keyset cursor: base64 of "created_at_micros:id".
pub fn encode_cursor(at: DateTime<Utc>, id: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("{}:{id}", at.timestamp_micros()))
}

pub fn decode_cursor(raw: &str) -> ApiResult<(DateTime<Utc>, i64)> {
    let bad = || {
        ApiError::bad_request(
            "invalid_cursor",
            "cursor is not one this service issued; start from the first page",
        )
        .at("cursor")
    };
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw)
        .map_err(|_| bad())?;
    let text = String::from_utf8(text).map_err(|_| bad())?;
    let (micros, id) = text.split_once(':').ok_or_else(bad)?;
    let at = DateTime::from_timestamp_micros(micros.parse().map_err(|_| bad())?).ok_or_else(bad)?;
    Ok((at, id.parse().map_err(|_| bad())?))
}

pub fn parse_limit(params: &Params, default: i64, max: i64) -> ApiResult<i64> {
    match params.i64("limit")? {
        None => Ok(default),
        Some(n) if n >= 1 => Ok(n.min(max)),
        Some(n) => Err(ApiError::bad_request(
            "invalid_parameter",
            format!("limit must be at least 1, got {n}"),
        )
        .at("limit")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_boxes_and_times() {
        let p = Params::parse(Some(
            "category=pothole,litter&category=graffiti&bbox=19.8,50.0,20.1,50.1&since=2026-01-02",
        ))
        .unwrap();
        assert_eq!(p.list("category"), vec!["pothole", "litter", "graffiti"]);
        assert_eq!(p.bbox("bbox").unwrap(), Some([19.8, 50.0, 20.1, 50.1]));
        assert_eq!(
            p.datetime("since").unwrap().unwrap().to_rfc3339(),
            "2026-01-02T00:00:00+00:00"
        );
        let p = Params::parse(Some("bbox=1,2,3&limit=x&lat=NaN")).unwrap();
        assert_eq!(p.bbox("bbox").unwrap_err().field.as_deref(), Some("bbox"));
        assert_eq!(p.i64("limit").unwrap_err().field.as_deref(), Some("limit"));
        assert!(p.f64("lat").is_err());
    }
}
