//! Deleting what has outlived its use: expired staff sessions, login failures older than the
//! throttle's window, idempotency keys older than their window.
use sqlx::PgPool;

/// Deletes the sessions that have expired; returns how many.
pub async fn expired_sessions(pool: &PgPool) -> sqlx::Result<u64> {
    let done = sqlx::query!("DELETE FROM sessions WHERE expires_at < now()")
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

/// Deletes login failures older than `minutes`; returns how many.
pub async fn old_login_failures(pool: &PgPool, minutes: i32) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "DELETE FROM login_failures WHERE at < now() - make_interval(mins => $1)",
        minutes
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// Deletes idempotency keys older than `hours`; returns how many.
pub async fn old_idempotency_keys(pool: &PgPool, hours: i32) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)",
        hours
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}
