//! The SQL of what city staff do: sessions and login failures, the inbox, a report's history,
//! and the statements that change a report (status, unit, merge, category, geometry), its
//! timeline and the audit log. The rules that decide what to change live in `domain::workflow`
//! and `app::staff`; every function here takes a connection or a transaction and returns rows.
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use sqlx::{Executor, PgConnection, PgExecutor, PgPool, Postgres, QueryBuilder};

use super::reports::{PublicReport, PUBLIC_JOINS, STAFF_COLUMNS};
use crate::domain::workflow::ResolvedAt;

/// Failed logins within the last `window_minutes`: for this login, and from this address.
pub async fn login_failures(
    pool: &PgPool,
    login: &str,
    ip: &str,
    window_minutes: i32,
) -> sqlx::Result<(i64, i64)> {
    let row = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE login = $1) AS "by_login!", count(*) FILTER (WHERE ip = $2) AS "by_ip!"
         FROM login_failures WHERE at > now() - make_interval(mins => $3)"#,
        login,
        ip,
        window_minutes
    )
    .fetch_one(pool)
    .await?;
    Ok((row.by_login, row.by_ip))
}

/// An account's id, password hash and whether it is disabled.
pub async fn account(pool: &PgPool, login: &str) -> sqlx::Result<Option<(i64, String, bool)>> {
    let row = sqlx::query!(
        "SELECT id, password_hash, disabled FROM users WHERE login = $1",
        login
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| (r.id, r.password_hash, r.disabled)))
}

pub async fn record_login_failure(pool: &PgPool, login: &str, ip: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO login_failures (login, ip) VALUES ($1, $2)",
        login,
        ip
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn clear_login_failures(pool: &PgPool, login: &str) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM login_failures WHERE login = $1", login)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn create_session(
    pool: &PgPool,
    token_hash: &str,
    user_id: i64,
    csrf_token: &str,
    hours: i32,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(hours => $4))",
        token_hash,
        user_id,
        csrf_token,
        hours
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn delete_session(pool: &PgPool, token_hash: &str) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM sessions WHERE token_hash = $1", token_hash)
        .execute(pool)
        .await?;
    Ok(())
}

/// A report as staff see it: the public fields plus unit rule, contact and timing.
#[derive(Debug, sqlx::FromRow)]
pub struct StaffReport {
    #[sqlx(flatten)]
    pub public: PublicReport,
    pub routing_rule: Option<String>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// The dates from the city's targets, set at routing (None without a target).
    pub response_due: Option<NaiveDate>,
    pub fix_due: Option<NaiveDate>,
    pub overdue: bool,
    pub age_days: f64,
}

/// Open reports older than this many days without an expected date or a target count as overdue.
pub const OVERDUE_DAYS: i32 = 14;

/// Today in the city (its calendar's time zone; see `domain::calendar`).
pub const CITY_TODAY: &str =
    "(now() AT TIME ZONE (SELECT COALESCE(calendar->>'time_zone', 'Europe/Warsaw') FROM city WHERE id))::date";

/// Whether a report `r` in status `s` is overdue: open and past the date residents were given,
/// or still waiting for a first response after its response date, or (with neither date) older
/// than [`OVERDUE_DAYS`].
fn overdue_sql() -> String {
    format!(
        "COALESCE(s.is_open AND (r.expected_at < {CITY_TODAY}
            OR (s.role IS NOT DISTINCT FROM 'initial' AND r.response_due < {CITY_TODAY})
            OR (r.expected_at IS NULL AND r.response_due IS NULL
                AND r.created_at < now() - make_interval(days => {OVERDUE_DAYS}))), false)"
    )
}

/// The public columns as staff see them (see [`STAFF_COLUMNS`]) and the staff ones.
pub(super) fn staff_select() -> String {
    format!(
        "SELECT {STAFF_COLUMNS}, r.routing_rule, r.contact_name, r.contact_email, r.contact_phone, r.resolved_at,
            r.response_due, r.fix_due, {} AS overdue,
            EXTRACT(EPOCH FROM now() - r.created_at)::float8 / 86400 AS age_days
        FROM reports r JOIN statuses s ON s.code = r.status {PUBLIC_JOINS}",
        overdue_sql()
    )
}

impl StaffReport {
    pub fn to_feature(&self) -> Value {
        let mut f = self.public.to_feature();
        let p = &mut f["properties"];
        p["routing_rule"] = json!(self.routing_rule);
        p["contact"] = json!({"name": self.contact_name, "email": self.contact_email, "phone": self.contact_phone});
        p["resolved_at"] = json!(self.resolved_at);
        p["response_due"] = json!(self.response_due);
        p["fix_due"] = json!(self.fix_due);
        p["overdue"] = json!(self.overdue);
        p["age_days"] = json!((self.age_days * 10.0).round() / 10.0);
        f
    }
}

pub async fn staff_report(
    executor: impl PgExecutor<'_>,
    id: i64,
) -> sqlx::Result<Option<StaffReport>> {
    let sql = format!("{} WHERE r.id = $1", staff_select());
    sqlx::query_as::<_, StaffReport>(&sql)
        .bind(id)
        .fetch_optional(executor)
        .await
}

#[derive(Debug, Default)]
pub struct InboxFilter {
    pub units: Vec<String>,
    pub statuses: Vec<String>,
    pub categories: Vec<String>,
    pub districts: Vec<i32>,
    pub older_than_days: Option<i64>,
    pub near_border: Option<bool>,
    pub oldest_first: bool,
    pub after: Option<(DateTime<Utc>, i64)>,
    pub limit: i64,
}

fn push_inbox_filters(q: &mut QueryBuilder<'_, Postgres>, f: &InboxFilter) {
    // Held reports are not routed: they wait in the moderation queue instead.
    q.push(" WHERE NOT r.held AND r.unit_code = ANY(")
        .push_bind(f.units.clone())
        .push(")");
    if !f.statuses.is_empty() {
        q.push(" AND r.status = ANY(")
            .push_bind(f.statuses.clone())
            .push(")");
    }
    if !f.categories.is_empty() {
        q.push(" AND r.category = ANY(")
            .push_bind(f.categories.clone())
            .push(")");
    }
    if !f.districts.is_empty() {
        q.push(" AND r.district_id = ANY(")
            .push_bind(f.districts.clone())
            .push(")");
    }
    if let Some(days) = f.older_than_days {
        q.push(" AND r.created_at < now() - make_interval(days => ")
            .push_bind(days as i32)
            .push(")");
    }
    if let Some(nb) = f.near_border {
        q.push(" AND r.near_border = ").push_bind(nb);
    }
}

pub async fn inbox(pool: &PgPool, f: &InboxFilter) -> sqlx::Result<Vec<StaffReport>> {
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new(staff_select());
    push_inbox_filters(&mut q, f);
    let (cmp, order) = if f.oldest_first {
        (">", "ASC")
    } else {
        ("<", "DESC")
    };
    if let Some((at, id)) = f.after {
        q.push(format!(" AND (r.created_at, r.id) {cmp} ("))
            .push_bind(at)
            .push(", ")
            .push_bind(id)
            .push(")");
    }
    q.push(format!(
        " ORDER BY r.created_at {order}, r.id {order} LIMIT "
    ))
    .push_bind(f.limit);
    q.build_query_as::<StaffReport>().fetch_all(pool).await
}

#[derive(sqlx::FromRow)]
struct Counts {
    open: i64,
    overdue: i64,
    new: i64,
}

/// Open, overdue and new (in `initial` status) reports of the units.
pub async fn inbox_counts(
    pool: &PgPool,
    units: &[String],
    initial: &str,
) -> sqlx::Result<(i64, i64, i64)> {
    let sql = format!(
        "SELECT count(*) FILTER (WHERE s.is_open) AS open,
                count(*) FILTER (WHERE {}) AS overdue,
                count(*) FILTER (WHERE r.status = $2) AS new
         FROM reports r JOIN statuses s ON s.code = r.status WHERE r.unit_code = ANY($1) AND NOT r.held",
        overdue_sql()
    );
    let row: Counts = sqlx::query_as(&sql)
        .bind(units)
        .bind(initial)
        .fetch_one(pool)
        .await?;
    Ok((row.open, row.overdue, row.new))
}

/// One entry of a report's whole timeline, internal notes included.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct InternalEvent {
    pub at: DateTime<Utc>,
    pub kind: String,
    pub status: Option<String>,
    #[sqlx(rename = "public_note")]
    pub note: Option<String>,
    pub internal_note: Option<String>,
    pub actor: Option<String>,
}

/// One entry of a report's audit log.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// The whole timeline (internal notes included) and the audit log.
pub async fn history(
    pool: &PgPool,
    id: i64,
) -> sqlx::Result<(Vec<InternalEvent>, Vec<AuditEntry>)> {
    let events = sqlx::query_as!(
        InternalEvent,
        "SELECT at, kind, status, public_note AS note, internal_note, actor FROM report_events WHERE report_id = $1 ORDER BY at, id",
        id
    )
    .fetch_all(pool)
    .await?;
    let audit = sqlx::query_as!(
        AuditEntry,
        "SELECT at, actor, action, before, after FROM audit_log WHERE report_id = $1 ORDER BY at, id",
        id
    )
    .fetch_all(pool)
    .await?;
    Ok((events, audit))
}

/// A report's category, if the report exists.
pub async fn report_category(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!("SELECT category FROM reports WHERE id = $1", id)
        .fetch_optional(conn)
        .await
}

/// Locks a report's row for the rest of the transaction.
pub async fn lock_row(conn: &mut PgConnection, id: i64) -> sqlx::Result<()> {
    conn.execute(sqlx::query!(
        "SELECT id FROM reports WHERE id = $1 FOR UPDATE",
        id
    ))
    .await?;
    Ok(())
}

/// Writes an audit entry; `user_id` is `None` for the reporter.
pub async fn insert_audit(
    conn: &mut PgConnection,
    user_id: Option<i64>,
    actor: &str,
    action: &str,
    id: i64,
    before: &Value,
    after: &Value,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO audit_log (user_id, actor, action, report_id, before, after) VALUES ($1, $2, $3, $4, $5, $6)",
        user_id,
        actor,
        action,
        id,
        before,
        after
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// An entry of the report's timeline: `public` shows on the tracking page, `internal` to staff.
pub struct Event<'a> {
    pub kind: &'a str,
    pub status: Option<&'a str>,
    pub public: Option<&'a str>,
    pub internal: Option<&'a str>,
    pub actor: &'a str,
}

pub async fn insert_event(conn: &mut PgConnection, id: i64, e: Event<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO report_events (report_id, kind, status, public_note, internal_note, actor) VALUES ($1, $2, $3, $4, $5, $6)",
        id,
        e.kind,
        e.status,
        e.public,
        e.internal,
        e.actor
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Sets a report's status; `expected_at` replaces the expected date when given.
pub async fn set_status(
    conn: &mut PgConnection,
    id: i64,
    status: &str,
    expected_at: Option<NaiveDate>,
    resolved_at: ResolvedAt,
) -> sqlx::Result<()> {
    // One statement, checked in each of its three forms.
    macro_rules! set_status {
        ($resolved:tt) => {
            sqlx::query!(
                "UPDATE reports SET status = $2, expected_at = COALESCE($3, expected_at), resolved_at = "
                    + $resolved
                    + " WHERE id = $1",
                id,
                status,
                expected_at
            )
            .execute(conn)
            .await?
        };
    }
    match resolved_at {
        ResolvedAt::Stamp => set_status!("now()"),
        ResolvedAt::Clear => set_status!("NULL"),
        ResolvedAt::Keep => set_status!("resolved_at"),
    };
    Ok(())
}

/// Gives a report to another unit by hand, optionally with a new status.
pub async fn set_unit(
    conn: &mut PgConnection,
    id: i64,
    unit: &str,
    status: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE reports SET status = COALESCE($3, status), unit_code = $2, routing_rule = 'manual' WHERE id = $1",
        id,
        unit,
        status
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Attaches an uploaded photo as an "after" photo; false when it is unknown or in use.
pub async fn attach_after_photo(
    conn: &mut PgConnection,
    id: i64,
    photo: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE photos SET report_id = $1, kind = 'after' WHERE id = $2 AND report_id IS NULL",
        id,
        photo
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Adds a resident's photo (uploaded, not yet used) to the report's own photos.
pub async fn attach_resident_photo(
    conn: &mut PgConnection,
    id: i64,
    photo: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE photos SET report_id = $1, kind = 'report' WHERE id = $2 AND report_id IS NULL",
        id,
        photo
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether `email` gave the report or follows it.
pub async fn is_reporter(conn: &mut PgConnection, id: i64, email: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM reports WHERE id = $1 AND lower(contact_email) = lower($2))
             OR EXISTS (SELECT 1 FROM subscriptions WHERE report_id = $1 AND lower(email) = lower($2)) AS "is_reporter!""#,
        id,
        email
    )
    .fetch_one(conn)
    .await
}

/// `id` becomes a duplicate (`status`) of `into`, which takes over its duplicates, its
/// supporters and its subscribers.
pub async fn merge(
    conn: &mut PgConnection,
    id: i64,
    into: i64,
    status: &str,
    supporters: i32,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE reports SET duplicate_of = $2, status = $3 WHERE id = $1",
        id,
        into,
        status
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE reports SET duplicate_of = $2 WHERE duplicate_of = $1",
        id,
        into
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE reports SET supporters = supporters + $2 WHERE id = $1",
        into,
        supporters
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE subscriptions SET report_id = $2 WHERE report_id = $1 AND email NOT IN (SELECT email FROM subscriptions WHERE report_id = $2)",
        id,
        into
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// `id` is an original again (`status`); `original` gives back its supporters.
pub async fn unmerge(
    conn: &mut PgConnection,
    id: i64,
    original: i64,
    status: &str,
    supporters: i32,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE reports SET duplicate_of = NULL, status = $2 WHERE id = $1",
        id,
        status
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE reports SET supporters = GREATEST(1, supporters - $2) WHERE id = $1",
        original,
        supporters
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn set_category(conn: &mut PgConnection, id: i64, category: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE reports SET category = $2 WHERE id = $1",
        id,
        category
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A new geometry (GeoJSON), its anchor point and where it lies (district, border, address).
pub async fn set_geometry(
    conn: &mut PgConnection,
    id: i64,
    geojson: &str,
    anchor: (f64, f64),
    district_id: Option<i32>,
    near_border: bool,
    address: Option<&crate::domain::Address>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE reports SET geom = ST_SetSRID(ST_GeomFromGeoJSON($2), 4326), anchor = ST_SetSRID(ST_MakePoint($3, $4), 4326),
             district_id = $5, near_border = $6, address_street = $7, address_number = $8, address_label = $9
         WHERE id = $1",
        id,
        geojson,
        anchor.0,
        anchor.1,
        district_id,
        near_border,
        address.and_then(|a| a.street.as_deref()),
        address.and_then(|a| a.number.as_deref()),
        address.map(|a| a.label.as_str())
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Figures of one district or unit (`key`) for `/stats`.
#[derive(Debug)]
pub struct StatsRow {
    pub key: Option<String>,
    pub reported: i64,
    pub resolved: i64,
    pub open: i64,
    pub median_days: Option<f64>,
}

/// Reported / resolved / open / median days to resolve of originals, grouped by `$group` (one
/// statement, checked for each grouping).
macro_rules! stats_by {
    ($pool:expr, $group:tt) => {
        sqlx::query_as!(
            StatsRow,
            "SELECT " + $group + r#" AS key, count(*) AS "reported!", count(*) FILTER (WHERE r.resolved_at IS NOT NULL) AS "resolved!",
             count(*) FILTER (WHERE s.is_open) AS "open!",
             percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM r.resolved_at - r.created_at) / 86400)
                 FILTER (WHERE r.resolved_at IS NOT NULL) AS median_days
         FROM reports r JOIN statuses s ON s.code = r.status
         WHERE r.duplicate_of IS NULL GROUP BY "# + $group
        )
        .fetch_all($pool)
        .await
    };
}

pub async fn stats_by_district(pool: &PgPool) -> sqlx::Result<Vec<StatsRow>> {
    stats_by!(pool, "r.district_id::text")
}

pub async fn stats_by_unit(pool: &PgPool) -> sqlx::Result<Vec<StatsRow>> {
    stats_by!(pool, "r.unit_code")
}

/// Districts (id, name) and units (code, name), in order.
pub async fn districts_and_units(
    pool: &PgPool,
) -> sqlx::Result<(Vec<(i32, String)>, Vec<(String, String)>)> {
    let districts = sqlx::query!("SELECT id, name FROM districts ORDER BY id")
        .fetch_all(pool)
        .await?;
    let units = sqlx::query!("SELECT code, name FROM units ORDER BY code")
        .fetch_all(pool)
        .await?;
    Ok((
        districts.into_iter().map(|d| (d.id, d.name)).collect(),
        units.into_iter().map(|u| (u.code, u.name)).collect(),
    ))
}

/// What the deadline statistics need of one original report filed since `since`.
#[derive(Debug, sqlx::FromRow)]
pub struct DeadlineFacts {
    pub unit_code: Option<String>,
    pub category: String,
    pub created_at: DateTime<Utc>,
    /// The first status change by staff.
    pub first_response_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub fix_due: Option<NaiveDate>,
    pub expected_at: Option<NaiveDate>,
    /// Reopened (by its reporter or by staff) after it had been resolved.
    pub reopened: bool,
}

/// The facts of every original filed since `since`; `resolved` is the workflow's resolved
/// status (a move from it back to an open status, by anyone, is a reopening).
pub async fn deadline_facts(
    pool: &PgPool,
    since: DateTime<Utc>,
    resolved: &str,
) -> sqlx::Result<Vec<DeadlineFacts>> {
    sqlx::query_as!(
        DeadlineFacts,
        r#"SELECT r.unit_code, r.category, r.created_at,
                (SELECT min(e.at) FROM report_events e
                  WHERE e.report_id = r.id AND e.kind IN ('status', 'rejected')) AS first_response_at,
                r.resolved_at, r.fix_due, r.expected_at,
                EXISTS (SELECT 1 FROM report_events e JOIN statuses s ON s.code = e.status
                         WHERE e.report_id = r.id AND s.is_open
                           AND e.at > (SELECT min(x.at) FROM report_events x
                                        WHERE x.report_id = r.id AND x.status = $2)) AS "reopened!"
           FROM reports r
          WHERE r.duplicate_of IS NULL AND NOT r.held AND r.created_at >= $1
          ORDER BY r.created_at"#,
        since,
        resolved
    )
    .fetch_all(pool)
    .await
}

/// Reports still in the resolved status, resolved before `before`.
pub async fn resolved_before(
    pool: &PgPool,
    resolved: &str,
    before: DateTime<Utc>,
) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar!(
        "SELECT id FROM reports WHERE status = $1 AND resolved_at < $2 ORDER BY id",
        resolved,
        before
    )
    .fetch_all(pool)
    .await
}
