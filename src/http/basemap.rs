//! The city's own basemap: `/tiles/basemap/{z}/{x}/{y}.mvt` from its PMTiles file,
//! `/tiles/basemap.json` (TileJSON), `/styles/basemap.json` (the MapLibre style) and
//! `/fonts/{fontstack}/{range}.pbf` (label glyphs).
use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::doc::RoutesExt;
use super::extract::{base_url, TilePath};
use super::schema::{ErrorBody, TileJson, VectorLayer};
use super::tiles::tile_response;
use super::AppState;
use crate::basemap::Basemap;
use crate::http::error::{ApiError, ApiResult};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .templated_routes(routes!(tile))
        .routes(routes!(tilejson))
        .routes(routes!(style))
        .templated_routes(routes!(glyphs))
}

/// The basemap tiles change only with a new import.
const BASEMAP_CACHE: &str = "public, max-age=86400";

fn basemap(state: &AppState) -> ApiResult<&Arc<Basemap>> {
    state.basemap.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_basemap",
            "this city has no basemap of its own: `zglos setup` writes one when city.json names \
             \"basemap\" tiles",
        )
    })
}

/// Basemap vector tile (OpenMapTiles schema), from the city's PMTiles file
///
/// Zooms up to the file's maximum (14 for Kraków); clients overzoom past it. A tile the file does
/// not hold (outside the city) is 204 with no body. Served gzipped when the client accepts gzip.
#[utoipa::path(get, path = "/tiles/basemap/{z}/{x}/{y}.mvt", tag = "tiles", operation_id = "basemap_tile",
    params(
        ("z" = u8, Path, description = "Zoom"),
        ("x" = u32, Path, description = "Column"),
        ("y" = u32, Path, description = "Row (the suffix may also be .pbf, or left out)"),
    ),
    responses(
        (status = 200, description = "Vector tile", body = Vec<u8>, content_type = "application/vnd.mapbox-vector-tile"),
        (status = 204, description = "No tile there (outside the basemap)"),
        (status = 400, description = "Malformed tile address: the body names the field", body = ErrorBody),
        (status = 404, description = "The city has no basemap of its own", body = ErrorBody),
    ))]
async fn tile(
    State(state): State<AppState>,
    TilePath(tile): TilePath,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let map = basemap(&state)?;
    metrics::counter!("zglos_tiles_served_total", "layer" => "basemap").increment(1);
    Ok(match map.archive.get(tile.z, tile.x, tile.y) {
        Some(gz) => tile_response(
            &headers,
            gz,
            Some(&format!(
                "bm{}-{}-{}-{}",
                map.version, tile.z, tile.x, tile.y
            )),
            BASEMAP_CACHE,
        ),
        None => (
            StatusCode::NO_CONTENT,
            [(
                header::CACHE_CONTROL,
                HeaderValue::from_static(BASEMAP_CACHE),
            )],
        )
            .into_response(),
    })
}

/// TileJSON 3.0 of the basemap tiles (with their vector layers and attribution)
#[utoipa::path(get, path = "/tiles/basemap.json", tag = "tiles",
    responses(
        (status = 200, description = "TileJSON", body = TileJson),
        (status = 404, description = "The city has no basemap of its own", body = ErrorBody),
    ))]
async fn tilejson(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Json<TileJson>> {
    let map = basemap(&state)?;
    let info = &map.archive.info;
    let vector_layers = map
        .vector_layers
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| {
            Some(VectorLayer {
                id: l.get("id")?.as_str()?.to_owned(),
                description: None,
                fields: l
                    .get("fields")
                    .and_then(Value::as_object)
                    .map(|f| {
                        f.iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("String").to_owned()))
                            .collect::<BTreeMap<_, _>>()
                    })
                    .unwrap_or_default(),
            })
        })
        .collect();
    Ok(Json(TileJson {
        tilejson: "3.0.0".into(),
        name: "basemap".into(),
        scheme: "xyz".into(),
        tiles: vec![format!(
            "{}/tiles/basemap/{{z}}/{{x}}/{{y}}.mvt",
            base_url(&state, &headers)
        )],
        minzoom: info.min_zoom,
        maxzoom: info.max_zoom,
        bounds: info.bounds,
        center: (info.center[0], info.center[1], info.center_zoom),
        attribution: map.attribution.clone(),
        vector_layers,
    }))
}

/// The city's MapLibre style for its basemap (sources, glyphs and layers on this origin)
#[utoipa::path(get, path = "/styles/basemap.json", tag = "tiles",
    responses(
        (status = 200, description = "MapLibre style (version 8)", body = Object, content_type = "application/json"),
        (status = 404, description = "The city has no basemap of its own", body = ErrorBody),
    ))]
async fn style(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let map = basemap(&state)?;
    let style = map.style_for(&base_url(&state, &headers));
    Ok((
        [(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        )],
        Json(style),
    )
        .into_response())
}

/// Label glyphs: 256 code points of a font as signed distance fields (MapLibre's glyph PBF)
///
/// `fontstack` is a comma-separated list of font names; the first one the service has is used.
/// `range` is `{start}-{end}.pbf` with start a multiple of 256.
#[utoipa::path(get, path = "/fonts/{fontstack}/{range}.pbf", tag = "tiles", operation_id = "glyphs",
    params(
        ("fontstack" = String, Path, description = "Font names, comma-separated (e.g. DejaVu Sans Book)"),
        ("range" = String, Path, description = "First and last code point, e.g. 0-255"),
    ),
    responses(
        (status = 200, description = "Glyph PBF", body = Vec<u8>, content_type = "application/x-protobuf"),
        (status = 400, description = "Not a glyph range: the body names the field", body = ErrorBody),
        (status = 404, description = "None of the fonts is here: the body lists those that are", body = ErrorBody),
    ))]
async fn glyphs(
    State(state): State<AppState>,
    Path((stack, range)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let start = parse_range(&range)?;
    let Some((name, font)) = state.fonts.pick(&stack) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_font",
            format!("no font of {stack:?} is here"),
        )
        .at("fontstack")
        .with_detail(serde_json::json!({ "fonts": state.fonts.names() })));
    };
    let gz = match state.fonts.cached(&name, start) {
        Some(gz) => gz,
        None => {
            let fonts = state.fonts.clone();
            tokio::task::spawn_blocking(move || fonts.make(&name, &font, start))
                .await
                .map_err(ApiError::internal)?
                .map_err(|e| ApiError::bad_request("invalid_range", e.to_string()).at("range"))?
        }
    };
    let mut response = tile_response(&headers, &gz, None, BASEMAP_CACHE);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-protobuf"),
    );
    Ok(response)
}

/// `0-255`, `256-511.pbf`, ...: the start, when the end is 255 further.
fn parse_range(raw: &str) -> ApiResult<u32> {
    let bad = || {
        ApiError::bad_request(
            "invalid_range",
            format!("{raw:?} is not a glyph range like 0-255.pbf (256 code points from a multiple of 256)"),
        )
        .at("range")
    };
    let r = raw.strip_suffix(".pbf").unwrap_or(raw);
    let (a, b) = r.split_once('-').ok_or_else(bad)?;
    let (a, b): (u32, u32) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
    if !a.is_multiple_of(256) || b != a + 255 || a > 65_280 {
        return Err(bad());
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn glyph_ranges_are_256_code_points_from_a_multiple_of_256() {
        assert_eq!(parse_range("0-255.pbf").unwrap(), 0);
        assert_eq!(parse_range("256-511").unwrap(), 256);
        assert_eq!(parse_range("65280-65535.pbf").unwrap(), 65_280);
        for bad in [
            "0-256.pbf",
            "1-256",
            "abc",
            "65536-65791",
            "-1-254",
            "0_255",
        ] {
            assert!(parse_range(bad).is_err(), "{bad}");
        }
    }
}
