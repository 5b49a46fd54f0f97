//! `GET /api/v1/check`: what the service holds in memory, summed up, for `zglos check` to compare
//! with the database. It shows only what the public tiles already show in aggregate (counts per
//! category and status, the ids of open reports as a digest) and the change counter.
use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use crate::app::check;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(holdings))
}

/// What the in-memory index holds (see `zglos check`).
#[derive(Serialize, ToSchema)]
pub struct Holdings {
    /// Reports held.
    pub reports: u64,
    /// Reports per category code, then per status code.
    pub counts: BTreeMap<String, BTreeMap<String, u64>>,
    /// The last change (`rev`) applied, per category code.
    pub last_rev: BTreeMap<String, i64>,
    /// Open reports that are not duplicates (what new submissions are compared with), per category.
    pub dedup_originals: BTreeMap<String, u64>,
    /// Order-independent digest of the ids of those reports (hex).
    pub dedup_digest: String,
}

impl From<check::Holdings> for Holdings {
    fn from(h: check::Holdings) -> Self {
        Self {
            reports: h.reports,
            counts: h.counts,
            last_rev: h.last_rev,
            dedup_originals: h.dedup_originals,
            dedup_digest: h.dedup_digest,
        }
    }
}

/// What the service holds in memory, for comparison with the database (`zglos check`)
#[utoipa::path(get, path = "/api/v1/check", tag = "service",
    responses((status = 200, description = "Summary of the in-memory index", body = Holdings)))]
async fn holdings(State(state): State<AppState>) -> Json<Holdings> {
    Json(check::from_engine(&state.engine).into())
}
