//! The city's vocabulary, health, metrics and the API description.
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::AppState;
use crate::error::ApiResult;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/config", get(config))
        .route("/api/v1/categories", get(categories))
        .route("/api/v1/statuses", get(statuses))
        .route("/api/v1/units", get(units))
        .route("/api/v1/districts", get(districts))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
}

async fn config(State(state): State<AppState>) -> Json<Value> {
    Json(state.engine.catalogue().city_json())
}

async fn categories(State(state): State<AppState>) -> Json<Value> {
    let list: Vec<Value> = state
        .engine
        .catalogue()
        .categories
        .iter()
        .map(|c| c.to_json())
        .collect();
    Json(json!({ "categories": list }))
}

async fn statuses(State(state): State<AppState>) -> Json<Value> {
    let list: Vec<Value> = state
        .engine
        .catalogue()
        .statuses
        .iter()
        .map(|s| json!({"code": s.code, "name_pl": s.name_pl, "name_en": s.name_en, "is_open": s.is_open}))
        .collect();
    Json(json!({ "statuses": list }))
}

async fn units(State(state): State<AppState>) -> Json<Value> {
    let list: Vec<Value> = state
        .engine
        .catalogue()
        .units
        .iter()
        .map(
            |u| json!({"code": u.code, "name": u.name, "handles": u.handles, "contact": u.contact}),
        )
        .collect();
    Json(json!({ "units": list }))
}

async fn districts(State(state): State<AppState>) -> ApiResult<Response> {
    let rows: Vec<(i32, String, String, String, String, f64)> = sqlx::query_as(
        "SELECT id, code, name, full_name, ST_AsGeoJSON(geom, 6), ST_Area(geom::geography) / 1e6 FROM districts ORDER BY id",
    )
    .fetch_all(&state.pool)
    .await?;
    let features: Vec<Value> = rows
        .into_iter()
        .map(|(id, code, name, full_name, geom, area)| {
            let geometry: Value = serde_json::from_str(&geom).unwrap_or(Value::Null);
            json!({"type": "Feature", "id": id, "geometry": geometry,
                   "properties": {"id": id, "code": code, "name": name, "full_name": full_name, "area_km2": (area * 1000.0).round() / 1000.0}})
        })
        .collect();
    let body = json!({
        "type": "FeatureCollection",
        "features": features,
        "attribution": state.engine.catalogue().city.attribution,
    });
    Ok((
        [(header::CONTENT_TYPE, "application/geo+json")],
        Json(body).into_response().into_body(),
    )
        .into_response())
}

async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Ready when the database answers and the in-memory index is loaded.
async fn readyz(State(state): State<AppState>) -> Response {
    match sqlx::query_scalar::<_, i32>("SELECT 1")
        .fetch_one(&state.pool)
        .await
    {
        Ok(_) => Json(json!({
            "status": "ready",
            "reports_indexed": state.engine.report_count(),
            "open_reports_indexed": state.engine.open_count(),
        }))
        .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "reason": "database unreachable"})),
            )
                .into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    metrics::gauge!("zglos_reports_indexed").set(state.engine.report_count() as f64);
    metrics::gauge!("zglos_open_reports_indexed").set(state.engine.open_count() as f64);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

pub const OPENAPI: &str = include_str!("openapi.json");

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}
