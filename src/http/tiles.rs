//! Vector tiles and their TileJSON: `/tiles/reports/{z}/{x}/{y}.mvt`, `/tiles/districts/...`.
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use zglos_tiles::tile::Filter;
use zglos_tiles::TileId;

use super::params::Params;
use super::AppState;
use crate::engine::{gunzip, TileLayer};
use crate::error::{ApiError, ApiResult};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tiles/reports/{z}/{x}/{y}", get(reports))
        .route("/tiles/districts/{z}/{x}/{y}", get(districts))
        .route("/tiles/reports.json", get(reports_tilejson))
        .route("/tiles/districts.json", get(districts_tilejson))
}

/// Parses `{z}/{x}/{y}.mvt` (axum allows one parameter per segment, so the suffix is ours).
pub fn parse_tile(z: &str, x: &str, y: &str) -> ApiResult<TileId> {
    let y = y
        .strip_suffix(".mvt")
        .or_else(|| y.strip_suffix(".pbf"))
        .unwrap_or(y);
    let bad = || {
        ApiError::bad_request(
            "invalid_tile",
            format!("{z}/{x}/{y} is not a tile: z 0..24, x and y 0..2^z-1"),
        )
        .at("z/x/y")
    };
    let (z, x, y) = (
        z.parse::<u8>().map_err(|_| bad())?,
        x.parse::<u32>().map_err(|_| bad())?,
        y.parse::<u32>().map_err(|_| bad())?,
    );
    TileId::new(z, x, y).ok_or_else(bad)
}

/// Serves gzipped bytes as they are to clients that accept gzip, inflated to the others.
pub fn tile_response(headers: &HeaderMap, gz: &[u8], cache_control: &'static str) -> Response {
    let accepts_gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let mut response = if accepts_gzip {
        let mut r = gz.to_vec().into_response();
        r.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        r
    } else {
        gunzip(gz).into_response()
    };
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.mapbox-vector-tile"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// `status=open` (default), `all`, or a list of status codes; `category=` a list of codes.
pub fn report_filter(state: &AppState, params: &Params) -> ApiResult<(Filter, String)> {
    let catalogue = state.engine.catalogue();
    let mut filter = Filter::everything();
    let statuses = params.list("status");
    filter.statuses = match statuses
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] | ["open"] => catalogue
            .statuses
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_open)
            .fold(0u64, |m, (i, _)| m | 1 << i),
        ["all"] => u64::MAX,
        codes => {
            let mut mask = 0u64;
            for code in codes {
                let (i, _) = catalogue.status(code).ok_or_else(|| {
                    ApiError::bad_request("unknown_status", format!("unknown status {code:?}"))
                        .at("status")
                })?;
                mask |= 1 << i;
            }
            mask
        }
    };
    let categories = params.list("category");
    if !categories.is_empty() {
        let mut mask = 0u64;
        for code in &categories {
            mask |= 1 << catalogue.require_category(code, "category")?.0;
        }
        filter.categories = Some(mask);
    }
    let key = format!(
        "s{:x}c{:x}",
        filter.statuses,
        filter.categories.unwrap_or(u64::MAX)
    );
    Ok((filter, key))
}

async fn reports(
    State(state): State<AppState>,
    Path((z, x, y)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let tile = parse_tile(&z, &x, &y)?;
    let params = Params::parse(raw.as_deref())?;
    let (filter, key) = report_filter(&state, &params)?;
    let bytes = state
        .engine
        .tile(TileLayer::Reports, tile, &filter, &key, 0);
    metrics::counter!("zglos_tiles_served_total", "layer" => "reports").increment(1);
    // Reports change all the time: clients revalidate, so a new report shows on the next request.
    Ok(tile_response(&headers, &bytes, "no-cache"))
}

async fn districts(
    State(state): State<AppState>,
    Path((z, x, y)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let tile = parse_tile(&z, &x, &y)?;
    let bytes = state
        .engine
        .tile(TileLayer::Districts, tile, &Filter::everything(), "", 0);
    Ok(tile_response(&headers, &bytes, "public, max-age=3600"))
}

pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.config.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:8080");
    format!("http://{host}")
}

fn tilejson(
    state: &AppState,
    headers: &HeaderMap,
    name: &str,
    path: &str,
    maxzoom: u8,
    layers: Value,
    query: &str,
) -> Json<Value> {
    let catalogue = state.engine.catalogue();
    let [w, s, e, n] = catalogue.bbox();
    let base = base_url(state, headers);
    Json(json!({
        "tilejson": "3.0.0",
        "name": name,
        "scheme": "xyz",
        "tiles": [format!("{base}{path}/{{z}}/{{x}}/{{y}}.mvt{query}")],
        "minzoom": 0,
        "maxzoom": maxzoom,
        "bounds": [w, s, e, n],
        "center": [(w + e) / 2.0, (s + n) / 2.0, 11],
        "attribution": catalogue.city.attribution,
        "vector_layers": layers,
    }))
}

async fn reports_tilejson(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    // Filters given here are carried into the tile URL.
    let params = Params::parse(raw.as_deref())?;
    report_filter(&state, &params)?;
    let query = raw
        .filter(|q| !q.is_empty())
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let fields = json!({"id": "Number", "category": "String", "status": "String", "supporters": "Number", "color": "String", "kind": "String"});
    Ok(tilejson(
        &state,
        &headers,
        "reports",
        "/tiles/reports",
        22,
        json!([
            {"id": "reports", "description": "Single reports (points; lines and areas at detail zooms)", "fields": fields},
            {"id": "clusters", "description": "Reports aggregated per cell", "fields": {"count": "Number", "weight": "Number", "category": "String", "color": "String"}},
        ]),
        &query,
    ))
}

async fn districts_tilejson(State(state): State<AppState>, headers: HeaderMap) -> Json<Value> {
    tilejson(
        &state,
        &headers,
        "districts",
        "/tiles/districts",
        16,
        json!([
            {"id": "districts", "fields": {"id": "Number", "code": "String", "name": "String"}},
            {"id": "district_labels", "fields": {"code": "String", "name": "String"}},
        ]),
        "",
    )
}
