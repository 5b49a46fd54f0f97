//! Vector tiles and their TileJSON: `/tiles/reports/{z}/{x}/{y}.mvt`, `/tiles/districts/...`.
use std::collections::BTreeMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use zglos_tiles::tile::Filter;

use super::doc::RoutesExt;
pub use super::extract::parse_tile;
use super::extract::{base_url, TilePath};
use super::params::Params;
use super::schema::{ErrorBody, HeatmapQuery, TileJson, TileQuery, VectorLayer};
use super::AppState;
use crate::domain::access::READERS;
use crate::domain::Caller;
use crate::engine::{gunzip, Tile, TileLayer};
use crate::http::error::{ApiError, ApiResult};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .templated_routes(routes!(reports))
        .templated_routes(routes!(districts))
        .routes(routes!(reports_tilejson))
        .routes(routes!(districts_tilejson))
        .templated_routes(routes!(heatmap))
}

/// Whether an `If-None-Match` header names `etag` (weak comparison, RFC 9110 13.1.2).
fn none_match(headers: &HeaderMap, etag: &str) -> bool {
    let Some(given) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    given
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
}

/// Serves gzipped bytes as they are to clients that accept gzip, inflated to the others. With
/// `tag` (what the tile shows: the same tag, the same content), the answer carries a strong
/// `ETag` for its encoding, and a request whose `If-None-Match` names it gets 304 and no body.
pub fn tile_response(
    headers: &HeaderMap,
    gz: &[u8],
    tag: Option<&str>,
    cache_control: &str,
) -> Response {
    let accepts_gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    // A strong validator names one representation: the gzipped one has its own.
    let etag = tag.map(|t| format!("\"{t}{}\"", if accepts_gzip { "-gz" } else { "" }));
    let not_modified = etag.as_deref().is_some_and(|e| none_match(headers, e));
    let mut response = if not_modified {
        axum::http::StatusCode::NOT_MODIFIED.into_response()
    } else if accepts_gzip {
        let mut r = gz.to_vec().into_response();
        r.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        r
    } else {
        gunzip(gz).into_response()
    };
    let h = response.headers_mut();
    if !not_modified {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/vnd.mapbox-vector-tile"),
        );
    }
    if let Some(v) = etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(cache_control) {
        h.insert(header::CACHE_CONTROL, v);
    }
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// The tag of an engine tile, as `tile_response` takes it.
fn tag_of(tile: &Tile) -> String {
    format!("{:016x}", tile.tag)
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

/// Report vector tile (MVT 2.1)
///
/// Layers: reports (id, category, status, supporters, color, kind; lines and areas drawn whole at
/// detail zooms) and clusters (count, weight, category, color) below zoom 14 or where a tile would
/// carry more than 3,000 reports. Served gzipped when the client accepts gzip.
#[utoipa::path(get, path = "/tiles/reports/{z}/{x}/{y}.mvt", tag = "tiles", operation_id = "report_tile",
    params(
        ("z" = u8, Path, description = "Zoom 0..24"),
        ("x" = u32, Path, description = "Column"),
        ("y" = u32, Path, description = "Row (the suffix may also be .pbf, or left out)"),
        TileQuery,
    ),
    responses(
        (status = 200, description = "Vector tile (empty when nothing is there)", body = Vec<u8>, content_type = "application/vnd.mapbox-vector-tile"),
        (status = 400, description = "Malformed request: the body names the field", body = ErrorBody),
        (status = 422, description = "Unknown category: the body names the field and lists the known codes", body = ErrorBody),
    ))]
async fn reports(
    State(state): State<AppState>,
    TilePath(tile): TilePath,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let params = Params::parse(raw.as_deref())?;
    let (filter, key) = report_filter(&state, &params)?;
    let built = state
        .engine
        .tile(TileLayer::Reports, tile, &filter, &key, 0);
    metrics::counter!("zglos_tiles_served_total", "layer" => "reports").increment(1);
    // Reports change all the time: fresh for a few seconds (settings), then revalidated.
    Ok(tile_response(
        &headers,
        &built.gz,
        Some(&tag_of(&built)),
        &state.config.cache.report_tiles(),
    ))
}

/// District boundaries (layer districts) and label points (layer district_labels)
#[utoipa::path(get, path = "/tiles/districts/{z}/{x}/{y}.mvt", tag = "tiles", operation_id = "district_tile",
    params(
        ("z" = u8, Path, description = "Zoom 0..24"),
        ("x" = u32, Path, description = "Column"),
        ("y" = u32, Path, description = "Row (the suffix may also be .pbf, or left out)"),
    ),
    responses(
        (status = 200, description = "Vector tile", body = Vec<u8>, content_type = "application/vnd.mapbox-vector-tile"),
        (status = 400, description = "Malformed request: the body names the field", body = ErrorBody),
    ))]
async fn districts(
    State(state): State<AppState>,
    TilePath(tile): TilePath,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let built = state
        .engine
        .tile(TileLayer::Districts, tile, &Filter::everything(), "", 0);
    Ok(tile_response(
        &headers,
        &built.gz,
        Some(&tag_of(&built)),
        "public, max-age=3600",
    ))
}

fn layer(id: &str, description: Option<&str>, fields: &[(&str, &str)]) -> VectorLayer {
    VectorLayer {
        id: id.into(),
        description: description.map(str::to_owned),
        fields: fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
    }
}

fn tilejson(
    state: &AppState,
    headers: &HeaderMap,
    name: &str,
    path: &str,
    maxzoom: u8,
    vector_layers: Vec<VectorLayer>,
    query: &str,
) -> Json<TileJson> {
    let catalogue = state.engine.catalogue();
    let [w, s, e, n] = catalogue.bbox();
    let base = base_url(state, headers);
    Json(TileJson {
        tilejson: "3.0.0".into(),
        name: name.into(),
        scheme: "xyz".into(),
        tiles: vec![format!("{base}{path}/{{z}}/{{x}}/{{y}}.mvt{query}")],
        minzoom: 0,
        maxzoom,
        bounds: [w, s, e, n],
        center: ((w + e) / 2.0, (s + n) / 2.0, 11),
        attribution: catalogue.city.attribution.clone(),
        vector_layers,
    })
}

/// TileJSON 3.0 of the report tiles (query parameters carry into the tile URL)
#[utoipa::path(get, path = "/tiles/reports.json", tag = "tiles",
    params(TileQuery),
    responses(
        (status = 200, description = "TileJSON", body = TileJson),
        (status = 400, description = "Malformed request: the body names the field", body = ErrorBody),
        (status = 422, description = "Unknown category: the body names the field and lists the known codes", body = ErrorBody),
    ))]
async fn reports_tilejson(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<TileJson>> {
    // Filters given here are carried into the tile URL.
    let params = Params::parse(raw.as_deref())?;
    report_filter(&state, &params)?;
    let query = raw
        .filter(|q| !q.is_empty())
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let fields = [
        ("id", "Number"),
        ("category", "String"),
        ("status", "String"),
        ("supporters", "Number"),
        ("color", "String"),
        ("kind", "String"),
    ];
    Ok(tilejson(
        &state,
        &headers,
        "reports",
        "/tiles/reports",
        22,
        vec![
            layer(
                "reports",
                Some("Single reports (points; lines and areas at detail zooms)"),
                &fields,
            ),
            layer(
                "clusters",
                Some("Reports aggregated per cell"),
                &[
                    ("count", "Number"),
                    ("weight", "Number"),
                    ("category", "String"),
                    ("color", "String"),
                ],
            ),
        ],
        &query,
    ))
}

/// TileJSON 3.0 of the district tiles
#[utoipa::path(get, path = "/tiles/districts.json", tag = "tiles",
    responses((status = 200, description = "TileJSON", body = TileJson)))]
async fn districts_tilejson(State(state): State<AppState>, headers: HeaderMap) -> Json<TileJson> {
    tilejson(
        &state,
        &headers,
        "districts",
        "/tiles/districts",
        16,
        vec![
            layer(
                "districts",
                None,
                &[("id", "Number"), ("code", "String"), ("name", "String")],
            ),
            layer(
                "district_labels",
                None,
                &[("code", "String"), ("name", "String")],
            ),
        ],
        "",
    )
}

/// Heatmap cells per tile side, as a power of two: 64 × 64 cells, so that at every zoom a cell is
/// the area of a tile six zooms deeper.
const HEAT_GRID_BITS: u32 = 6;

/// Heatmap tile for staff: layer heatmap, one point per occupied cell of a 64 × 64 grid with count and weight (supporters)
#[utoipa::path(get, path = "/tiles/heatmap/{z}/{x}/{y}.mvt", tag = "staff",
    params(
        ("z" = u8, Path, description = "Zoom 0..24"),
        ("x" = u32, Path, description = "Column"),
        ("y" = u32, Path, description = "Row (the suffix may also be .pbf, or left out)"),
        HeatmapQuery,
    ),
    security(("session" = [])),
    responses(
        (status = 200, description = "Vector tile", body = Vec<u8>, content_type = "application/vnd.mapbox-vector-tile"),
        (status = 400, description = "Bad tile or filter", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Wrong role", body = ErrorBody),
    ))]
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
    let built = state
        .engine
        .tile(TileLayer::Heatmap, tile, &filter, &key, HEAT_GRID_BITS);
    metrics::counter!("zglos_tiles_served_total", "layer" => "heatmap").increment(1);
    // Staff only: no shared cache keeps it.
    Ok(tile_response(
        &headers,
        &built.gz,
        Some(&tag_of(&built)),
        "private, no-cache",
    ))
}
