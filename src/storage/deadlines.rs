//! Deadlines: the open reports whose dates may call for an escalation, the record that an
//! escalation or a weekly digest went out, and what a digest lists.
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;

/// An open, routed report with a date to keep.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Watched {
    pub id: i64,
    pub category: String,
    pub unit_code: String,
    pub created_at: DateTime<Utc>,
    pub expected_at: Option<NaiveDate>,
    pub response_due: Option<NaiveDate>,
    /// Still in the initial status: nobody has answered it yet.
    pub unanswered: bool,
    pub address_label: Option<String>,
}

pub async fn watched(conn: &mut PgConnection) -> sqlx::Result<Vec<Watched>> {
    sqlx::query_as!(
        Watched,
        r#"SELECT r.id, r.category, r.unit_code AS "unit_code!", r.created_at, r.expected_at, r.response_due,
                  (s.role IS NOT DISTINCT FROM 'initial') AS "unanswered!", r.address_label
           FROM reports r JOIN statuses s ON s.code = r.status
           WHERE s.is_open AND NOT r.held AND r.duplicate_of IS NULL AND r.unit_code IS NOT NULL
             AND (r.expected_at IS NOT NULL OR r.response_due IS NOT NULL)
           ORDER BY r.id"#
    )
    .fetch_all(conn)
    .await
}

/// Records an escalation; false when it was already recorded (by this or another process).
pub async fn record_escalation(
    conn: &mut PgConnection,
    report_id: i64,
    kind: &str,
    deadline: NaiveDate,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "INSERT INTO escalations (report_id, kind, deadline) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        report_id,
        kind,
        deadline
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a unit's digest of the week starting `week`; false when it was already sent.
pub async fn record_digest(
    conn: &mut PgConnection,
    unit: &str,
    week: NaiveDate,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "INSERT INTO unit_digests (unit_code, week) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        unit,
        week
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The addresses and languages of the active admins (their logins are email addresses).
pub async fn admins(conn: &mut PgConnection) -> sqlx::Result<Vec<(String, String)>> {
    let rows = sqlx::query!(
        "SELECT login, lang FROM users WHERE 'admin' = ANY(roles) AND NOT disabled AND login LIKE '%@%' ORDER BY login"
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.login, r.lang)).collect())
}
