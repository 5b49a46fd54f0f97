//! The mail outbox: messages are written in the same transaction as the change they report and
//! sent later by the mail worker (`crate::mail`), so an outage of the mail server delays them but
//! never loses one.
use sqlx::{PgConnection, Postgres, Transaction};

/// Who hears about a report's changes: its reporter (when they left an email) and every
/// subscriber, once per address, each with their language; not those who stopped the updates.
pub async fn recipients(
    conn: &mut PgConnection,
    report_id: i64,
) -> sqlx::Result<Vec<(String, String)>> {
    let rows = sqlx::query!(
        r#"SELECT DISTINCT ON (lower(email)) email AS "email!", lang AS "lang!" FROM (
             SELECT contact_email AS email, lang, 0 AS o FROM reports
              WHERE id = $1 AND contact_email IS NOT NULL AND NOT updates_off
             UNION ALL SELECT email, lang, 1 FROM subscriptions WHERE report_id = $1 AND NOT paused) m
         ORDER BY lower(email), o"#,
        report_id
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.email, r.lang)).collect())
}

/// Queues a message about a report (or, with `None`, about several: a digest).
pub async fn queue(
    conn: &mut PgConnection,
    report_id: impl Into<Option<i64>>,
    to: &str,
    subject: &str,
    body: &str,
) -> sqlx::Result<()> {
    queue_html(conn, report_id, to, subject, body, None).await
}

/// As [`queue`], with an HTML version of the text sent beside it.
pub async fn queue_html(
    conn: &mut PgConnection,
    report_id: impl Into<Option<i64>>,
    to: &str,
    subject: &str,
    body: &str,
    html: Option<&str>,
) -> sqlx::Result<()> {
    let report_id: Option<i64> = report_id.into();
    sqlx::query!(
        "INSERT INTO outbox (report_id, to_email, subject, body, html_body) VALUES ($1, $2, $3, $4, $5)",
        report_id,
        to,
        subject,
        body,
        html
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Wakes the mail workers when the transaction commits.
pub async fn wake_workers(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query!("SELECT pg_notify('zglos_outbox', '')")
        .execute(conn)
        .await?;
    Ok(())
}

/// A message waiting to be sent.
#[derive(Debug)]
pub struct Pending {
    pub id: i64,
    pub to_email: String,
    pub subject: String,
    pub body: String,
    pub html_body: Option<String>,
    pub attempts: i32,
}

/// Up to `limit` messages that are due, locked for this transaction. SKIP LOCKED: several
/// service processes can run workers without sending twice.
pub async fn due(tx: &mut Transaction<'_, Postgres>, limit: i64) -> sqlx::Result<Vec<Pending>> {
    sqlx::query_as!(
        Pending,
        "SELECT id, to_email, subject, body, html_body, attempts FROM outbox
         WHERE sent_at IS NULL AND dead_at IS NULL AND next_attempt_at <= now() ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
        limit
    )
    .fetch_all(&mut **tx)
    .await
}

pub async fn mark_sent(conn: &mut PgConnection, id: i64) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE outbox SET sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = $1",
        id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a failed attempt; the next one is due after `pause_secs`, or, at `max_attempts`, the
/// message is dead (it waits in the dead-letter list for an admin). True when it died.
pub async fn mark_failed(
    conn: &mut PgConnection,
    id: i64,
    error: &str,
    pause_secs: f64,
    max_attempts: i32,
) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"UPDATE outbox SET attempts = attempts + 1, last_error = $2,
             next_attempt_at = now() + make_interval(secs => $3),
             dead_at = CASE WHEN attempts + 1 >= $4 THEN now() END
           WHERE id = $1 RETURNING dead_at IS NOT NULL AS "dead!""#,
        id,
        error,
        pause_secs,
        max_attempts
    )
    .fetch_one(conn)
    .await
}
