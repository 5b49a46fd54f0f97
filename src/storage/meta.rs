//! Queries behind the service's own endpoints: the districts layer and the readiness probe.
use sqlx::PgPool;

/// A district as `/api/v1/districts` shows it.
#[derive(Debug, sqlx::FromRow)]
pub struct DistrictRow {
    pub id: i32,
    pub code: String,
    pub name: String,
    pub full_name: String,
    /// GeoJSON, 6 decimals.
    pub geometry: String,
    pub area_km2: f64,
}

/// Every district with its GeoJSON geometry and its area in km² (on the spheroid), by id.
pub async fn districts(pool: &PgPool) -> sqlx::Result<Vec<DistrictRow>> {
    sqlx::query_as(
        "SELECT id, code, name, full_name, ST_AsGeoJSON(geom, 6) AS geometry, ST_Area(geom::geography) / 1e6 AS area_km2 FROM districts ORDER BY id",
    )
    .fetch_all(pool)
    .await
}

/// Whether the database answers.
pub async fn ping(pool: &PgPool) -> sqlx::Result<()> {
    sqlx::query_scalar::<_, i32>("SELECT 1")
        .fetch_one(pool)
        .await
        .map(|_| ())
}
