//! Photos: stored re-encoded, attached to a report on submission.
use rand::RngCore;
use sqlx::PgPool;

use crate::domain::photo::Photo;

pub async fn insert(pool: &PgPool, photo: &Photo) -> sqlx::Result<String> {
    let mut raw = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut raw);
    let id = hex::encode(raw);
    sqlx::query!(
        "INSERT INTO photos (id, width, height, image, thumbnail) VALUES ($1, $2, $3, $4, $5)",
        &id,
        photo.width as i32,
        photo.height as i32,
        &photo.jpeg,
        &photo.thumbnail
    )
    .execute(pool)
    .await?;
    Ok(id)
}

/// The JPEG bytes of a photo or its thumbnail, for the public: none when staff hid the photo or
/// its report is held (see migration 0010).
pub async fn bytes(pool: &PgPool, id: &str, thumbnail: bool) -> sqlx::Result<Option<Vec<u8>>> {
    let row = sqlx::query!(
        r#"SELECT CASE WHEN $2 THEN p.thumbnail ELSE p.image END AS "bytes!"
         FROM photos p LEFT JOIN reports r ON r.id = p.report_id
         WHERE p.id = $1 AND p.hidden IS NULL AND NOT coalesce(r.held, false)"#,
        id,
        thumbnail
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| r.bytes))
}
