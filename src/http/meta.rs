//! The city's vocabulary, health, metrics and the API description.
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{accepted_lang, base_url};
use super::schema::{
    Categories, Category, CityRef, ClientConfig, DistrictCollection, DistrictFeature,
    DistrictProperties, ErrorBody, FeatureCollectionType, FeatureType, GeoJson, Health, Language,
    MapConfig, NotReady, Ready, Status, Statuses, Unit, Units,
};
use super::AppState;
use crate::domain::Lang;
use crate::http::error::ApiResult;
use crate::storage::meta as store;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(config))
        .routes(routes!(language))
        .routes(routes!(categories))
        .routes(routes!(statuses))
        .routes(routes!(units))
        .routes(routes!(districts))
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        .routes(routes!(openapi))
}

/// City name, map centre, bounds, basemap style and attribution for clients
#[utoipa::path(get, path = "/api/v1/config", tag = "vocabulary",
    responses((status = 200, description = "Client configuration", body = ClientConfig)))]
async fn config(State(state): State<AppState>, headers: HeaderMap) -> Json<ClientConfig> {
    let catalogue = state.engine.catalogue();
    let [w, s, e, n] = catalogue.bbox();
    let city = &catalogue.city;
    Json(ClientConfig {
        city: CityRef {
            slug: city.slug.clone(),
            name: city.name.clone(),
            attribution: city.attribution.clone(),
        },
        map: MapConfig {
            center: city.map.center.unwrap_or([(w + e) / 2.0, (s + n) / 2.0]),
            zoom: city.map.zoom.unwrap_or(11.0),
            bbox: [w, s, e, n],
            // An external style when the city prefers one, else its own when it has one.
            basemap_style_url: city.map.basemap_style_url.clone().or_else(|| {
                state
                    .basemap
                    .as_ref()
                    .map(|_| format!("{}/styles/basemap.json", base_url(&state, &headers)))
            }),
        },
        languages: Lang::ALL.iter().map(|l| l.as_str().to_owned()).collect(),
    })
}

/// The interface language for a first visit, negotiated from `Accept-Language`
///
/// The front end asks once, when the device has no language of its own chosen yet; the
/// answer varies with the header (`Vary: Accept-Language`).
#[utoipa::path(get, path = "/api/v1/language", tag = "vocabulary",
    params(("Accept-Language" = Option<String>, Header, description = "The browser's preferred languages, e.g. `uk-UA,uk;q=0.9,en;q=0.8`")),
    responses((status = 200, description = "The negotiated language", body = Language)))]
async fn language(headers: HeaderMap) -> Response {
    let negotiated = accepted_lang(&headers);
    let body = Language {
        lang: negotiated.unwrap_or_default().as_str().to_owned(),
        negotiated: negotiated.is_some(),
        languages: Lang::ALL.iter().map(|l| l.as_str().to_owned()).collect(),
    };
    ([(header::VARY, "Accept-Language")], Json(body)).into_response()
}

/// Report categories of the city
#[utoipa::path(get, path = "/api/v1/categories", tag = "vocabulary",
    responses((status = 200, description = "Categories", body = Categories)))]
async fn categories(State(state): State<AppState>, headers: HeaderMap) -> Json<Categories> {
    let base = base_url(&state, &headers);
    Json(Categories {
        categories: state
            .engine
            .catalogue()
            .categories
            .iter()
            .map(|c| Category {
                icon_url: state
                    .icons
                    .contains_key(&c.code)
                    .then(|| format!("{base}/icons/{}.svg", c.code)),
                ..Category::from(c)
            })
            .collect(),
    })
}

/// Report statuses
#[utoipa::path(get, path = "/api/v1/statuses", tag = "vocabulary",
    responses((status = 200, description = "Statuses with Polish and English names and whether they count as open", body = Statuses)))]
async fn statuses(State(state): State<AppState>) -> Json<Statuses> {
    Json(Statuses {
        statuses: state
            .engine
            .catalogue()
            .statuses
            .iter()
            .map(Status::from)
            .collect(),
    })
}

/// City units that handle reports
#[utoipa::path(get, path = "/api/v1/units", tag = "vocabulary",
    responses((status = 200, description = "Units", body = Units)))]
async fn units(State(state): State<AppState>) -> Json<Units> {
    Json(Units {
        units: state
            .engine
            .catalogue()
            .units
            .iter()
            .map(|u| Unit {
                code: u.code.clone(),
                name: u.name.clone(),
                handles: u.handles.clone(),
                contact: u.contact.clone(),
                delivery: u.delivery.name().to_owned(),
            })
            .collect(),
    })
}

/// Districts as a GeoJSON FeatureCollection (with attribution)
#[utoipa::path(get, path = "/api/v1/districts", tag = "vocabulary",
    responses(
        (status = 200, description = "Districts", body = DistrictCollection, content_type = "application/geo+json"),
        (status = 500, description = "Internal error", body = ErrorBody),
    ))]
async fn districts(State(state): State<AppState>) -> ApiResult<GeoJson<DistrictCollection>> {
    let rows = store::districts(&state.pool).await?;
    let features = rows
        .into_iter()
        .map(|d| DistrictFeature {
            kind: FeatureType::Feature,
            id: d.id,
            geometry: serde_json::from_str(&d.geometry).unwrap_or(Value::Null),
            properties: DistrictProperties {
                id: d.id,
                code: d.code,
                name: d.name,
                full_name: d.full_name,
                area_km2: (d.area_km2 * 1000.0).round() / 1000.0,
            },
        })
        .collect();
    Ok(GeoJson(DistrictCollection {
        kind: FeatureCollectionType::FeatureCollection,
        features,
        attribution: state.engine.catalogue().city.attribution.clone(),
    }))
}

/// Liveness
#[utoipa::path(get, path = "/healthz", tag = "service",
    responses((status = 200, description = "The process is up", body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

/// Readiness: the database answers and reports are indexed
#[utoipa::path(get, path = "/readyz", tag = "service",
    responses(
        (status = 200, description = "Ready", body = Ready),
        (status = 503, description = "Database unreachable", body = NotReady),
    ))]
async fn readyz(State(state): State<AppState>) -> Response {
    match store::ping(&state.pool).await {
        Ok(()) => Json(Ready {
            status: "ready".into(),
            reports_indexed: state.engine.report_count() as u64,
            open_reports_indexed: state.engine.open_count() as u64,
        })
        .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(NotReady {
                    status: "unavailable".into(),
                    reason: "database unreachable".into(),
                }),
            )
                .into_response()
        }
    }
}

/// Prometheus metrics
#[utoipa::path(get, path = "/metrics", tag = "service",
    responses((status = 200, description = "Text exposition format", body = String, content_type = "text/plain")))]
async fn metrics(State(state): State<AppState>) -> Response {
    metrics::gauge!("zglos_reports_indexed").set(state.engine.report_count() as f64);
    metrics::gauge!("zglos_open_reports_indexed").set(state.engine.open_count() as f64);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

/// This document
#[utoipa::path(get, path = "/openapi.json", tag = "service",
    responses((status = 200, description = "OpenAPI 3", body = Object)))]
async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        super::doc::document_json(),
    )
        .into_response()
}
