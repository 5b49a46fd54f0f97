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

/// The JPEG bytes of a photo or its thumbnail.
pub async fn bytes(pool: &PgPool, id: &str, thumbnail: bool) -> sqlx::Result<Option<Vec<u8>>> {
    if thumbnail {
        sqlx::query_scalar!("SELECT thumbnail FROM photos WHERE id = $1", id)
            .fetch_optional(pool)
            .await
    } else {
        sqlx::query_scalar!("SELECT image FROM photos WHERE id = $1", id)
            .fetch_optional(pool)
            .await
    }
}
