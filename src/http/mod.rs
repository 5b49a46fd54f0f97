//! The HTTP surface: thin handlers, one module per resource, each owning its `router()`. Every
//! API route is documented (see `doc`); request parts are read by `extract`; bodies are typed in
//! `schema`.
pub mod basemap;
pub mod check;
pub mod deliveries;
pub mod doc;
pub mod error;
pub mod exports;
pub mod extract;
pub mod geocode;
pub mod icons;
pub mod limits;
pub mod meta;
pub mod moderation;
pub mod ogc;
pub mod open311;
pub mod params;
pub mod photos;
pub mod push;
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
    /// Rate-limit buckets of anonymous writes (this process only).
    pub limits: Arc<limits::Limits>,
    /// The city's own basemap, when `zglos setup` wrote one into the data folder.
    pub basemap: Option<Arc<crate::basemap::Basemap>>,
    /// Fonts for the basemap's labels.
    pub fonts: Arc<crate::basemap::Fonts>,
    /// The categories' SVG icons by code, as `zglos setup` wrote them.
    pub icons: Arc<std::collections::HashMap<String, String>>,
}

/// Largest JSON body accepted (a report with a 500-vertex area is ~20 KB).
pub const MAX_JSON_BODY: usize = 256 * 1024;

/// Largest Open311 form accepted (a description of 5000 characters and every field is ~30 KB).
pub const MAX_FORM_BODY: usize = 64 * 1024;

/// Every API route with its documentation.
pub fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(doc::ApiDoc::openapi())
        .merge(reports::router())
        .merge(meta::router())
        .merge(geocode::router())
        .merge(tiles::router())
        .merge(basemap::router())
        .merge(icons::router())
        .merge(staff::router())
        .merge(moderation::router())
        .merge(deliveries::router())
        .merge(push::router())
        .merge(exports::router())
        .merge(ogc::router())
        .merge(open311::router())
        .merge(check::router())
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

/// Compresses what is worth it for clients that accept it (gzip or brotli): JSON, GeoJSON, CSV,
/// HTML, exports (streamed as they are written). Tiles are stored and sent gzipped already (and
/// are never compressed again); photos are compressed images.
fn compression(
) -> tower_http::compression::CompressionLayer<impl tower_http::compression::Predicate> {
    use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
    use tower_http::compression::{CompressionLayer, CompressionLevel};
    CompressionLayer::new()
        .gzip(true)
        .br(true)
        .quality(CompressionLevel::Precise(4))
        .compress_when(
            SizeAbove::new(256)
                .and(NotForContentType::IMAGES)
                .and(NotForContentType::SSE)
                .and(NotForContentType::const_new(
                    "application/vnd.mapbox-vector-tile",
                ))
                .and(NotForContentType::const_new("application/vnd.pmtiles")),
        )
}

pub fn app(state: AppState) -> Router {
    routes(&state.config.web_dir)
        .layer(compression())
        .layer(middleware::from_fn_with_state(state.clone(), time_limit))
        .layer(middleware::from_fn_with_state(state.clone(), edge_headers))
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

/// The Content-Security-Policy of every web page: scripts, styles, workers and connections from
/// this origin only (MapLibre's worker may start from a `blob:`; map images may be `data:` or
/// `blob:`), no framing, no plugins. A city that prefers an external basemap style
/// (`basemap_style_url`) gets that style's origin added to `connect-src`, where MapLibre fetches
/// the style, its tiles, glyphs and sprites; nothing else is ever allowed.
pub fn content_security_policy(external_style: Option<&str>) -> String {
    let connect = match external_style.and_then(web_origin) {
        Some(origin) => format!("'self' {origin}"),
        None => "'self'".to_owned(),
    };
    format!(
        "default-src 'self'; script-src 'self'; worker-src 'self' blob:; child-src 'self' blob:; \
         img-src 'self' data: blob:; style-src 'self'; font-src 'self'; connect-src {connect}; \
         object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )
}

/// `scheme://host[:port]` of an http(s) URL, when it is one and holds nothing a CSP could
/// misread (spaces, quotes, semicolons, commas).
fn web_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if !matches!(scheme, "http" | "https") {
        return None;
    }
    let host = rest.split(['/', '?', '#']).next()?;
    let clean = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    clean.then(|| format!("{scheme}://{host}"))
}

/// What the pages may use of the device: location and the camera (photos), nothing else.
pub const PERMISSIONS_POLICY: &str = "geolocation=(self), camera=(self), microphone=(), \
payment=(), usb=(), serial=(), midi=(), interest-cohort=()";

/// Public reads that any web site may make (`Access-Control-Allow-Origin: *`): tiles and
/// TileJSON, the basemap with its style and glyphs, the category icons, reports, photos, the vocabulary, address search, OGC API and Open311. Staff routes, the heatmap and
/// every write are not among them.
pub fn is_public_read(path: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "/tiles/reports",
        "/tiles/districts",
        "/tiles/basemap",
        "/styles/",
        "/fonts/",
        "/icons/",
        "/api/v1/reports/",
        "/api/v1/photos/",
        "/ogc/",
        "/open311/",
        "/api/v1/geocode",
    ];
    const EXACT: &[&str] = &[
        "/api/v1/reports",
        "/ogc",
        "/api/v1/config",
        "/api/v1/language",
        "/api/v1/categories",
        "/api/v1/statuses",
        "/api/v1/units",
        "/api/v1/districts",
    ];
    EXACT.contains(&path) || PREFIXES.iter().any(|p| path.starts_with(p))
}

/// Security headers on every answer (`nosniff`; on web pages the CSP and its companions), and
/// CORS for the public reads: `Access-Control-Allow-Origin: *` on GET and HEAD, and an answer
/// to their preflights. Nothing else ever carries CORS headers.
async fn edge_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    use axum::http::{header, HeaderValue, Method};
    let public = is_public_read(req.uri().path());
    let method = req.method().clone();
    if method == Method::OPTIONS && public {
        let asked = req
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_METHOD)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if matches!(asked.as_deref(), Some("GET" | "HEAD")) {
            let mut r = StatusCode::NO_CONTENT.into_response();
            let h = r.headers_mut();
            h.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, HEAD, OPTIONS"),
            );
            if let Some(asked) = req.headers().get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
                h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
            }
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("86400"),
            );
            h.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            return r;
        }
    }
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    let html = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    if html {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::try_from(content_security_policy(
                state
                    .engine
                    .catalogue()
                    .city
                    .map
                    .basemap_style_url
                    .as_deref(),
            ))
            .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'")),
        );
        h.insert(
            "permissions-policy",
            HeaderValue::from_static(PERMISSIONS_POLICY),
        );
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    if public && (method == Method::GET || method == Method::HEAD) {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("ETag, Link, Location, Retry-After"),
        );
    }
    response
}

/// Whether a route may run longer than the request timeout: the streaming exports.
fn is_streaming(path: &str) -> bool {
    path.starts_with("/api/v1/exports")
}

/// The request timeout (`--request-timeout`): a request that has not been answered by then is
/// answered 503 with the JSON error body (the work is dropped; its transaction rolls back).
async fn time_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = state.config.edge.request_timeout;
    if is_streaming(req.uri().path()) || !(limit.is_finite() && limit > 0.0) {
        return next.run(req).await;
    }
    let limit = Duration::from_secs_f64(limit.min(86_400.0));
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(r) => r,
        Err(_) => {
            tracing::warn!(?limit, "request timed out");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                format!(
                    "the request took longer than {} s; try again later",
                    limit.as_secs_f64()
                ),
            )
            .retry_after(5)
            .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{content_security_policy, is_public_read};

    #[test]
    fn the_csp_allows_only_this_origin_unless_the_city_names_an_external_style() {
        let own = content_security_policy(None);
        assert!(own.contains("script-src 'self';"));
        assert!(own.contains("connect-src 'self';"));
        assert!(own.contains("frame-ancestors 'none'"));
        let ext = content_security_policy(Some("https://tiles.example.org:8443/styles/liberty"));
        assert!(ext.contains("connect-src 'self' https://tiles.example.org:8443;"));
        assert!(ext.contains("script-src 'self';"));
        for bad in [
            "ftp://x.org/s",
            "https://x.org; script-src *",
            "javascript:alert(1)",
            "https:///",
        ] {
            assert!(
                content_security_policy(Some(bad)).contains("connect-src 'self';"),
                "{bad}"
            );
        }
    }

    #[test]
    fn public_reads_are_the_open_data_and_never_staff_routes() {
        for p in [
            "/tiles/reports/3/4/2.mvt",
            "/tiles/reports.json",
            "/tiles/districts.json",
            "/tiles/basemap/14/9093/5556.mvt",
            "/tiles/basemap.json",
            "/styles/basemap.json",
            "/fonts/DejaVu%20Sans%20Book/0-255.pbf",
            "/icons/pothole.svg",
            "/api/v1/reports",
            "/api/v1/reports/12",
            "/api/v1/reports/nearby",
            "/api/v1/photos/abc/thumbnail",
            "/ogc/collections/reports/items",
            "/open311/v2/requests.json",
            "/api/v1/categories",
        ] {
            assert!(is_public_read(p), "{p}");
        }
        for p in [
            "/api/v1/staff/me",
            "/api/v1/staff/reports/1",
            "/tiles/heatmap/3/4/2.mvt",
            "/api/v1/stats",
            "/api/v1/exports/reports.csv",
            "/api/v1/reportsx",
            "/staff",
            "/",
        ] {
            assert!(!is_public_read(p), "{p}");
        }
    }
}
