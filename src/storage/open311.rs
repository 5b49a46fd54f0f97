//! Open311 GeoReport v2 storage: the token of each request an app filed, media links, and the
//! app behind an API key.
use sqlx::PgPool;

use crate::domain::credentials::sha256_hex;
use crate::storage::users;

/// The app name of an enabled key with the open311 role (or analyst: both may file requests).
pub async fn app_for_key(pool: &PgPool, key: &str) -> sqlx::Result<Option<String>> {
    Ok(users::api_key(pool, &sha256_hex(key))
        .await?
        .filter(|k| k.role == "open311" || k.role == "analyst")
        .map(|k| k.name))
}

pub async fn record(
    pool: &PgPool,
    report_id: i64,
    token: &str,
    app: &str,
    media_url: Option<&str>,
) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "INSERT INTO open311_requests (report_id, token, app_name) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        report_id,
        token,
        app
    )
    .execute(&mut *tx)
    .await?;
    if let Some(url) = media_url {
        sqlx::query!(
            "INSERT INTO report_media_links (report_id, url) VALUES ($1, $2)",
            report_id,
            url
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn by_token(pool: &PgPool, token: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(
        "SELECT report_id FROM open311_requests WHERE token = $1",
        token
    )
    .fetch_optional(pool)
    .await
}

/// First media link (or uploaded photo) of each report.
pub async fn media(pool: &PgPool, ids: &[i64]) -> sqlx::Result<Vec<(i64, String)>> {
    let rows = sqlx::query!(
        "SELECT DISTINCT ON (report_id) report_id, url FROM report_media_links WHERE report_id = ANY($1) ORDER BY report_id, id",
        ids
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.report_id, r.url)).collect())
}

/// The latest public note of each report.
pub async fn notes(pool: &PgPool, ids: &[i64]) -> sqlx::Result<Vec<(i64, String)>> {
    let rows = sqlx::query!(
        r#"SELECT DISTINCT ON (report_id) report_id, public_note AS "public_note!" FROM report_events
         WHERE report_id = ANY($1) AND public_note IS NOT NULL AND kind <> 'duplicate' ORDER BY report_id, at DESC, id DESC"#,
        ids
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.report_id, r.public_note))
        .collect())
}
