//! What the database holds, in the terms the in-memory engine is compared in (`zglos check`).
use sqlx::PgPool;

/// Reports per (category, status).
pub async fn counts(pool: &PgPool) -> sqlx::Result<Vec<(String, String, i64)>> {
    let rows = sqlx::query!(
        r#"SELECT category AS "category!", status AS "status!", count(*) AS "n!"
           FROM reports GROUP BY category, status"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.category, r.status, r.n))
        .collect())
}

/// The highest `rev` per category.
pub async fn last_revs(pool: &PgPool) -> sqlx::Result<Vec<(String, i64)>> {
    let rows = sqlx::query!(
        r#"SELECT category AS "category!", max(rev) AS "rev!" FROM reports GROUP BY category"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.category, r.rev)).collect())
}

/// Reports later submissions may duplicate: open (one of `open_statuses`) and not duplicates.
pub async fn dedup_originals(
    pool: &PgPool,
    open_statuses: &[String],
) -> sqlx::Result<Vec<(i64, String)>> {
    let rows = sqlx::query!(
        "SELECT id, category FROM reports WHERE duplicate_of IS NULL AND status = ANY($1)",
        open_statuses
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.category)).collect())
}

/// Anchors (lon, lat) of up to `limit` reports spread over the id range, for the tile sample.
pub async fn sample_anchors(pool: &PgPool, limit: i64) -> sqlx::Result<Vec<(f64, f64)>> {
    let rows = sqlx::query!(
        r#"SELECT ST_X(anchor) AS "lon!", ST_Y(anchor) AS "lat!" FROM (
             SELECT DISTINCT ON (bucket) anchor FROM (
               SELECT id, anchor, ntile($1::int) OVER (ORDER BY id) AS bucket FROM reports) b
             ORDER BY bucket, id) s"#,
        limit.clamp(1, 10_000) as i32
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.lon, r.lat)).collect())
}
