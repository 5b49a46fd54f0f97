//! The periodic sweep: expired sessions, login failures the throttle no longer counts, and
//! idempotency keys past their window are deleted (see `startup`, `--sweep-seconds`).
use sqlx::PgPool;

use super::AppResult;
use crate::domain::access::LoginThrottle;
use crate::storage::sweep as store;

/// How long an `Idempotency-Key` makes a retry safe: a retry after this may create a new report.
pub const IDEMPOTENCY_HOURS: i32 = 24;

/// What one sweep deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub sessions: u64,
    pub login_failures: u64,
    pub idempotency_keys: u64,
}

/// Deletes what has outlived its use; fresh rows stay.
pub async fn sweep(pool: &PgPool) -> AppResult<Swept> {
    Ok(Swept {
        sessions: store::expired_sessions(pool).await?,
        login_failures: store::old_login_failures(pool, LoginThrottle::DEFAULT.window_minutes)
            .await?,
        idempotency_keys: store::old_idempotency_keys(pool, IDEMPOTENCY_HOURS).await?,
    })
}
