//! All SQL lives under this module. Queries are bound with parameters; nothing is built from
//! user strings.
pub mod check;
pub mod city;
pub mod deadlines;
pub mod deliveries;
pub mod exports;
pub mod gazetteer;
pub mod listen;
pub mod meta;
pub mod moderation;
pub mod ogc;
pub mod open311;
pub mod outbox;
pub mod photos;
pub mod push;
pub mod reports;
pub mod staff;
pub mod sweep;
pub mod users;

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

/// A read that could not be made: its filter was refused, or the database failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Filter(#[from] crate::cql::CqlError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// How long a request waits for a database connection before it is answered 503 (the database
/// is away or every connection is busy): short, so that an outage is reported at once rather
/// than held open.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_millis(1500);

pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    connect_with_timeout(url, max_connections, DEFAULT_ACQUIRE_TIMEOUT).await
}

/// A pool whose requests wait at most `acquire_timeout` for a connection. Idle connections are
/// tested before use, so after the database comes back the broken ones are replaced silently.
pub async fn connect_with_timeout(
    url: &str,
    max_connections: u32,
    acquire_timeout: Duration,
) -> anyhow::Result<PgPool> {
    let options: PgConnectOptions = url.parse()?;
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(acquire_timeout)
        .test_before_acquire(true)
        .connect_with(options)
        .await?;
    Ok(pool)
}

pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::migrate!("./migrations").run(pool).await?;
    Ok(())
}

/// Namespace of the advisory locks that serialise writes to one category's reports.
const CATEGORY_LOCK_SPACE: i32 = 0x5a67; // "Zg"

/// Takes the category's transaction-scoped advisory lock. Every write that changes a report's
/// dedup-relevant state holds it, so that (a) two submissions of the same category never both
/// become originals, in one process or several, and (b) within a category `rev` grows in commit
/// order, which is what lets the in-memory index catch up with `rev > last_seen`.
pub async fn lock_category(tx: &mut sqlx::PgConnection, category: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "SELECT pg_advisory_xact_lock($1, hashtext($2))",
        CATEGORY_LOCK_SPACE,
        category
    )
    .execute(tx)
    .await?;
    Ok(())
}
