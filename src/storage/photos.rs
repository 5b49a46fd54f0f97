//! Photos: stored re-encoded, attached to a report on submission.
use rand::RngCore;
use sqlx::PgPool;

use crate::domain::photo::Photo;
use crate::error::{ApiError, ApiResult};

pub async fn insert(pool: &PgPool, photo: &Photo) -> ApiResult<String> {
    let mut raw = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut raw);
    let id = hex::encode(raw);
    sqlx::query(
        "INSERT INTO photos (id, width, height, image, thumbnail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&id)
    .bind(photo.width as i32)
    .bind(photo.height as i32)
    .bind(&photo.jpeg)
    .bind(&photo.thumbnail)
    .execute(pool)
    .await?;
    Ok(id)
}

/// The JPEG bytes of a photo or its thumbnail.
pub async fn bytes(pool: &PgPool, id: &str, thumbnail: bool) -> ApiResult<Option<Vec<u8>>> {
    let sql = if thumbnail {
        "SELECT thumbnail FROM photos WHERE id = $1"
    } else {
        "SELECT image FROM photos WHERE id = $1"
    };
    Ok(sqlx::query_scalar(sql)
        .bind(id)
        .fetch_optional(pool)
        .await?)
}

/// Attaches uploaded photos to a new report, inside its transaction. Each must exist and be free.
pub async fn attach(tx: &mut sqlx::PgConnection, report_id: i64, ids: &[String]) -> ApiResult<()> {
    for (i, id) in ids.iter().enumerate() {
        let done =
            sqlx::query("UPDATE photos SET report_id = $1 WHERE id = $2 AND report_id IS NULL")
                .bind(report_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() != 1 {
            return Err(ApiError::unprocessable(
                "unknown_photo",
                format!("photo {id:?} was not uploaded or belongs to another report"),
            )
            .at(format!("properties.photos[{i}]")));
        }
    }
    Ok(())
}
