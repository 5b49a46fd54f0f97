//! `/api/v1/staff/...`: login, the unit inbox, the workflow, merging, rerouting, editing,
//! hotspots; `/tiles/heatmap/...`; and the public `/api/v1/stats`.
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::params::Params;
use super::reports::{json_body, parse_id, parse_limit};
use super::tiles::{base_url, parse_tile, report_filter, tile_response};
use super::AppState;
use crate::app::staff::{self as app, StatusChange};
use crate::auth::{CSRF_HEADER, SESSION_COOKIE};
pub use crate::domain::access::{READERS, WORKERS};
use crate::domain::{Caller, ReportGeometry, StaffUser};
use crate::engine::TileLayer;
use crate::error::{ApiError, ApiResult};
use crate::storage::staff::InboxFilter;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/staff/login", post(login))
        .route("/api/v1/staff/logout", post(logout))
        .route("/api/v1/staff/me", get(me))
        .route("/api/v1/staff/inbox", get(inbox))
        .route("/api/v1/staff/reports/{id}", get(show))
        .route("/api/v1/staff/reports/{id}/status", post(change_status))
        .route("/api/v1/staff/reports/{id}/merge", post(merge))
        .route("/api/v1/staff/reports/{id}/unmerge", post(unmerge))
        .route("/api/v1/staff/reports/{id}/reassign", post(reassign))
        .route("/api/v1/staff/reports/{id}/edit", post(edit))
        .route("/api/v1/staff/hotspots", get(hotspots))
        .route("/tiles/heatmap/{z}/{x}/{y}", get(heatmap))
        .route("/api/v1/stats", get(stats))
}

fn acting<'a>(
    caller: &'a Caller,
    roles: &[crate::domain::Role],
    headers: &HeaderMap,
) -> ApiResult<&'a StaffUser> {
    let csrf = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    Ok(caller.acting(roles, csrf)?)
}

fn string_field(body: &Value, name: &str, required: bool) -> ApiResult<Option<String>> {
    match body.get(name) {
        None | Some(Value::Null) if required => {
            Err(ApiError::unprocessable("missing_field", format!("{name} is required")).at(name))
        }
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() && required => {
            Err(ApiError::unprocessable("missing_field", format!("{name} is required")).at(name))
        }
        Some(Value::String(s)) if s.chars().count() > 5000 => {
            Err(ApiError::bad_request("too_long", "at most 5000 characters").at(name))
        }
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty())),
        Some(_) => {
            Err(ApiError::bad_request("invalid_type", format!("{name} must be a string")).at(name))
        }
    }
}

fn client_ip(headers: &HeaderMap, peer: Option<std::net::SocketAddr>) -> String {
    peer.map(|p| p.ip().to_string())
        .or_else(|| {
            headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_default()
}

async fn login(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let body = json_body(&headers, body, true)?.unwrap_or(Value::Null);
    let login = string_field(&body, "login", true)?.unwrap_or_default();
    let password = match body.get("password") {
        Some(Value::String(p)) if !p.is_empty() => p.clone(),
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

async fn me(caller: Caller) -> ApiResult<Json<Value>> {
    let user = caller.require(READERS)?;
    Ok(Json(json!({"user": user, "csrf_token": user.csrf_token})))
}

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
        after: params
            .get("cursor")
            .map(super::reports::decode_cursor)
            .transpose()?,
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
                super::reports::encode_cursor(last.public.created_at, last.public.id),
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

async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require(READERS)?;
    Ok(Json(detail(&state, parse_id(&id)?).await?))
}

/// Reads the body and the report a worker is about to change, checking they may.
async fn prepare(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    id: &str,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StaffUser, i64, Value)> {
    let user = acting(caller, WORKERS, headers)?.clone();
    let id = parse_id(id)?;
    let body = json_body(headers, body, false)?.unwrap_or_else(|| json!({}));
    app::check_may_work_on(&state.pool, &user, id).await?;
    Ok((user, id, body))
}

async fn change_status(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let (user, id, body) = prepare(&state, &caller, &headers, &id, body).await?;
    let status = string_field(&body, "status", true)?.unwrap_or_default();
    if !state.engine.catalogue().workflow.knows(&status) {
        return Err(crate::domain::WorkflowError::UnknownStatus(status).into());
    }
    let expected_at = match string_field(&body, "expected_at", false)? {
        None => None,
        Some(d) => Some(
            chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|_| {
                ApiError::bad_request("invalid_date", "expected_at must be YYYY-MM-DD")
                    .at("expected_at")
            })?,
        ),
    };
    let photos = match body.get("photos") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str().map(str::to_owned).ok_or_else(|| {
                    ApiError::bad_request("invalid_type", "a photo id").at(format!("photos[{i}]"))
                })
            })
            .collect::<ApiResult<_>>()?,
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_type",
                "photos must be an array of photo ids",
            )
            .at("photos"))
        }
    };
    let change = StatusChange {
        status,
        public_note: string_field(&body, "public_note", true)?.unwrap_or_default(),
        internal_note: string_field(&body, "internal_note", false)?,
        expected_at,
        unit: string_field(&body, "unit", false)?,
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

fn id_field(body: &Value, name: &str) -> ApiResult<i64> {
    body.get(name)
        .and_then(Value::as_i64)
        .filter(|i| *i > 0)
        .ok_or_else(|| {
            ApiError::unprocessable("missing_field", format!("{name} must be a report id")).at(name)
        })
}

async fn merge(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let (user, id, body) = prepare(&state, &caller, &headers, &id, body).await?;
    let into = id_field(&body, "into")?;
    app::merge(
        &state.pool,
        &state.engine,
        &user,
        id,
        into,
        string_field(&body, "note", false)?.as_deref(),
    )
    .await?;
    Ok(Json(detail(&state, id).await?))
}

async fn unmerge(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let (user, id, _) = prepare(&state, &caller, &headers, &id, body).await?;
    app::unmerge(&state.pool, &state.engine, &user, id).await?;
    Ok(Json(detail(&state, id).await?))
}

async fn reassign(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let (user, id, body) = prepare(&state, &caller, &headers, &id, body).await?;
    let unit = string_field(&body, "unit", true)?.unwrap_or_default();
    let note = string_field(&body, "note", true)?.unwrap_or_default();
    app::reassign(&state.pool, &state.engine, &user, id, &unit, &note).await?;
    Ok(Json(detail(&state, id).await?))
}

async fn edit(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let (user, id, body) = prepare(&state, &caller, &headers, &id, body).await?;
    let reason = string_field(&body, "reason", true)?.unwrap_or_default();
    let catalogue = state.engine.catalogue();
    let current = app::report(&state.pool, id).await?;
    let category_code = string_field(&body, "category", false)?;
    let category = match &category_code {
        Some(c) => catalogue.require_category(c, "category")?.1,
        None => {
            catalogue
                .require_category(&current.public.category, "category")?
                .1
        }
    };
    let geometry = match body.get("geometry") {
        None | Some(Value::Null) => None,
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

/// Heatmap cells per tile side, as a power of two: 64 × 64 cells, so that at every zoom a cell is
/// the area of a tile six zooms deeper.
const HEAT_GRID_BITS: u32 = 6;

async fn heatmap(
    State(state): State<AppState>,
    caller: Caller,
    Path((z, x, y)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    caller.require(READERS)?;
    let tile = parse_tile(&z, &x, &y)?;
    let params = Params::parse(raw.as_deref())?;
    let (mut filter, key) = report_filter(&state, &params)?;
    let from = params.datetime("from")?;
    let to = params.datetime("to")?;
    filter.created_from = from.map(|t| t.timestamp());
    filter.created_to = to.map(|t| t.timestamp());
    let key = format!("{key}f{:?}t{:?}", filter.created_from, filter.created_to);
    let bytes = state
        .engine
        .tile(TileLayer::Heatmap, tile, &filter, &key, HEAT_GRID_BITS);
    metrics::counter!("zglos_tiles_served_total", "layer" => "heatmap").increment(1);
    Ok(tile_response(&headers, &bytes, "private, no-cache"))
}

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

async fn stats(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let mut v = app::stats(&state.pool).await?;
    v["attribution"] = json!(state.engine.catalogue().city.attribution);
    Ok(Json(v))
}
