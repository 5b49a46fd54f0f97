//! Web Push subscriptions, the reports each follows, the pushes queued for them, and the
//! service's VAPID key.
use serde_json::Value;
use sqlx::PgConnection;

/// Stores a device's subscription (again: the keys and language of a known endpoint are
/// updated); its id.
pub async fn upsert_subscription(
    conn: &mut PgConnection,
    endpoint: &str,
    p256dh: &str,
    auth: &str,
    lang: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "INSERT INTO push_subscriptions (endpoint, p256dh, auth, lang) VALUES ($1, $2, $3, $4)
         ON CONFLICT (endpoint) DO UPDATE SET p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth, lang = EXCLUDED.lang
         RETURNING id",
        endpoint,
        p256dh,
        auth,
        lang
    )
    .fetch_one(conn)
    .await
}

/// The device follows the report (and so hears of every status change of it).
pub async fn follow(
    conn: &mut PgConnection,
    subscription: i64,
    report_id: i64,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO push_follows (subscription_id, report_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        subscription,
        report_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Turns the pushes of one report (or, with None, of all) off for the endpoint; how many
/// reports it no longer follows. Turning all off forgets the subscription.
pub async fn unfollow(
    conn: &mut PgConnection,
    endpoint: &str,
    report_id: Option<i64>,
) -> sqlx::Result<u64> {
    let n = sqlx::query!(
        "DELETE FROM push_follows f USING push_subscriptions s
         WHERE f.subscription_id = s.id AND s.endpoint = $1 AND ($2::bigint IS NULL OR f.report_id = $2)",
        endpoint,
        report_id
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if report_id.is_none() {
        sqlx::query!(
            "DELETE FROM push_subscriptions WHERE endpoint = $1",
            endpoint
        )
        .execute(conn)
        .await?;
    }
    Ok(n)
}

/// The reports the endpoint follows.
pub async fn followed(conn: &mut PgConnection, endpoint: &str) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar!(
        "SELECT f.report_id FROM push_follows f JOIN push_subscriptions s ON s.id = f.subscription_id
         WHERE s.endpoint = $1 ORDER BY f.report_id",
        endpoint
    )
    .fetch_all(conn)
    .await
}

/// The devices that follow a report (or the original it was merged into), each with its language.
pub async fn followers(
    conn: &mut PgConnection,
    report_id: i64,
) -> sqlx::Result<Vec<(i64, String)>> {
    let rows = sqlx::query!(
        "SELECT DISTINCT s.id, s.lang FROM push_follows f JOIN push_subscriptions s ON s.id = f.subscription_id
         WHERE f.report_id = $1 ORDER BY s.id",
        report_id
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.lang)).collect())
}

/// Queues a push to a device about a report.
pub async fn queue(
    conn: &mut PgConnection,
    subscription: i64,
    report_id: i64,
    event_type: &str,
    payload: &Value,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO deliveries (subscription_id, report_id, kind, event_type, payload) VALUES ($1, $2, 'push', $3, $4)",
        subscription,
        report_id,
        event_type,
        payload
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A subscription's endpoint and keys.
pub struct Keys {
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

pub async fn keys(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<Keys>> {
    sqlx::query_as!(
        Keys,
        "SELECT endpoint, p256dh, auth FROM push_subscriptions WHERE id = $1",
        id
    )
    .fetch_optional(conn)
    .await
}

/// Forgets a subscription the push service says is gone, with its pending pushes.
pub async fn remove(conn: &mut PgConnection, id: i64) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM push_subscriptions WHERE id = $1", id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The service's VAPID key (32 bytes): the stored one, or one made by `make` and stored now
/// (the first process to store one wins, so every instance signs with the same key). A key is
/// made only while none is stored.
pub async fn vapid_key(
    conn: &mut PgConnection,
    make: impl FnOnce() -> Vec<u8>,
) -> sqlx::Result<Vec<u8>> {
    if let Some(key) =
        sqlx::query_scalar!("SELECT value FROM server_secrets WHERE name = 'vapid_p256'")
            .fetch_optional(&mut *conn)
            .await?
    {
        return Ok(key);
    }
    sqlx::query!(
        "INSERT INTO server_secrets (name, value) VALUES ('vapid_p256', $1) ON CONFLICT (name) DO NOTHING",
        make()
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query_scalar!("SELECT value FROM server_secrets WHERE name = 'vapid_p256'")
        .fetch_one(conn)
        .await
}
