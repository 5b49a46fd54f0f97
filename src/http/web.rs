//! The residents' web pages from `web/public`, and MapLibre from `web/node_modules`.
use std::path::PathBuf;

use axum::routing::get_service;
use axum::Router;
use tower_http::services::{ServeDir, ServeFile};

use super::AppState;

pub fn router(web_dir: &std::path::Path) -> Router<AppState> {
    let public = web_dir.join("public");
    let maplibre = web_dir.join("node_modules/maplibre-gl/dist");
    let report_page: PathBuf = public.join("report.html");
    Router::new()
        .route("/r/{id}", get_service(ServeFile::new(report_page)))
        .route(
            "/staff",
            get_service(ServeFile::new(public.join("staff.html"))),
        )
        .route(
            "/stats",
            get_service(ServeFile::new(public.join("stats.html"))),
        )
        .nest_service("/vendor/maplibre-gl", ServeDir::new(maplibre))
        .fallback_service(ServeDir::new(public).append_index_html_on_directories(true))
}
