//! The HTTP surface: thin handlers, one module per resource, each owning its `router()`. Every
//! API route is documented (see `doc`); request parts are read by `extract`; bodies are typed in
//! `schema`.
pub mod doc;
pub mod error;
pub mod exports;
pub mod extract;
pub mod meta;
pub mod ogc;
pub mod open311;
pub mod params;
pub mod photos;
pub mod reports;
pub mod schema;
pub mod staff;
pub mod tiles;
pub mod web;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use sqlx::PgPool;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::config::Config;
use crate::engine::Engine;
use crate::http::error::ApiError;

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub engine: Arc<Engine>,
    pub config: Arc<Config>,
    pub metrics: PrometheusHandle,
}

/// Largest JSON body accepted (a report with a 500-vertex area is ~20 KB).
pub const MAX_JSON_BODY: usize = 256 * 1024;

/// Every API route with its documentation.
pub fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(doc::ApiDoc::openapi())
        .merge(reports::router())
        .merge(meta::router())
        .merge(tiles::router())
        .merge(staff::router())
        .merge(exports::router())
        .merge(ogc::router())
        .merge(open311::router())
        .layer(DefaultBodyLimit::max(MAX_JSON_BODY))
        // Photos carry their own, larger limit.
        .merge(photos::router())
}

/// Every route of the service: the documented API, then the routes listed in
/// [`doc::UNDOCUMENTED`] (web pages and JSON 404s), before the service-wide layers.
pub fn routes(web_dir: &std::path::Path) -> Router<AppState> {
    let (api, _) = documented().split_for_parts();
    api.route("/api/{*rest}", axum::routing::any(api_not_found))
        .route("/ogc/", axum::routing::get(ogc::landing))
        .route("/ogc/{*rest}", axum::routing::get(ogc::not_found))
        .merge(web::router(web_dir))
}

pub fn app(state: AppState) -> Router {
    routes(&state.config.web_dir)
        .layer(middleware::from_fn(record_metrics))
        .layer(TraceLayer::new_for_http())
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("a request handler panicked");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error; the failure was logged",
            )
            .into_response()
        }))
        .with_state(state)
}

async fn api_not_found(State(_): State<AppState>, req: Request) -> ApiError {
    ApiError::not_found(format!(
        "no such endpoint: {} {}",
        req.method(),
        req.uri().path()
    ))
}

async fn record_metrics(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "other".into());
    let method = req.method().to_string();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    let elapsed = started.elapsed();
    metrics::counter!("zglos_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("zglos_http_request_duration_seconds", "method" => method, "route" => route).record(elapsed);
    if elapsed > Duration::from_secs(1) {
        tracing::warn!(?elapsed, "slow request");
    }
    response
}
