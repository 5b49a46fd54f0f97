//! Address search and reverse lookup over the city's own gazetteer (see `crate::addresses`):
//! public reads, never rate limited, answered from memory.
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use zglos_tiles::gazetteer::{Hit, Kind, Note, Reverse, SearchOptions};

use super::params::{parse_limit, Params};
use super::schema::ErrorBody;
use super::AppState;
use crate::http::error::{ApiError, ApiResult};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(reverse))
}

/// Longest query searched (a street, a number and a district fit in far less).
const MAX_QUERY_CHARS: usize = 200;

fn kind_of(s: &str) -> Option<Kind> {
    Some(match s {
        "street" => Kind::Street,
        "address" => Kind::Address,
        "poi" => Kind::Poi,
        "stop" => Kind::Stop,
        "district" => Kind::District,
        _ => return None,
    })
}

fn note_json(n: &Note) -> Value {
    match n {
        Note::SimilarNumber { asked } => json!({"code": "similar_number", "asked": asked}),
        Note::NearestNumber { asked } => json!({"code": "nearest_number", "asked": asked}),
        Note::NumberNotFound { asked } => json!({"code": "number_not_found", "asked": asked}),
    }
}

fn hit_feature(h: &Hit) -> Value {
    json!({
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [h.lon, h.lat]},
        "bbox": h.bbox,
        "properties": {
            "kind": h.kind.as_str(),
            "label": h.label,
            "street": h.street,
            "number": h.number,
            "postcode": h.postcode,
            "official": h.official,
            "category": h.category,
            "district": h.district,
            "score": (h.score * 1000.0).round() / 1000.0,
            "note": h.note.as_ref().map(note_json),
        }
    })
}

/// A point given as `lon`/`lat` (or `near=lon,lat`), checked.
fn lon_lat(params: &Params) -> ApiResult<Option<(f64, f64)>> {
    let (lon, lat) = match (params.f64("lon")?, params.f64("lat")?) {
        (Some(lon), Some(lat)) => (lon, lat),
        (None, None) => return Ok(None),
        (None, _) => {
            return Err(
                ApiError::bad_request("missing_parameter", "lon is required with lat").at("lon"),
            )
        }
        (_, None) => {
            return Err(
                ApiError::bad_request("missing_parameter", "lat is required with lon").at("lat"),
            )
        }
    };
    if !(-180.0..=180.0).contains(&lon) {
        return Err(ApiError::bad_request(
            "invalid_parameter",
            format!("lon must be between -180 and 180, got {lon}"),
        )
        .at("lon"));
    }
    if !(-90.0..=90.0).contains(&lat) {
        return Err(ApiError::bad_request(
            "invalid_parameter",
            format!("lat must be between -90 and 90, got {lat}"),
        )
        .at("lat"));
    }
    Ok(Some((lon, lat)))
}

/// Find streets, addresses, places, stops and districts by what a person types
#[utoipa::path(get, path = "/api/v1/geocode", tag = "addresses",
    params(
        ("q" = String, Query, description = "What was typed: \"Floriańska 12\", \"florianska\", \"ul. Floriańskiej\", \"12 Floriańska\", \"Floria\" (as you type). Case, missing Polish letters, street-type words (ul., al., os., pl.) and a typo or two are forgiven."),
        ("limit" = Option<i64>, Query, description = "Hits, 1–20 (default 5)"),
        ("kind" = Option<String>, Query, description = "Only these kinds, comma-separated: street, address, poi, stop, district"),
        ("lon" = Option<f64>, Query, description = "With lat: prefer hits near this point (the map's centre)"),
        ("lat" = Option<f64>, Query, description = "With lon"),
    ),
    responses(
        (status = 200, description = "GeoJSON FeatureCollection of hits, best first: properties {kind, label, street, number, postcode, official, category, district, score, note: {code: similar_number | nearest_number | number_not_found, asked}}; a street's feature has its bbox", body = Object, content_type = "application/geo+json"),
        (status = 400, description = "No q, a q too long, or a bad parameter: the body names it", body = ErrorBody),
        (status = 404, description = "This city has no gazetteer", body = ErrorBody),
    ))]
async fn search(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> ApiResult<([(axum::http::HeaderName, &'static str); 1], Json<Value>)> {
    let params = Params::parse(raw.as_deref())?;
    let q = params.get("q").map(str::trim).unwrap_or("");
    if q.is_empty() {
        return Err(ApiError::bad_request(
            "missing_parameter",
            "q is required: the address or place to find",
        )
        .at("q"));
    }
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::bad_request(
            "invalid_parameter",
            format!("q is longer than {MAX_QUERY_CHARS} characters"),
        )
        .at("q"));
    }
    let limit = parse_limit(&params, 5, 20)? as usize;
    let mut kinds = Vec::new();
    for k in params.list("kind") {
        kinds.push(kind_of(&k).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_parameter",
                format!("kind {k:?} is not one of street, address, poi, stop, district"),
            )
            .at("kind")
        })?);
    }
    let near = lon_lat(&params)?;
    let catalogue = state.engine.catalogue();
    let g = catalogue.gazetteer.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_gazetteer",
            format!("{} has no address data to search", catalogue.city.name),
        )
    })?;
    let hits = g.search_with(q, &SearchOptions { limit, near, kinds });
    let features: Vec<Value> = hits.iter().map(hit_feature).collect();
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/geo+json")],
        Json(json!({"type": "FeatureCollection", "query": q, "features": features})),
    ))
}

/// What to call a point: the nearest address within 50 m, else the street it is near, else its district
#[utoipa::path(get, path = "/api/v1/geocode/reverse", tag = "addresses",
    params(
        ("lon" = f64, Query, description = "Longitude (WGS84)"),
        ("lat" = f64, Query, description = "Latitude (WGS84)"),
    ),
    responses(
        (status = 200, description = "{kind: address | near_street | district | none, address: {street, number, label} or null (what a report filed here stores), distance_m, lon, lat (of the address point or the street's nearest point), postcode, official, district}", body = Object),
        (status = 400, description = "A missing or bad lon/lat: the body names it", body = ErrorBody),
    ))]
async fn reverse(State(state): State<AppState>, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    let params = Params::parse(raw.as_deref())?;
    let (lon, lat) = lon_lat(&params)?.ok_or_else(|| {
        ApiError::bad_request("missing_parameter", "lon and lat are required").at("lon")
    })?;
    let catalogue = state.engine.catalogue();
    let p = geo::Point::new(lon, lat);
    let district = catalogue.districts.locate(p).map(|h| h.id);
    let address = catalogue.address_at(p, district);
    let district_json = district.and_then(|id| {
        catalogue
            .districts
            .districts()
            .iter()
            .find(|d| d.id == id)
            .map(|d| json!({"id": d.id, "name": d.name}))
    });
    let found = catalogue.gazetteer.as_ref().map(|g| g.reverse(lon, lat));
    let body = match found {
        Some(Reverse::Address {
            postcode,
            official,
            lon,
            lat,
            distance_m,
            ..
        }) => json!({
            "kind": "address", "address": address, "distance_m": (distance_m * 10.0).round() / 10.0,
            "lon": lon, "lat": lat, "postcode": postcode, "official": official, "district": district_json,
        }),
        Some(Reverse::NearStreet {
            lon,
            lat,
            distance_m,
            ..
        }) => json!({
            "kind": "near_street", "address": address, "distance_m": (distance_m * 10.0).round() / 10.0,
            "lon": lon, "lat": lat, "district": district_json,
        }),
        _ if address.is_some() => {
            json!({"kind": "district", "address": address, "district": district_json})
        }
        _ => json!({"kind": "none", "address": null, "district": null}),
    };
    Ok(Json(body))
}
