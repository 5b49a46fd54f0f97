//! `/api/v1/staff/...`: login, the unit inbox, the workflow, merging, rerouting, editing,
//! hotspots; and the public `/api/v1/stats`.
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::base_url;
use super::extract::{client_ip, optional_text, parse_id, required_text, typed_body, Member};
use super::params::Params;
use super::params::{decode_cursor, encode_cursor, parse_limit};
use super::schema::{
    EditBody, ErrorBody, Hotspots, Inbox, InboxQuery, LoginBody, MergeBody, ReassignBody,
    StaffReportFeature, StaffSession, Stats, StatusChangeBody,
};
use super::AppState;
use crate::app::staff::{self as app, StatusChange};
use crate::auth::{CSRF_HEADER, SESSION_COOKIE};
pub use crate::domain::access::{READERS, STATUS_SETTERS, WORKERS};
use crate::domain::{Caller, ReportGeometry, StaffUser};
use crate::http::error::{ApiError, ApiResult};
use crate::storage::staff::InboxFilter;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(inbox))
        .routes(routes!(show))
        .routes(routes!(change_status))
        .routes(routes!(merge))
        .routes(routes!(unmerge))
        .routes(routes!(reassign))
        .routes(routes!(edit))
        .routes(routes!(hotspots))
        .routes(routes!(stats))
        .routes(routes!(stats_csv))
}

fn acting<'a>(
    caller: &'a Caller,
    roles: &[crate::domain::Role],
    headers: &HeaderMap,
) -> ApiResult<&'a StaffUser> {
    let csrf = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    Ok(caller.acting(roles, csrf)?)
}

/// Staff login: sets an HttpOnly, SameSite=Strict session cookie (Secure behind HTTPS)
#[utoipa::path(post, path = "/api/v1/staff/login", tag = "staff",
    request_body(content = LoginBody, content_type = "application/json"),
    responses(
        (status = 200, description = "{user, csrf_token}", body = StaffSession,
            headers(("Set-Cookie" = String, description = "zglos_session=…; HttpOnly; SameSite=Strict"))),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Wrong login or password", body = ErrorBody),
        (status = 422, description = "Missing field", body = ErrorBody),
        (status = 429, description = "Too many failed logins for this account or address (5 / 20 in 15 minutes)", body = ErrorBody),
    ))]
async fn login(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let body: LoginBody = typed_body(&headers, body, true)?;
    let login = required_text("login", body.login)?;
    // Taken as sent: not trimmed, any non-empty string.
    let password = match body.password {
        Some(Member::Typed(p)) if !p.is_empty() => p,
        _ => {
            return Err(
                ApiError::unprocessable("missing_field", "password is required").at("password"),
            )
        }
    };
    let ip = client_ip(
        &headers,
        extensions
            .get::<ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0),
        &state.config.edge.trusted_proxies,
    );
    let (token, user) = app::login(&state.pool, &login, &password, &ip).await?;
    // Secure when the service is reached over HTTPS (set ZGLOS_PUBLIC_URL=https://…).
    let secure = if state
        .config
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"))
    {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
        app::SESSION_HOURS * 3600
    );
    let mut r = Json(json!({"user": user, "csrf_token": user.csrf_token})).into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(ApiError::internal)?,
    );
    Ok(r)
}

/// End the session
#[utoipa::path(post, path = "/api/v1/staff/logout", tag = "staff",
    params(("X-CSRF-Token" = String, Header, description = "The session's token from login or /api/v1/staff/me")),
    security(("session" = [])),
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Missing CSRF token", body = ErrorBody),
    ))]
async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let user = acting(&caller, READERS, &headers)?;
    let token = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_owned())
        .unwrap_or_default();
    app::logout(&state.pool, &token).await?;
    tracing::info!(user = %user.login, "logged out");
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("zglos_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    Ok(r)
}

/// The logged-in staff member and the CSRF token
#[utoipa::path(get, path = "/api/v1/staff/me", tag = "staff",
    security(("session" = [])),
    responses(
        (status = 200, description = "{user, csrf_token}", body = StaffSession),
        (status = 401, description = "Not logged in", body = ErrorBody),
    ))]
async fn me(caller: Caller) -> ApiResult<Json<Value>> {
    let user = caller.require(READERS)?;
    Ok(Json(json!({"user": user, "csrf_token": user.csrf_token})))
}

/// The unit inbox (staff fields: unit, routing rule, contact, expected date, overdue, age)
#[utoipa::path(get, path = "/api/v1/staff/inbox", tag = "staff",
    params(InboxQuery),
    security(("session" = [])),
    responses(
        (status = 200, description = "FeatureCollection with counts {open, overdue, new} and next", body = Inbox),
        (status = 400, description = "Bad parameter", body = ErrorBody),
        (status = 422, description = "Unknown category: the body names the field and lists the known codes", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Wrong role", body = ErrorBody),
    ))]
async fn inbox(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let user = caller.require(READERS)?;
    let params = Params::parse(raw.as_deref())?;
    let catalogue = state.engine.catalogue();
    let mut units = params.list("unit");
    if units.is_empty() {
        units = user.default_units(|| catalogue.units.iter().map(|u| u.code.clone()).collect());
    }
    for u in &units {
        if catalogue.unit(u).is_none() {
            return Err(ApiError::bad_request("unknown_unit", format!("no unit {u:?}")).at("unit"));
        }
    }
    let statuses = match params
        .list("status")
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] | ["open"] => catalogue.open_statuses(),
        ["all"] => vec![],
        codes => {
            for c in codes.iter() {
                if catalogue.status(c).is_none() {
                    return Err(ApiError::bad_request(
                        "unknown_status",
                        format!("unknown status {c:?}"),
                    )
                    .at("status"));
                }
            }
            codes.iter().map(|c| c.to_string()).collect()
        }
    };
    let categories = params.list("category");
    for c in &categories {
        catalogue.require_category(c, "category")?;
    }
    let near_border = match params.get("near_border") {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(v) => {
            return Err(ApiError::bad_request(
                "invalid_parameter",
                format!("near_border must be true or false, got {v:?}"),
            )
            .at("near_border"))
        }
    };
    let oldest_first = match params.get("sort") {
        None | Some("newest") => false,
        Some("oldest") => true,
        Some(v) => {
            return Err(ApiError::bad_request(
                "invalid_parameter",
                format!("sort must be newest or oldest, got {v:?}"),
            )
            .at("sort"))
        }
    };
    let filter = InboxFilter {
        units,
        statuses,
        categories,
        districts: params.i32_list("district")?,
        older_than_days: params.i64("older_than_days")?,
        near_border,
        oldest_first,
        after: params.get("cursor").map(decode_cursor).transpose()?,
        limit: parse_limit(&params, 100, 500)?,
    };
    let (rows, counts) = app::inbox(&state.pool, &state.engine, &filter).await?;
    let next = (rows.len() as i64 == filter.limit)
        .then(|| rows.last())
        .flatten()
        .map(|last| {
            let mut q: Vec<(String, String)> =
                serde_urlencoded::from_str::<Vec<(String, String)>>(raw.as_deref().unwrap_or(""))
                    .unwrap_or_default();
            q.retain(|(k, _)| k != "cursor");
            q.push((
                "cursor".into(),
                encode_cursor(last.public.created_at, last.public.id),
            ));
            format!(
                "/api/v1/staff/inbox?{}",
                serde_urlencoded::to_string(&q).unwrap_or_default()
            )
        });
    Ok(Json(json!({
        "type": "FeatureCollection",
        "features": rows.iter().map(|r| r.to_feature()).collect::<Vec<_>>(),
        "counts": counts,
        "next": next,
    })))
}

async fn detail(state: &AppState, id: i64) -> ApiResult<Value> {
    let d = app::detail(&state.pool, &state.engine, id).await?;
    let mut f = d.report.to_feature();
    f["properties"]["timeline"] = json!(d.timeline);
    f["properties"]["audit"] = json!(d.audit);
    f["properties"]["allowed_transitions"] = json!(d.allowed_transitions);
    Ok(f)
}

/// A report with the whole timeline (internal notes), audit log and allowed transitions
#[utoipa::path(get, path = "/api/v1/staff/reports/{id}", tag = "staff", operation_id = "staff_report",
    params(("id" = i64, Path, description = "Report id")),
    security(("session" = [])),
    responses(
        (status = 200, description = "Report", body = StaffReportFeature),
        (status = 400, description = "Not a report id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Wrong role, another unit's report, or a missing CSRF token", body = ErrorBody),
        (status = 404, description = "No such report", body = ErrorBody),
    ))]
async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require(READERS)?;
    Ok(Json(detail(&state, parse_id(&id)?).await?))
}

/// Reads the body and the report a worker is about to change, checking they may: the caller
/// first, then the id, the body and the report; the handler then checks the body's members.
async fn prepare<T: DeserializeOwned + Default>(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    id: &str,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StaffUser, i64, T)> {
    prepare_as(state, caller, headers, id, body, WORKERS).await
}

/// As [`prepare`], for callers with one of `roles`.
async fn prepare_as<T: DeserializeOwned + Default>(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    id: &str,
    body: Result<Bytes, BytesRejection>,
    roles: &[crate::domain::Role],
) -> ApiResult<(StaffUser, i64, T)> {
    let user = acting(caller, roles, headers)?.clone();
    let id = parse_id(id)?;
    let body = typed_body(headers, body, false)?;
    app::check_may_work_on(&state.pool, &user, id).await?;
    Ok((user, id, body))
}

/// Change the status with a public note (mailed to the reporter and subscribers) and an optional internal note
///
/// rejected means 'not ours': name the unit, the report is rerouted there as new. Resolving can attach 'after' photos.
/// A unit's own system may call it with its `unit_system` API key (`Authorization: Bearer`, no CSRF token) for its unit's reports only.
#[utoipa::path(post, path = "/api/v1/staff/reports/{id}/status", tag = "staff",
    params(("id" = i64, Path, description = "Report id"), ("X-CSRF-Token" = Option<String>, Header, description = "The session's token from login or /api/v1/staff/me (not with an API key)")),
    request_body(content = StatusChangeBody, content_type = "application/json"),
    security(("session" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The report", body = StaffReportFeature),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Wrong role, another unit's report, or a missing CSRF token", body = ErrorBody),
        (status = 404, description = "No such report", body = ErrorBody),
        (status = 409, description = "The workflow does not allow it: detail.allowed lists what does", body = ErrorBody),
        (status = 422, description = "Missing note or unit", body = ErrorBody),
    ))]
async fn change_status(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let (user, id, body): (_, _, StatusChangeBody) =
        prepare_as(&state, &caller, &headers, &id, body, STATUS_SETTERS).await?;
    let status = required_text("status", body.status)?;
    if !state.engine.catalogue().workflow.knows(&status) {
        return Err(crate::domain::WorkflowError::UnknownStatus(status).into());
    }
    let expected_at = match optional_text("expected_at", body.expected_at)? {
        None => None,
        Some(d) => Some(
            chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|_| {
                ApiError::bad_request("invalid_date", "expected_at must be YYYY-MM-DD")
                    .at("expected_at")
            })?,
        ),
    };
    let photos = match body.photos {
        None => vec![],
        Some(Member::Typed(ids)) => {
            ids.into_iter()
                .enumerate()
                .map(|(i, id)| match id {
                    Member::Typed(id) => Ok(id),
                    Member::Mistyped => Err(ApiError::bad_request("invalid_type", "a photo id")
                        .at(format!("photos[{i}]"))),
                })
                .collect::<ApiResult<_>>()?
        }
        Some(Member::Mistyped) => {
            return Err(ApiError::bad_request(
                "invalid_type",
                "photos must be an array of photo ids",
            )
            .at("photos"))
        }
    };
    let change = StatusChange {
        status,
        public_note: required_text("public_note", body.public_note)?,
        internal_note: optional_text("internal_note", body.internal_note)?,
        expected_at,
        unit: optional_text("unit", body.unit)?,
        photos,
    };
    app::change_status(
        &state.pool,
        &state.engine,
        &user,
        id,
        &change,
        &base_url(&state, &headers),
    )
    .await?;
    metrics::counter!("zglos_status_changes_total", "status" => change.status.clone()).increment(1);
    Ok(Json(detail(&state, id).await?))
}

/// A member naming a report: a positive integer (a string of digits is not one).
fn report_id(name: &str, given: Option<Member<i64>>) -> ApiResult<i64> {
    match given {
        Some(Member::Typed(id)) if id > 0 => Ok(id),
        _ => Err(
            ApiError::unprocessable("missing_field", format!("{name} must be a report id"))
                .at(name),
        ),
    }
}

/// Merge a report into another as its duplicate
#[utoipa::path(post, path = "/api/v1/staff/reports/{id}/merge", tag = "staff",
    params(("id" = i64, Path, description = "Report id"), ("X-CSRF-Token" = String, Header, description = "The session's token from login or /api/v1/staff/me")),
    request_body(content = MergeBody, content_type = "application/json"),
    security(("session" = [])),
    responses(
        (status = 200, description = "The report", body = StaffReportFeature),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Wrong role, another unit's report, or a missing CSRF token", body = ErrorBody),
        (status = 404, description = "No such report", body = ErrorBody),
        (status = 409, description = "Already merged", body = ErrorBody),
        (status = 422, description = "Invalid target", body = ErrorBody),
    ))]
async fn merge(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let (user, id, body): (_, _, MergeBody) = prepare(&state, &caller, &headers, &id, body).await?;
    let into = report_id("into", body.into)?;
    let note = optional_text("note", body.note)?;
    app::merge(&state.pool, &state.engine, &user, id, into, note.as_deref()).await?;
    Ok(Json(detail(&state, id).await?))
}

/// Undo a merge
#[utoipa::path(post, path = "/api/v1/staff/reports/{id}/unmerge", tag = "staff",
    params(("id" = i64, Path, description = "Report id"), ("X-CSRF-Token" = String, Header, description = "The session's token from login or /api/v1/staff/me")),
    request_body(description = "None needed", content = Option<Object>, content_type = "application/json"),
    security(("session" = [])),
    responses(
        (status = 200, description = "The report", body = StaffReportFeature),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Wrong role, another unit's report, or a missing CSRF token", body = ErrorBody),
        (status = 404, description = "No such report", body = ErrorBody),
        (status = 409, description = "Not a duplicate", body = ErrorBody),
    ))]
async fn unmerge(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    // Any JSON document, or none: nothing is read from it.
    let (user, id, IgnoredAny) = prepare(&state, &caller, &headers, &id, body).await?;
    app::unmerge(&state.pool, &state.engine, &user, id).await?;
    Ok(Json(detail(&state, id).await?))
}

/// Move a report to another unit
#[utoipa::path(post, path = "/api/v1/staff/reports/{id}/reassign", tag = "staff",
    params(("id" = i64, Path, description = "Report id"), ("X-CSRF-Token" = String, Header, description = "The session's token from login or /api/v1/staff/me")),
    request_body(content = ReassignBody, content_type = "application/json"),
    security(("session" = [])),
    responses(
        (status = 200, description = "The report", body = StaffReportFeature),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Wrong role, another unit's report, or a missing CSRF token", body = ErrorBody),
        (status = 404, description = "No such report", body = ErrorBody),
        (status = 422, description = "Unknown unit", body = ErrorBody),
    ))]
async fn reassign(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let (user, id, body): (_, _, ReassignBody) =
        prepare(&state, &caller, &headers, &id, body).await?;
    let unit = required_text("unit", body.unit)?;
    let note = required_text("note", body.note)?;
    app::reassign(
        &state.pool,
        &state.engine,
        &user,
        id,
        &unit,
        &note,
        &base_url(&state, &headers),
    )
    .await?;
    Ok(Json(detail(&state, id).await?))
}

/// Change the category and/or geometry, with the reason logged
#[utoipa::path(post, path = "/api/v1/staff/reports/{id}/edit", tag = "staff",
    params(("id" = i64, Path, description = "Report id"), ("X-CSRF-Token" = String, Header, description = "The session's token from login or /api/v1/staff/me")),
    request_body(content = EditBody, content_type = "application/json"),
    security(("session" = [])),
    responses(
        (status = 200, description = "The report", body = StaffReportFeature),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Wrong role, another unit's report, or a missing CSRF token", body = ErrorBody),
        (status = 404, description = "No such report", body = ErrorBody),
        (status = 422, description = "Outside the city, shape not allowed, nothing to change", body = ErrorBody),
    ))]
async fn edit(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let (user, id, body): (_, _, EditBody) = prepare(&state, &caller, &headers, &id, body).await?;
    let reason = required_text("reason", body.reason)?;
    let catalogue = state.engine.catalogue();
    let current = app::report(&state.pool, id).await?;
    let category_code = optional_text("category", body.category)?;
    let category = match &category_code {
        Some(c) => catalogue.require_category(c, "category")?.1,
        None => {
            catalogue
                .require_category(&current.public.category, "category")?
                .1
        }
    };
    let geometry = match &body.geometry {
        None => None,
        Some(g) => Some(ReportGeometry::parse(g, "geometry")?),
    };
    if category_code.is_none() && geometry.is_none() {
        return Err(ApiError::unprocessable(
            "nothing_to_change",
            "give a new category, a new geometry, or both",
        ));
    }
    let check_geometry = match &geometry {
        Some(g) => g.clone(),
        None => ReportGeometry::parse(
            &serde_json::from_str::<Value>(&current.public.geometry).unwrap_or(Value::Null),
            "geometry",
        )?,
    };
    let placement = catalogue.place(category, &check_geometry)?;
    app::edit(
        &state.pool,
        &state.engine,
        &user,
        id,
        category_code.as_deref(),
        geometry.as_ref().map(|g| (g, &placement)),
        &reason,
    )
    .await?;
    Ok(Json(detail(&state, id).await?))
}

/// Cells (~1 km) where one category's reports grew unusually this week against the 4 weeks before
#[utoipa::path(get, path = "/api/v1/staff/hotspots", tag = "staff",
    params(("unit" = Option<String>, Query, description = "Unit code (default: the member's units)")),
    security(("session" = [])),
    responses(
        (status = 200, description = "{hotspots: [{category, lon, lat, recent, baseline, ratio, unit}]}", body = Hotspots),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Wrong role", body = ErrorBody),
    ))]
async fn hotspots(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let user = caller.require(READERS)?;
    let params = Params::parse(raw.as_deref())?;
    let units: Vec<String> = match params.get("unit") {
        Some(u) => vec![u.to_owned()],
        None if !user.units.is_empty() => user.units.clone(),
        None => vec![],
    };
    let now = chrono::Utc::now().timestamp();
    let catalogue = state.engine.catalogue();
    let mut spots: Vec<Value> = state
        .engine
        .hotspots(now, 7, 28)
        .into_iter()
        .filter_map(|h| {
            let (_, cat) = catalogue.categories.get(h.category as usize).map(|c| ((), c))?;
            let rule = catalogue.router.route(&cat.code, geo::Point::new(h.lon, h.lat));
            let unit = rule.map(|r| r.unit.clone());
            if !units.is_empty() && !unit.as_ref().is_some_and(|u| units.contains(u)) {
                return None;
            }
            Some(json!({"category": cat.code, "lon": h.lon, "lat": h.lat, "recent": h.recent, "baseline": h.baseline,
                        "ratio": (h.ratio * 10.0).round() / 10.0, "unit": unit}))
        })
        .collect();
    spots.truncate(50);
    Ok(Json(
        json!({"hotspots": spots, "recent_days": 7, "baseline_days": 28}),
    ))
}

/// Accountability figures per district and per unit: reported, resolved, open, median days to resolve (duplicates not counted); and keeping to deadlines per month, unit and category
#[utoipa::path(get, path = "/api/v1/stats", tag = "staff",
    params(("months" = Option<u32>, Query, description = "Months of filing the deadline figures cover, 1–120 (default 12)")),
    responses(
        (status = 200, description = "{districts, units, deadlines: {months, by_unit, by_category}, generated_at, attribution}", body = Stats),
        (status = 400, description = "A bad parameter", body = ErrorBody),
    ))]
async fn stats(State(state): State<AppState>, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    let months = stats_months(raw.as_deref())?;
    let mut v = app::stats(&state.pool).await?;
    let catalogue = state.engine.catalogue();
    let d = app::deadline_stats(&state.pool, catalogue, chrono::Utc::now(), months).await?;
    let named = |rows: &[crate::domain::deadline_stats::Figures], unit: bool| -> Vec<Value> {
        rows.iter()
            .map(|f| {
                let mut o = json!(f);
                let name = if unit {
                    catalogue.unit(&f.key).map(|u| u.name.clone())
                } else {
                    catalogue.category(&f.key).map(|(_, c)| c.name_pl.clone())
                };
                o[if unit { "unit" } else { "category" }] = json!(f.key);
                o["name"] = json!(name);
                o
            })
            .collect()
    };
    v["deadlines"] = json!({"months": d.months, "by_unit": named(&d.by_unit, true), "by_category": named(&d.by_category, false)});
    v["attribution"] = json!(catalogue.city.attribution);
    Ok(Json(v))
}

fn stats_months(raw: Option<&str>) -> ApiResult<u32> {
    let p = Params::parse(raw)?;
    match p.i64("months")? {
        None => Ok(12),
        Some(n @ 1..=120) => Ok(n as u32),
        Some(n) => Err(ApiError::bad_request(
            "invalid_parameter",
            format!("months must be 1 to 120, got {n}"),
        )
        .at("months")),
    }
}

/// Keeping to deadlines as CSV: one row per month and unit, then per month and category
#[utoipa::path(get, path = "/api/v1/stats.csv", tag = "staff",
    params(("months" = Option<u32>, Query, description = "Months of filing covered, 1–120 (default 12)")),
    responses(
        (status = 200, description = "group,key,name,month,reported,resolved,resolved_with_deadline,resolved_on_time,on_time_share,median_working_days_to_first_response,median_working_days_to_resolve,reopened,reopened_share", content_type = "text/csv"),
        (status = 400, description = "A bad parameter", body = ErrorBody),
    ))]
async fn stats_csv(State(state): State<AppState>, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let months = stats_months(raw.as_deref())?;
    let catalogue = state.engine.catalogue();
    let d = app::deadline_stats(&state.pool, catalogue, chrono::Utc::now(), months).await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let columns = [
        "group",
        "key",
        "name",
        "month",
        "reported",
        "resolved",
        "resolved_with_deadline",
        "resolved_on_time",
        "on_time_share",
        "median_working_days_to_first_response",
        "median_working_days_to_resolve",
        "reopened",
        "reopened_share",
    ];
    let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    let mut write =
        |group: &str, rows: &[crate::domain::deadline_stats::Figures]| -> csv::Result<()> {
            for f in rows {
                let name = if group == "unit" {
                    catalogue.unit(&f.key).map(|u| u.name.clone())
                } else {
                    catalogue.category(&f.key).map(|(_, c)| c.name_pl.clone())
                };
                out.write_record([
                    group.to_owned(),
                    f.key.clone(),
                    name.unwrap_or_default(),
                    f.month.clone(),
                    f.reported.to_string(),
                    f.resolved.to_string(),
                    f.resolved_with_deadline.to_string(),
                    f.resolved_on_time.to_string(),
                    opt(f.on_time_share),
                    opt(f.median_working_days_to_first_response),
                    opt(f.median_working_days_to_resolve),
                    f.reopened.to_string(),
                    opt(f.reopened_share),
                ])?;
            }
            Ok(())
        };
    let csv_failed = |e: csv::Error| ApiError::internal(format!("writing the CSV: {e}"));
    write("unit", &d.by_unit).map_err(csv_failed)?;
    write("category", &d.by_category).map_err(csv_failed)?;
    let mut body = out
        .into_inner()
        .map_err(|e| ApiError::internal(format!("writing the CSV: {e}")))?;
    let mut with_header = columns.join(",").into_bytes();
    with_header.push(b'\n');
    with_header.append(&mut body);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"zglos-deadlines.csv\"",
            ),
        ],
        with_header,
    )
        .into_response())
}
