//! What city staff do to reports: sessions, the inbox, status changes with notes, merging,
//! rerouting and editing. Every change holds the report's category lock (see `lock_category`),
//! writes the audit log, queues mail to the reporter and subscribers, and notifies other processes.
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};

use super::lock_category;
use super::reports::{catch_up, PublicReport, PUBLIC_COLUMNS, PUBLIC_JOINS};
use crate::auth::{random_token, sha256_hex, verify_password, StaffUser};
use crate::engine::Engine;
use crate::error::{ApiError, ApiResult};
use crate::mail::status_message;

/// Failed logins allowed per account and per address in `WINDOW_MINUTES`.
pub const MAX_FAILURES_PER_LOGIN: i64 = 5;
pub const MAX_FAILURES_PER_IP: i64 = 20;
pub const WINDOW_MINUTES: i32 = 15;
pub const SESSION_HOURS: i32 = 12;

pub enum Login {
    Ok { token: String },
    Invalid,
    Throttled,
}

pub async fn login(pool: &PgPool, login: &str, password: &str, ip: &str) -> ApiResult<Login> {
    let login = login.trim().to_lowercase();
    let (by_login, by_ip): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE login = $1), count(*) FILTER (WHERE ip = $2)
         FROM login_failures WHERE at > now() - make_interval(mins => $3)",
    )
    .bind(&login)
    .bind(ip)
    .bind(WINDOW_MINUTES)
    .fetch_one(pool)
    .await?;
    if by_login >= MAX_FAILURES_PER_LOGIN || by_ip >= MAX_FAILURES_PER_IP {
        return Ok(Login::Throttled);
    }
    let user: Option<(i64, String, bool)> =
        sqlx::query_as("SELECT id, password_hash, disabled FROM users WHERE login = $1")
            .bind(&login)
            .fetch_optional(pool)
            .await?;
    // Verify against a dummy hash when the account does not exist, so timing does not tell.
    let ok = match &user {
        Some((_, hash, disabled)) => verify_password(password, hash) && !disabled,
        None => {
            static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
            let dummy = DUMMY.get_or_init(|| {
                crate::auth::hash_password("no such account here").unwrap_or_default()
            });
            verify_password(password, dummy);
            false
        }
    };
    let Some((user_id, _, _)) = user.filter(|_| ok) else {
        sqlx::query("INSERT INTO login_failures (login, ip) VALUES ($1, $2)")
            .bind(&login)
            .bind(ip)
            .execute(pool)
            .await?;
        return Ok(Login::Invalid);
    };
    let token = random_token();
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at) VALUES ($1, $2, $3, now() + make_interval(hours => $4))",
    )
    .bind(sha256_hex(&token))
    .bind(user_id)
    .bind(random_token())
    .bind(SESSION_HOURS)
    .execute(pool)
    .await?;
    sqlx::query("DELETE FROM login_failures WHERE login = $1")
        .bind(&login)
        .execute(pool)
        .await?;
    Ok(Login::Ok { token })
}

pub async fn logout(pool: &PgPool, token: &str) -> ApiResult<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(sha256_hex(token))
        .execute(pool)
        .await?;
    Ok(())
}

pub fn user_json(u: &StaffUser) -> Value {
    json!({"id": u.id, "login": u.login, "name": u.name, "roles": u.roles, "units": u.units, "lang": u.lang})
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
    pub expected_at: Option<NaiveDate>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub overdue: bool,
    pub age_days: f64,
}

/// Open reports older than this many days without an expected date count as overdue.
pub const OVERDUE_DAYS: i32 = 14;

/// The public columns (see [`PUBLIC_COLUMNS`]) and the staff ones.
fn staff_select() -> String {
    format!(
        "SELECT {PUBLIC_COLUMNS}, r.routing_rule, r.contact_name, r.contact_email, r.contact_phone, r.expected_at, r.resolved_at,
            COALESCE(s.is_open AND (r.expected_at < current_date
                OR (r.expected_at IS NULL AND r.created_at < now() - make_interval(days => {OVERDUE_DAYS}))), false) AS overdue,
            EXTRACT(EPOCH FROM now() - r.created_at)::float8 / 86400 AS age_days
        FROM reports r JOIN statuses s ON s.code = r.status {PUBLIC_JOINS}"
    )
}

impl StaffReport {
    pub fn to_feature(&self) -> Value {
        let mut f = self.public.to_feature();
        let p = &mut f["properties"];
        p["routing_rule"] = json!(self.routing_rule);
        p["contact"] = json!({"name": self.contact_name, "email": self.contact_email, "phone": self.contact_phone});
        p["expected_at"] = json!(self.expected_at);
        p["resolved_at"] = json!(self.resolved_at);
        p["overdue"] = json!(self.overdue);
        p["age_days"] = json!((self.age_days * 10.0).round() / 10.0);
        f
    }
}

pub async fn staff_report(executor: impl sqlx::PgExecutor<'_>, id: i64) -> ApiResult<StaffReport> {
    let sql = format!("{} WHERE r.id = $1", staff_select());
    sqlx::query_as::<_, StaffReport>(&sql)
        .bind(id)
        .fetch_optional(executor)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no report {id}")))
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
    q.push(" WHERE r.unit_code = ANY(")
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

pub async fn inbox(pool: &PgPool, f: &InboxFilter) -> ApiResult<(Vec<StaffReport>, Value)> {
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
    let rows = q.build_query_as::<StaffReport>().fetch_all(pool).await?;
    let (open, overdue, new): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE s.is_open),
                count(*) FILTER (WHERE s.is_open AND (r.expected_at < current_date
                    OR (r.expected_at IS NULL AND r.created_at < now() - make_interval(days => $2)))),
                count(*) FILTER (WHERE r.status = 'new')
         FROM reports r JOIN statuses s ON s.code = r.status WHERE r.unit_code = ANY($1)",
    )
    .bind(&f.units)
    .bind(OVERDUE_DAYS)
    .fetch_one(pool)
    .await?;
    Ok((rows, json!({"open": open, "overdue": overdue, "new": new})))
}

/// The whole timeline (internal notes included) and the audit log.
pub async fn history(pool: &PgPool, id: i64) -> ApiResult<(Vec<Value>, Vec<Value>)> {
    let events: Vec<(DateTime<Utc>, String, Option<String>, Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT at, kind, status, public_note, internal_note, actor FROM report_events WHERE report_id = $1 ORDER BY at, id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let audit: Vec<(DateTime<Utc>, String, String, Option<Value>, Option<Value>)> =
        sqlx::query_as("SELECT at, actor, action, before, after FROM audit_log WHERE report_id = $1 ORDER BY at, id")
            .bind(id)
            .fetch_all(pool)
            .await?;
    Ok((
        events
            .into_iter()
            .map(|(at, kind, status, note, internal, actor)| json!({"at": at, "kind": kind, "status": status, "note": note, "internal_note": internal, "actor": actor}))
            .collect(),
        audit.into_iter().map(|(at, actor, action, before, after)| json!({"at": at, "actor": actor, "action": action, "before": before, "after": after})).collect(),
    ))
}

pub async fn allowed_transitions(
    executor: impl sqlx::PgExecutor<'_>,
    from: &str,
) -> ApiResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT to_status FROM status_transitions WHERE from_status = $1 ORDER BY to_status",
    )
    .bind(from)
    .fetch_all(executor)
    .await?)
}

/// Locks a report's category and the row; returns the report as it is now.
async fn lock_report(tx: &mut PgConnection, id: i64) -> ApiResult<StaffReport> {
    let category: Option<String> = sqlx::query_scalar("SELECT category FROM reports WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    let category = category.ok_or_else(|| ApiError::not_found(format!("no report {id}")))?;
    lock_category(tx, &category).await?;
    sqlx::query("SELECT id FROM reports WHERE id = $1 FOR UPDATE")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    staff_report(&mut *tx, id).await
}

fn snapshot(r: &StaffReport) -> Value {
    let p = &r.public;
    json!({"status": p.status, "category": p.category, "unit": p.unit_code, "duplicate_of": p.duplicate_of,
           "expected_at": r.expected_at, "geometry": serde_json::from_str::<Value>(&p.geometry).unwrap_or(Value::Null)})
}

async fn audit(
    tx: &mut PgConnection,
    user: &StaffUser,
    action: &str,
    id: i64,
    before: &StaffReport,
) -> ApiResult<()> {
    let after = staff_report(&mut *tx, id).await?;
    sqlx::query("INSERT INTO audit_log (user_id, actor, action, report_id, before, after) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(user.id)
        .bind(&user.login)
        .bind(action)
        .bind(id)
        .bind(snapshot(before))
        .bind(snapshot(&after))
        .execute(&mut *tx)
        .await?;
    Ok(())
}

async fn event(
    tx: &mut PgConnection,
    id: i64,
    kind: &str,
    status: Option<&str>,
    public: Option<&str>,
    internal: Option<&str>,
    actor: &str,
) -> ApiResult<()> {
    sqlx::query("INSERT INTO report_events (report_id, kind, status, public_note, internal_note, actor) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(id)
        .bind(kind)
        .bind(status)
        .bind(public)
        .bind(internal)
        .bind(actor)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Queues a message to the reporter and every subscriber, each in their language.
async fn queue_mail(
    tx: &mut PgConnection,
    engine: &Engine,
    id: i64,
    status: &str,
    public_note: &str,
    base_url: &str,
) -> ApiResult<()> {
    let recipients: Vec<(String, String)> = sqlx::query_as(
        "SELECT DISTINCT ON (lower(email)) email, lang FROM (
             SELECT contact_email AS email, lang, 0 AS o FROM reports WHERE id = $1 AND contact_email IS NOT NULL
             UNION ALL SELECT email, lang, 1 FROM subscriptions WHERE report_id = $1) m
         ORDER BY lower(email), o",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    let status_row = engine.catalogue().status(status).map(|(_, s)| s.clone());
    for (email, lang) in recipients {
        let name = status_row
            .as_ref()
            .map(|s| {
                if lang == "en" {
                    s.name_en.clone()
                } else {
                    s.name_pl.clone()
                }
            })
            .unwrap_or_else(|| status.to_owned());
        let (subject, body) =
            status_message(&lang, id, &name, public_note, &format!("{base_url}/r/{id}"));
        sqlx::query(
            "INSERT INTO outbox (report_id, to_email, subject, body) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(&email)
        .bind(subject)
        .bind(body)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query("SELECT pg_notify('zglos_outbox', '')")
        .execute(&mut *tx)
        .await?;
    Ok(())
}

async fn finish(
    mut tx: sqlx::Transaction<'_, Postgres>,
    pool: &PgPool,
    engine: &Engine,
    categories: &[&str],
) -> ApiResult<()> {
    for c in categories {
        sqlx::query("SELECT pg_notify('zglos_reports', $1)")
            .bind(*c)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    for c in categories {
        catch_up(pool, engine, Some(c)).await?;
    }
    Ok(())
}

pub struct StatusChange {
    pub status: String,
    pub public_note: String,
    pub internal_note: Option<String>,
    pub expected_at: Option<NaiveDate>,
    pub unit: Option<String>,
    pub photos: Vec<String>,
}

pub async fn change_status(
    pool: &PgPool,
    engine: &Engine,
    user: &StaffUser,
    id: i64,
    change: &StatusChange,
    base_url: &str,
) -> ApiResult<()> {
    let mut tx = pool.begin().await?;
    let before = lock_report(&mut tx, id).await?;
    let allowed = allowed_transitions(&mut *tx, &before.public.status).await?;
    if !allowed.contains(&change.status) {
        return Err(ApiError::conflict(
            "transition_not_allowed",
            format!(
                "a report that is {} cannot become {}; allowed: {}",
                before.public.status,
                change.status,
                allowed.join(", ")
            ),
        )
        .at("status")
        .with_detail(json!({"from": before.public.status, "allowed": allowed})));
    }
    let actor = user.login.as_str();
    if change.status == "rejected" {
        // "Not ours": it goes to the unit it belongs to, which sees it as new.
        let unit = change.unit.as_deref().ok_or_else(|| {
            ApiError::unprocessable(
                "missing_field",
                "name the unit this report belongs to: it is rerouted there",
            )
            .at("unit")
        })?;
        if engine.catalogue().unit(unit).is_none() {
            return Err(
                ApiError::unprocessable("unknown_unit", format!("no unit {unit:?}")).at("unit"),
            );
        }
        if before.public.unit_code.as_deref() == Some(unit) {
            return Err(ApiError::unprocessable(
                "same_unit",
                "the report is already with that unit",
            )
            .at("unit"));
        }
        sqlx::query("UPDATE reports SET status = 'new', unit_code = $2, routing_rule = 'manual' WHERE id = $1")
            .bind(id)
            .bind(unit)
            .execute(&mut *tx)
            .await?;
        event(
            &mut tx,
            id,
            "rejected",
            Some("rejected"),
            Some(&change.public_note),
            change.internal_note.as_deref(),
            actor,
        )
        .await?;
        event(&mut tx, id, "rerouted", Some("new"), None, None, actor).await?;
    } else {
        sqlx::query(
            "UPDATE reports SET status = $2, expected_at = COALESCE($3, expected_at),
                 resolved_at = CASE WHEN $2 = 'resolved' THEN now() WHEN $2 IN ('acknowledged', 'planned', 'in_progress') THEN NULL ELSE resolved_at END
             WHERE id = $1",
        )
        .bind(id)
        .bind(&change.status)
        .bind(change.expected_at)
        .execute(&mut *tx)
        .await?;
        event(
            &mut tx,
            id,
            "status",
            Some(&change.status),
            Some(&change.public_note),
            change.internal_note.as_deref(),
            actor,
        )
        .await?;
    }
    for (i, photo) in change.photos.iter().enumerate() {
        let done = sqlx::query(
            "UPDATE photos SET report_id = $1, kind = 'after' WHERE id = $2 AND report_id IS NULL",
        )
        .bind(id)
        .bind(photo)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(ApiError::unprocessable(
                "unknown_photo",
                format!("photo {photo:?} was not uploaded or is in use"),
            )
            .at(format!("photos[{i}]")));
        }
    }
    audit(
        &mut tx,
        user,
        &format!("status:{}", change.status),
        id,
        &before,
    )
    .await?;
    queue_mail(
        &mut tx,
        engine,
        id,
        &change.status,
        &change.public_note,
        base_url,
    )
    .await?;
    finish(tx, pool, engine, &[&before.public.category]).await
}

/// How long after a report was resolved, rejected or closed its reporter may reopen it.
pub const REOPEN_DAYS: i32 = 30;

/// The reporter (the email given with the report, or a subscriber's) reopens a closed report
/// within [`REOPEN_DAYS`] of its last change: it goes back to "acknowledged" for its unit.
pub async fn reopen_by_reporter(
    pool: &PgPool,
    engine: &Engine,
    id: i64,
    email: &str,
    note: &str,
    base_url: &str,
) -> ApiResult<()> {
    let mut tx = pool.begin().await?;
    let before = lock_report(&mut tx, id).await?;
    let known: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM reports WHERE id = $1 AND lower(contact_email) = lower($2))
             OR EXISTS (SELECT 1 FROM subscriptions WHERE report_id = $1 AND lower(email) = lower($2))",
    )
    .bind(id)
    .bind(email)
    .fetch_one(&mut *tx)
    .await?;
    if !known {
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "not_the_reporter",
            "only the reporter or a subscriber of this report can reopen it",
        )
        .at("email"));
    }
    let allowed = allowed_transitions(&mut *tx, &before.public.status).await?;
    if before.public.status == "duplicate"
        || !allowed.iter().any(|s| s == "acknowledged")
        || engine
            .catalogue()
            .status(&before.public.status)
            .is_some_and(|(_, s)| s.is_open)
    {
        return Err(ApiError::conflict(
            "not_reopenable",
            format!(
                "a report that is {} cannot be reopened",
                before.public.status
            ),
        )
        .with_detail(json!({"status": before.public.status})));
    }
    if before.public.updated_at < Utc::now() - chrono::Duration::days(REOPEN_DAYS as i64) {
        return Err(ApiError::conflict(
            "reopen_window_passed",
            format!("a report can be reopened within {REOPEN_DAYS} days; please file a new one"),
        ));
    }
    sqlx::query("UPDATE reports SET status = 'acknowledged', resolved_at = NULL WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    event(
        &mut tx,
        id,
        "reopened",
        Some("acknowledged"),
        Some(note),
        None,
        "reporter",
    )
    .await?;
    sqlx::query("INSERT INTO audit_log (actor, action, report_id, before, after) VALUES ('reporter', 'reopen', $1, $2, $3)")
        .bind(id)
        .bind(snapshot(&before))
        .bind(json!({"status": "acknowledged"}))
        .execute(&mut *tx)
        .await?;
    queue_mail(&mut tx, engine, id, "acknowledged", note, base_url).await?;
    let category = before.public.category.clone();
    finish(tx, pool, engine, &[&category]).await
}

/// Merges `id` into `into` (an open original of the same category).
pub async fn merge(
    pool: &PgPool,
    engine: &Engine,
    user: &StaffUser,
    id: i64,
    into: i64,
    note: Option<&str>,
) -> ApiResult<()> {
    if id == into {
        return Err(ApiError::unprocessable(
            "invalid_merge",
            "a report cannot be merged into itself",
        )
        .at("into"));
    }
    let mut tx = pool.begin().await?;
    let before = lock_report(&mut tx, id).await?;
    let target = lock_report(&mut tx, into).await?;
    if target.public.duplicate_of.is_some() {
        return Err(ApiError::unprocessable(
            "invalid_merge",
            format!(
                "report {into} is itself a duplicate of {}",
                target.public.duplicate_of.unwrap_or_default()
            ),
        )
        .at("into"));
    }
    if before.public.duplicate_of.is_some() {
        return Err(ApiError::conflict(
            "already_merged",
            format!("report {id} is already a duplicate; unmerge it first"),
        ));
    }
    sqlx::query("UPDATE reports SET duplicate_of = $2, status = 'duplicate' WHERE id = $1")
        .bind(id)
        .bind(into)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE reports SET duplicate_of = $2 WHERE duplicate_of = $1")
        .bind(id)
        .bind(into)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE reports SET supporters = supporters + $2 WHERE id = $1")
        .bind(into)
        .bind(before.public.supporters)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE subscriptions SET report_id = $2 WHERE report_id = $1 AND email NOT IN (SELECT email FROM subscriptions WHERE report_id = $2)")
        .bind(id)
        .bind(into)
        .execute(&mut *tx)
        .await?;
    event(
        &mut tx,
        id,
        "duplicate",
        Some("duplicate"),
        Some(&format!("#{into}")),
        note,
        &user.login,
    )
    .await?;
    audit(&mut tx, user, "merge", id, &before).await?;
    finish(
        tx,
        pool,
        engine,
        &[&before.public.category, &target.public.category],
    )
    .await
}

/// Undoes a merge: the report is an original again, acknowledged.
pub async fn unmerge(pool: &PgPool, engine: &Engine, user: &StaffUser, id: i64) -> ApiResult<()> {
    let mut tx = pool.begin().await?;
    let before = lock_report(&mut tx, id).await?;
    let Some(original) = before.public.duplicate_of else {
        return Err(ApiError::conflict(
            "not_merged",
            format!("report {id} is not a duplicate"),
        ));
    };
    sqlx::query("UPDATE reports SET duplicate_of = NULL, status = 'acknowledged' WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE reports SET supporters = GREATEST(1, supporters - $2) WHERE id = $1")
        .bind(original)
        .bind(before.public.supporters)
        .execute(&mut *tx)
        .await?;
    event(
        &mut tx,
        id,
        "unmerged",
        Some("acknowledged"),
        None,
        None,
        &user.login,
    )
    .await?;
    audit(&mut tx, user, "unmerge", id, &before).await?;
    let category = before.public.category.clone();
    finish(tx, pool, engine, &[&category]).await
}

pub async fn reassign(
    pool: &PgPool,
    engine: &Engine,
    user: &StaffUser,
    id: i64,
    unit: &str,
    note: &str,
) -> ApiResult<()> {
    if engine.catalogue().unit(unit).is_none() {
        return Err(
            ApiError::unprocessable("unknown_unit", format!("no unit {unit:?}")).at("unit"),
        );
    }
    let mut tx = pool.begin().await?;
    let before = lock_report(&mut tx, id).await?;
    sqlx::query("UPDATE reports SET unit_code = $2, routing_rule = 'manual' WHERE id = $1")
        .bind(id)
        .bind(unit)
        .execute(&mut *tx)
        .await?;
    event(
        &mut tx,
        id,
        "reassigned",
        None,
        None,
        Some(note),
        &user.login,
    )
    .await?;
    audit(&mut tx, user, "reassign", id, &before).await?;
    let category = before.public.category.clone();
    finish(tx, pool, engine, &[&category]).await
}

/// Edits the category and/or geometry, keeping the reason; the report is re-placed (district,
/// border flag) where the geometry changed.
pub async fn edit(
    pool: &PgPool,
    engine: &Engine,
    user: &StaffUser,
    id: i64,
    category: Option<&str>,
    geometry: Option<(&crate::domain::ReportGeometry, &crate::catalogue::Placement)>,
    reason: &str,
) -> ApiResult<()> {
    let mut tx = pool.begin().await?;
    let before = lock_report(&mut tx, id).await?;
    if let Some(c) = category {
        lock_category(&mut tx, c).await?;
        sqlx::query("UPDATE reports SET category = $2 WHERE id = $1")
            .bind(id)
            .bind(c)
            .execute(&mut *tx)
            .await?;
    }
    if let Some((g, placement)) = geometry {
        let a = g.anchor();
        sqlx::query(
            "UPDATE reports SET geom = ST_SetSRID(ST_GeomFromGeoJSON($2), 4326), anchor = ST_SetSRID(ST_MakePoint($3, $4), 4326),
                 district_id = $5, near_border = $6 WHERE id = $1",
        )
        .bind(id)
        .bind(g.to_geojson())
        .bind(a.x())
        .bind(a.y())
        .bind(placement.district_id)
        .bind(placement.near_border)
        .execute(&mut *tx)
        .await?;
    }
    event(&mut tx, id, "edited", None, None, Some(reason), &user.login).await?;
    audit(&mut tx, user, "edit", id, &before).await?;
    let new_category = category.unwrap_or(&before.public.category).to_owned();
    finish(tx, pool, engine, &[&before.public.category, &new_category]).await
}

/// Reported / resolved / open / median days to resolve, per district and per unit.
pub async fn stats(pool: &PgPool) -> ApiResult<Value> {
    let per = |group: &str| {
        format!(
            "SELECT {group} AS key, count(*) AS reported, count(*) FILTER (WHERE r.resolved_at IS NOT NULL) AS resolved,
                 count(*) FILTER (WHERE s.is_open) AS open,
                 percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM r.resolved_at - r.created_at) / 86400)
                     FILTER (WHERE r.resolved_at IS NOT NULL) AS median_days
             FROM reports r JOIN statuses s ON s.code = r.status
             WHERE r.duplicate_of IS NULL GROUP BY {group}"
        )
    };
    type Row = (Option<String>, i64, i64, i64, Option<f64>);
    let by_district: Vec<Row> = sqlx::query_as(&per("r.district_id::text"))
        .fetch_all(pool)
        .await?;
    let by_unit: Vec<Row> = sqlx::query_as(&per("r.unit_code")).fetch_all(pool).await?;
    let districts: Vec<(i32, String)> =
        sqlx::query_as("SELECT id, name FROM districts ORDER BY id")
            .fetch_all(pool)
            .await?;
    let units: Vec<(String, String)> = sqlx::query_as("SELECT code, name FROM units ORDER BY code")
        .fetch_all(pool)
        .await?;
    let figures = |rows: &[Row], key: &str| -> Value {
        match rows.iter().find(|r| r.0.as_deref() == Some(key)) {
            Some((_, reported, resolved, open, median)) => {
                json!({"reported": reported, "resolved": resolved, "open": open,
                "median_days_to_resolve": median.map(|m| (m * 10.0).round() / 10.0)})
            }
            None => {
                json!({"reported": 0, "resolved": 0, "open": 0, "median_days_to_resolve": null})
            }
        }
    };
    let merge = |base: Value, extra: Value| -> Value {
        let mut b = base;
        if let (Some(o), Some(e)) = (b.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        b
    };
    Ok(json!({
        "districts": districts.iter().map(|(id, name)| merge(json!({"id": id, "name": name}), figures(&by_district, &id.to_string()))).collect::<Vec<_>>(),
        "units": units.iter().map(|(code, name)| merge(json!({"code": code, "name": name}), figures(&by_unit, code))).collect::<Vec<_>>(),
        "generated_at": Utc::now(),
    }))
}
