//! Outbound deliveries to units' own systems (webhooks, Open311 endpoints), the dead-letter list
//! they share with the mail outbox, and what the units' Open311 endpoints said of their reports.
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::{PgConnection, Postgres, Transaction};

/// Queues a delivery to `unit` (written in the transaction of the change it reports).
pub async fn queue(
    conn: &mut PgConnection,
    unit: &str,
    report_id: i64,
    kind: &str,
    event_type: &str,
    payload: &Value,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO deliveries (unit_code, report_id, kind, event_type, payload) VALUES ($1, $2, $3, $4, $5)",
        unit,
        report_id,
        kind,
        event_type,
        payload
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Wakes the delivery workers when the transaction commits.
pub async fn wake_workers(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query!("SELECT pg_notify('zglos_deliveries', '')")
        .execute(conn)
        .await?;
    Ok(())
}

/// A delivery waiting to be sent.
#[derive(Debug)]
pub struct Pending {
    pub id: i64,
    pub event_id: String,
    /// The unit (webhook, open311), or
    pub unit_code: Option<String>,
    /// the device (push).
    pub subscription_id: Option<i64>,
    pub report_id: Option<i64>,
    pub kind: String,
    pub event_type: String,
    pub payload: Value,
    pub created_at: DateTime<Utc>,
    pub attempts: i32,
}

/// One delivery that is due, locked for this transaction (SKIP LOCKED: several service
/// processes run workers without sending twice). A report's deliveries to a unit go in order:
/// one waits while an older one to the same unit about the same report is still pending.
pub async fn next_due(tx: &mut Transaction<'_, Postgres>) -> sqlx::Result<Option<Pending>> {
    sqlx::query_as!(
        Pending,
        "SELECT id, event_id, unit_code, subscription_id, report_id, kind, event_type, payload, created_at, attempts
         FROM deliveries d
         WHERE delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= now()
           AND NOT EXISTS (SELECT 1 FROM deliveries o
                           WHERE o.report_id = d.report_id AND o.id < d.id
                             AND o.unit_code IS NOT DISTINCT FROM d.unit_code
                             AND o.subscription_id IS NOT DISTINCT FROM d.subscription_id
                             AND o.delivered_at IS NULL AND o.dead_at IS NULL)
         ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"
    )
    .fetch_optional(&mut **tx)
    .await
}

pub async fn mark_delivered(conn: &mut PgConnection, id: i64) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE deliveries SET delivered_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = $1",
        id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a failed attempt: the next is due after `pause_ms`, or, at `max_attempts`, the
/// delivery is dead (it waits in the dead-letter list). True when it died.
pub async fn mark_failed(
    conn: &mut PgConnection,
    id: i64,
    error: &str,
    pause_ms: u64,
    max_attempts: i32,
) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"UPDATE deliveries SET attempts = attempts + 1, last_error = $2,
               next_attempt_at = now() + make_interval(secs => $3),
               dead_at = CASE WHEN attempts + 1 >= $4 THEN now() END
           WHERE id = $1 RETURNING dead_at IS NOT NULL AS "dead!""#,
        id,
        error,
        pause_ms as f64 / 1000.0,
        max_attempts
    )
    .fetch_one(conn)
    .await
}

/// An outbound message that gave up: a delivery to a unit, or a mail.
#[derive(Debug, Serialize)]
pub struct DeadLetter {
    /// `mail`, `webhook`, `open311` or `push`.
    pub kind: String,
    pub id: i64,
    pub report_id: Option<i64>,
    /// The unit (for a delivery), the device (for a push) or the address (for a mail).
    pub target: String,
    /// The event type, or the mail's subject.
    pub what: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub dead_at: DateTime<Utc>,
}

/// The dead-letter list, newest first.
pub async fn dead_letters(conn: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<DeadLetter>> {
    sqlx::query_as!(
        DeadLetter,
        r#"SELECT kind AS "kind!", id AS "id!", report_id, target AS "target!", what AS "what!",
                  attempts AS "attempts!", last_error, created_at AS "created_at!", dead_at AS "dead_at!" FROM (
             SELECT kind, id, report_id, COALESCE(unit_code, 'device #' || subscription_id) AS target,
                    event_type AS what, attempts, last_error, created_at, dead_at
             FROM deliveries WHERE dead_at IS NOT NULL AND delivered_at IS NULL
             UNION ALL
             SELECT 'mail', id, report_id, to_email, subject, attempts, last_error, created_at, dead_at
             FROM outbox WHERE dead_at IS NOT NULL AND sent_at IS NULL) d
           ORDER BY dead_at DESC, id DESC LIMIT $1"#,
        limit
    )
    .fetch_all(conn)
    .await
}

/// Gives a dead delivery (`webhook`, `open311`, `push`) or mail (`mail`) a new round of attempts, due
/// now. False when there is no such dead letter.
pub async fn retry(conn: &mut PgConnection, kind: &str, id: i64) -> sqlx::Result<bool> {
    let done = if kind == "mail" {
        sqlx::query!(
            "UPDATE outbox SET dead_at = NULL, attempts = 0, next_attempt_at = now()
             WHERE id = $1 AND dead_at IS NOT NULL AND sent_at IS NULL",
            id
        )
        .execute(conn)
        .await?
    } else {
        sqlx::query!(
            "UPDATE deliveries SET dead_at = NULL, attempts = 0, next_attempt_at = now()
             WHERE id = $1 AND kind = $2 AND dead_at IS NOT NULL AND delivered_at IS NULL",
            id,
            kind
        )
        .execute(conn)
        .await?
    };
    Ok(done.rows_affected() == 1)
}

/// Pending and dead deliveries and mail, for `/metrics` and the staff UI's badge.
pub async fn counts(conn: &mut PgConnection) -> sqlx::Result<(i64, i64)> {
    let r = sqlx::query!(
        r#"SELECT
             (SELECT count(*) FROM deliveries WHERE delivered_at IS NULL AND dead_at IS NULL)
           + (SELECT count(*) FROM outbox WHERE sent_at IS NULL AND dead_at IS NULL) AS "pending!",
             (SELECT count(*) FROM deliveries WHERE delivered_at IS NULL AND dead_at IS NOT NULL)
           + (SELECT count(*) FROM outbox WHERE sent_at IS NULL AND dead_at IS NOT NULL) AS "dead!""#
    )
    .fetch_one(conn)
    .await?;
    Ok((r.pending, r.dead))
}

/// Records what a unit's Open311 endpoint answered to a report: its id, or a token to look the
/// id up by later.
pub async fn record_accepted(
    conn: &mut PgConnection,
    report_id: i64,
    unit: &str,
    external_id: Option<&str>,
    token: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO unit_requests (report_id, unit_code, external_id, token) VALUES ($1, $2, $3, $4)
         ON CONFLICT (report_id, unit_code) DO UPDATE SET external_id = EXCLUDED.external_id, token = EXCLUDED.token",
        report_id,
        unit,
        external_id,
        token
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A report of the unit's that its Open311 endpoint knows, as last read back.
#[derive(Debug)]
pub struct UnitRequest {
    pub report_id: i64,
    pub external_id: Option<String>,
    pub token: Option<String>,
    pub remote_closed: bool,
    pub remote_notes: Option<String>,
    pub remote_expected: Option<NaiveDate>,
}

/// The unit's reports that are still open here and known to its endpoint: what polling asks
/// about (at most `limit`, the longest unasked first).
pub async fn open_requests(
    conn: &mut PgConnection,
    unit: &str,
    limit: i64,
) -> sqlx::Result<Vec<UnitRequest>> {
    sqlx::query_as!(
        UnitRequest,
        "SELECT q.report_id, q.external_id, q.token, q.remote_closed, q.remote_notes, q.remote_expected
         FROM unit_requests q JOIN reports r ON r.id = q.report_id JOIN statuses s ON s.code = r.status
         WHERE q.unit_code = $1 AND r.unit_code = $1 AND s.is_open
         ORDER BY q.polled_at NULLS FIRST, q.report_id LIMIT $2",
        unit,
        limit
    )
    .fetch_all(conn)
    .await
}

/// The id a token turned into.
pub async fn set_external_id(
    conn: &mut PgConnection,
    report_id: i64,
    unit: &str,
    external_id: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE unit_requests SET external_id = $3 WHERE report_id = $1 AND unit_code = $2",
        report_id,
        unit,
        external_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// What polling read back (applied or not: the next poll compares with it).
pub async fn record_remote(
    conn: &mut PgConnection,
    report_id: i64,
    unit: &str,
    closed: bool,
    notes: Option<&str>,
    expected: Option<NaiveDate>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE unit_requests SET remote_closed = $3, remote_notes = $4, remote_expected = $5, polled_at = now()
         WHERE report_id = $1 AND unit_code = $2",
        report_id,
        unit,
        closed,
        notes,
        expected
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks the requests asked about, whatever the answer (so the others get their turn).
pub async fn mark_polled(conn: &mut PgConnection, unit: &str, ids: &[i64]) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE unit_requests SET polled_at = now() WHERE unit_code = $1 AND report_id = ANY($2)",
        unit,
        ids
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A point of the report's geometry (on a line or inside an area), as (lon, lat): where an
/// Open311 endpoint, which knows only points, is told the report is.
pub async fn point_of(conn: &mut PgConnection, report_id: i64) -> sqlx::Result<Option<(f64, f64)>> {
    let r = sqlx::query!(
        r#"SELECT ST_X(p) AS "lon!", ST_Y(p) AS "lat!" FROM (SELECT ST_PointOnSurface(geom) AS p FROM reports WHERE id = $1) q"#,
        report_id
    )
    .fetch_optional(conn)
    .await?;
    Ok(r.map(|r| (r.lon, r.lat)))
}
