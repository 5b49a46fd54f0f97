//! `/api/v1/reports`: submit, list, read, "me too", subscribe, nearby.
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{accepted_lang, base_url, json_value, parse_id, typed_body, Member};
use super::limits::WriteLimit;
use super::params::{decode_cursor, encode_cursor, parse_limit, Params};
use super::schema::{
    ErrorBody, ListQuery, NearbyQuery, NewReport as NewReportBody, ReopenBody, ReportCollection,
    ReportFeature, SubscribeBody, Subscribed, SupportBody,
};
use super::AppState;
use crate::app::reports::{self as app, Idempotency, StoredReport, Submission};
use crate::domain::{Channel, Email, Lang, NewReport};
use crate::http::error::{ApiError, ApiResult};
use crate::storage::reports::{self as store, PublicReport};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(nearby))
        .routes(routes!(show))
        .routes(routes!(support))
        .routes(routes!(subscribe))
        .routes(routes!(reopen))
}

pub const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 1000;

fn idempotency(headers: &HeaderMap, body: &Value) -> ApiResult<Option<Idempotency>> {
    let Some(raw) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = raw
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 200)
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_idempotency_key",
                "Idempotency-Key must be 1 to 200 visible ASCII characters",
            )
            .at("Idempotency-Key")
        })?;
    let request_hash = hex::encode(Sha256::digest(body.to_string().as_bytes()));
    Ok(Some(Idempotency {
        key: key.to_owned(),
        request_hash,
    }))
}

async fn report_response(
    state: &AppState,
    id: i64,
    status: StatusCode,
    replayed: bool,
) -> ApiResult<Response> {
    let report = store::public_report(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::internal(format!("report {id} vanished")))?;
    let timeline = store::timeline(&state.pool, id).await?;
    Ok(respond(&report, timeline, status, replayed))
}

fn respond(
    report: &PublicReport,
    timeline: Vec<Value>,
    status: StatusCode,
    replayed: bool,
) -> Response {
    let mut feature = report.to_feature();
    feature["properties"]["timeline"] = json!(timeline);
    let mut response = (status, Json(feature)).into_response();
    let location = format!("/api/v1/reports/{}", report.id);
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    if replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

/// Submit a report
///
/// Stores the report (always, even a duplicate), deduplicates it against open reports of the same
/// category within the category's radius and time window, and routes it to a district and a unit.
/// A retried POST with the same Idempotency-Key returns the same report (header
/// Idempotent-Replayed: true).
#[utoipa::path(post, path = "/api/v1/reports", tag = "reports",
    params(("Idempotency-Key" = Option<String>, Header, description = "Client-chosen key (1-200 characters) that makes retries safe", max_length = 200)),
    request_body(content((NewReportBody = "application/json"), (NewReportBody = "application/geo+json"))),
    responses(
        (status = 201, description = "Stored", content((ReportFeature = "application/geo+json"), (ReportFeature = "application/json")),
            headers(("Location" = String, description = "/api/v1/reports/{id}"), ("Idempotent-Replayed" = String, description = "true on a replay"))),
        (status = 400, description = "Malformed request: the body names the field", body = ErrorBody),
        (status = 409, description = "The Idempotency-Key was used with another body", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Wrong Content-Type", body = ErrorBody),
        (status = 422, description = "Not acceptable here (outside the city, unknown category, invalid polygon...)", body = ErrorBody),
        (status = 429, description = "Too many anonymous writes from this address or for this contact; Retry-After says when to retry", body = ErrorBody),
    ))]
async fn create(
    State(state): State<AppState>,
    limit: WriteLimit,
    client: super::extract::ClientIp,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let body = json_value(&headers, body, true)?.unwrap_or(Value::Null);
    let mut report = NewReport::parse(&body)?;
    if body.pointer("/properties/lang").is_none_or(Value::is_null) {
        // Not said: the language the resident's browser asks for, else the city's first.
        report.lang = accepted_lang(&headers).unwrap_or_default();
    }
    limit.contact(
        report.contact.email.as_ref().map(Email::as_str),
        report.contact.phone.as_deref(),
    )?;
    let idem = idempotency(&headers, &body)?;
    let catalogue = state.engine.catalogue();
    let (_, category) = catalogue.require_category(&report.category, "properties.category")?;
    let placement = catalogue.place(category, &report.geometry)?;
    match app::submit_from(
        &state.pool,
        &state.engine,
        &report,
        &placement,
        idem.as_ref(),
        Some(client.0.as_str()),
        Some(&base_url(&state, &headers)),
    )
    .await?
    {
        Submission::Created(stored) => {
            metrics::counter!("zglos_reports_submitted_total", "channel" => report.channel.as_str()).increment(1);
            tracing::info!(id = stored.report.id, category = %report.category, unit = ?placement.unit_code, rule = ?placement.rule_id, "report stored");
            // Built from what the insert returned: no second read of the report.
            let StoredReport { report, timeline } = *stored;
            Ok(respond(&report, timeline, StatusCode::CREATED, false))
        }
        Submission::Replayed(id) => report_response(&state, id, StatusCode::CREATED, true).await,
    }
}

/// One report with its public timeline
#[utoipa::path(get, path = "/api/v1/reports/{id}", tag = "reports",
    params(("id" = i64, Path, description = "Report id")),
    responses(
        (status = 200, description = "The report", content((ReportFeature = "application/geo+json"), (ReportFeature = "application/json"))),
        (status = 400, description = "Malformed request: the body names the field", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
    ))]
async fn show(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    store::public_report(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no report {id}")))?;
    report_response(&state, id, StatusCode::OK, false).await
}

/// List reports (newest first, cursor paging)
#[utoipa::path(get, path = "/api/v1/reports", tag = "reports",
    params(ListQuery),
    responses(
        (status = 200, description = "A GeoJSON FeatureCollection with links (rel next) and next", body = ReportCollection, content_type = "application/json"),
        (status = 400, description = "Malformed request: the body names the field", body = ErrorBody),
        (status = 422, description = "Unknown category: the body names the field and lists the known codes", body = ErrorBody),
    ))]
async fn list(State(state): State<AppState>, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    let params = Params::parse(raw.as_deref())?;
    let catalogue = state.engine.catalogue();
    // The same filters as the exports (bbox, category, status, district, unit, since, until, filter).
    let mut query = super::exports::list_query(&params)?;
    for c in &query.categories {
        catalogue.require_category(c, "category")?;
    }
    query.statuses = match query
        .statuses
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["open"] => catalogue.open_statuses(),
        ["all"] => vec![],
        codes => {
            for s in codes.iter() {
                if catalogue.status(s).is_none() {
                    return Err(ApiError::bad_request(
                        "unknown_status",
                        format!("unknown status {s:?}; a status code, open or all"),
                    )
                    .at("status"));
                }
            }
            query.statuses.clone()
        }
    };
    let after = params.get("cursor").map(decode_cursor).transpose()?;
    let limit = parse_limit(&params, DEFAULT_LIMIT, MAX_LIMIT)?;
    let rows = store::list(&state.pool, &query, after, limit).await?;
    let mut links = vec![];
    if rows.len() as i64 == limit {
        if let Some(last) = rows.last() {
            let mut query: Vec<(String, String)> = params_without(raw.as_deref(), "cursor");
            query.push(("cursor".into(), encode_cursor(last.created_at, last.id)));
            let qs = serde_urlencoded::to_string(&query).unwrap_or_default();
            links.push(json!({"rel": "next", "type": "application/geo+json", "href": format!("/api/v1/reports?{qs}")}));
        }
    }
    let features: Vec<Value> = rows.iter().map(|r| r.to_feature()).collect();
    Ok(Json(json!({
        "type": "FeatureCollection",
        "features": features,
        "numberReturned": rows.len(),
        "links": links,
        "next": links.first().map(|l| l["href"].clone()),
    })))
}

fn params_without(raw: Option<&str>, name: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(raw.unwrap_or(""))
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k != name)
        .collect()
}

/// Open reports near a point ("already reported?")
#[utoipa::path(get, path = "/api/v1/reports/nearby", tag = "reports",
    params(NearbyQuery),
    responses(
        (status = 200, description = "Nearest first; each feature has distance_m", body = ReportCollection, content_type = "application/json"),
        (status = 400, description = "Malformed request: the body names the field", body = ErrorBody),
        (status = 422, description = "Not acceptable here (outside the city, unknown category, invalid polygon...)", body = ErrorBody),
    ))]
async fn nearby(State(state): State<AppState>, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    let params = Params::parse(raw.as_deref())?;
    let lon = params.required_f64("lon")?;
    let lat = params.required_f64("lat")?;
    if !(-180.0..=180.0).contains(&lon) {
        return Err(ApiError::bad_request(
            "coordinate_out_of_range",
            "lon must be within -180..180",
        )
        .at("lon"));
    }
    if !(-90.0..=90.0).contains(&lat) {
        return Err(
            ApiError::bad_request("coordinate_out_of_range", "lat must be within -90..90")
                .at("lat"),
        );
    }
    let catalogue = state.engine.catalogue();
    let categories = params.list("category");
    let mut widest = 0.0f64;
    for c in &categories {
        widest = widest.max(catalogue.require_category(c, "category")?.1.dedup_radius_m);
    }
    // Twice the dedup radius: a resident's pin is rarely exactly where the first reporter's was.
    let default_radius = if categories.is_empty() {
        100.0
    } else {
        (2.0 * widest).max(50.0)
    };
    let radius = match params.f64("radius")? {
        None => default_radius,
        Some(r) if (1.0..=2000.0).contains(&r) => r,
        Some(r) => {
            return Err(ApiError::bad_request(
                "invalid_parameter",
                format!("radius must be 1..2000 metres, got {r}"),
            )
            .at("radius"))
        }
    };
    let limit = parse_limit(&params, 20, 100)? as usize;
    let cats: Vec<&str> = categories.iter().map(String::as_str).collect();
    let hits = state
        .engine
        .nearby(geo::Point::new(lon, lat), &cats, radius, limit);
    let ids: Vec<i64> = hits.iter().map(|c| c.id).collect();
    let rows = store::public_reports(&state.pool, &ids).await?;
    let features: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut f = r.to_feature();
            let d = hits
                .iter()
                .find(|c| c.id == r.id)
                .map(|c| c.distance_m)
                .unwrap_or(0.0);
            f["properties"]["distance_m"] = json!((d * 10.0).round() / 10.0);
            f
        })
        .collect();
    Ok(Json(
        json!({"type": "FeatureCollection", "features": features, "radius_m": radius}),
    ))
}

/// An `email` member: an address, or absent.
fn email(given: Option<Member<String>>) -> ApiResult<Option<Email>> {
    match given {
        None => Ok(None),
        Some(Member::Typed(s)) => Ok(Some(Email::parse(&s, "email")?)),
        Some(Member::Mistyped) => {
            Err(ApiError::bad_request("invalid_type", "email must be a string").at("email"))
        }
    }
}

/// An `email` member that must be given.
fn required_email(given: Option<Member<String>>) -> ApiResult<Email> {
    email(given)?
        .ok_or_else(|| ApiError::bad_request("missing_field", "email is required").at("email"))
}

/// A `lang` member: pl, en or uk; when absent, what `Accept-Language` prefers, else Polish.
pub(super) fn lang(given: Option<Member<String>>, headers: &HeaderMap) -> ApiResult<Lang> {
    let Some(given) = given else {
        return Ok(accepted_lang(headers).unwrap_or_default());
    };
    match given {
        Member::Typed(s) => Lang::from_given(&s),
        Member::Mistyped => None,
    }
    .ok_or_else(|| {
        ApiError::bad_request("invalid_lang", format!("lang must be {}", Lang::choices()))
            .at("lang")
    })
}

/// "Me too": add a supporter without a new report
///
/// On a duplicate, the original gains the supporter. An email subscribes to updates.
#[utoipa::path(post, path = "/api/v1/reports/{id}/support", tag = "reports",
    params(("id" = i64, Path, description = "Report id")),
    request_body(content = Option<SupportBody>, content_type = "application/json"),
    responses(
        (status = 200, description = "The supported report", content((ReportFeature = "application/geo+json"), (ReportFeature = "application/json"))),
        (status = 400, description = "Malformed request: the body names the field", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
        (status = 409, description = "Conflict", body = ErrorBody),
        (status = 429, description = "Too many anonymous writes from this address or for this contact; Retry-After says when to retry", body = ErrorBody),
    ))]
async fn support(
    State(state): State<AppState>,
    limit: WriteLimit,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let body: SupportBody = typed_body(&headers, body, false)?;
    let email = email(body.email)?;
    limit.contact(email.as_ref().map(Email::as_str), None)?;
    let lang = lang(body.lang, &headers)?;
    // A channel that is not a string is left at web.
    let channel = match body.channel {
        Some(Member::Typed(c)) => Channel::parse(&c).ok_or_else(|| {
            ApiError::bad_request("invalid_channel", format!("unknown channel {c:?}")).at("channel")
        })?,
        _ => Channel::Web,
    };
    let target = app::support(
        &state.pool,
        &state.engine,
        id,
        email.as_ref(),
        lang,
        channel,
    )
    .await?;
    metrics::counter!("zglos_supports_total").increment(1);
    report_response(&state, target, StatusCode::OK, false).await
}

/// Be told by email when the report changes
#[utoipa::path(post, path = "/api/v1/reports/{id}/subscribe", tag = "reports",
    params(("id" = i64, Path, description = "Report id")),
    request_body(content = SubscribeBody, content_type = "application/json"),
    responses(
        (status = 201, description = "Subscribed", body = Subscribed),
        (status = 400, description = "Malformed request: the body names the field", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
        (status = 429, description = "Too many anonymous writes from this address or for this contact; Retry-After says when to retry", body = ErrorBody),
    ))]
async fn subscribe(
    State(state): State<AppState>,
    limit: WriteLimit,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let body: SubscribeBody = typed_body(&headers, body, true)?;
    let email = required_email(body.email)?;
    limit.contact(Some(email.as_str()), None)?;
    let lang = lang(body.lang, &headers)?;
    app::subscribe(&state.pool, id, &email, lang).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"subscribed": true, "report_id": id})),
    )
        .into_response())
}

/// The reporter reopens a resolved, rejected or closed report within 30 days
///
/// The reporter says the problem is back: `{email, note}` within the reopen window.
#[utoipa::path(post, path = "/api/v1/reports/{id}/reopen", tag = "reports",
    params(("id" = i64, Path, description = "Report id")),
    request_body(content = ReopenBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Reopened (status acknowledged)", content((ReportFeature = "application/geo+json"), (ReportFeature = "application/json"))),
        (status = 400, description = "Malformed request: the body names the field", body = ErrorBody),
        (status = 403, description = "Not the reporter", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
        (status = 409, description = "Not reopenable, or the window passed", body = ErrorBody),
        (status = 422, description = "Missing note", body = ErrorBody),
        (status = 429, description = "Too many anonymous writes from this address or for this contact; Retry-After says when to retry", body = ErrorBody),
    ))]
async fn reopen(
    State(state): State<AppState>,
    limit: WriteLimit,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let body: ReopenBody = typed_body(&headers, body, true)?;
    let email = required_email(body.email)?;
    limit.contact(Some(email.as_str()), None)?;
    // Not used, but checked as elsewhere.
    lang(body.lang, &headers)?;
    let note = match body.note {
        Some(Member::Typed(s)) if !s.trim().is_empty() && s.chars().count() <= 5000 => {
            s.trim().to_owned()
        }
        _ => {
            return Err(ApiError::unprocessable(
                "missing_field",
                "say in a note what is still wrong (at most 5000 characters)",
            )
            .at("note"))
        }
    };
    let base = super::extract::base_url(&state, &headers);
    crate::app::staff::reopen_by_reporter(
        &state.pool,
        &state.engine,
        id,
        email.as_str(),
        &note,
        &base,
    )
    .await?;
    report_response(&state, id, StatusCode::OK, false).await
}
