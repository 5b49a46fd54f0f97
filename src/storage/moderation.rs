//! Moderation and privacy in PostgreSQL (see migration 0010): the abuse list, held reports and
//! their queue, redaction, the link key, erasing a resident's contact, and retention.
//!
//! Every statement that updates `reports` runs while the caller holds the report's category lock
//! (see `storage::lock_category`): an update takes a new `rev`, which must grow in commit order.
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::{PgConnection, PgExecutor, PgPool};

use super::staff::StaffReport;
use crate::domain::moderation::{AbuseEntry, AbuseKind};

/// An abuse-list entry as stored.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct AbuseRow {
    pub id: i64,
    pub kind: String,
    pub value: String,
    pub note: Option<String>,
    pub added_by: String,
    pub added_at: DateTime<Utc>,
}

/// Adds an entry; None when the same kind and value are already listed.
pub async fn abuse_add(
    conn: &mut PgConnection,
    entry: &AbuseEntry,
    note: Option<&str>,
    added_by: &str,
) -> sqlx::Result<Option<AbuseRow>> {
    let net = (entry.kind == AbuseKind::Cidr).then_some(entry.value.as_str());
    sqlx::query_as!(
        AbuseRow,
        "INSERT INTO abuse_list (kind, value, net, note, added_by) VALUES ($1, $2, $3::text::cidr, $4, $5)
         ON CONFLICT (kind, value) DO NOTHING
         RETURNING id, kind, value, note, added_by, added_at",
        entry.kind.as_str(),
        entry.value,
        net,
        note,
        added_by
    )
    .fetch_optional(conn)
    .await
}

pub async fn abuse_list(executor: impl PgExecutor<'_>) -> sqlx::Result<Vec<AbuseRow>> {
    sqlx::query_as!(
        AbuseRow,
        "SELECT id, kind, value, note, added_by, added_at FROM abuse_list ORDER BY id"
    )
    .fetch_all(executor)
    .await
}

/// Removes an entry; returns it, or None when there is no such entry.
pub async fn abuse_remove(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<AbuseRow>> {
    sqlx::query_as!(
        AbuseRow,
        "DELETE FROM abuse_list WHERE id = $1 RETURNING id, kind, value, note, added_by, added_at",
        id
    )
    .fetch_optional(conn)
    .await
}

/// The first entry matching a submission's (normalised) email, phone or client address.
pub async fn abuse_match(
    conn: &mut PgConnection,
    email: Option<&str>,
    phone: Option<&str>,
    address: Option<&str>,
) -> sqlx::Result<Option<i64>> {
    if email.is_none() && phone.is_none() && address.is_none() {
        return Ok(None);
    }
    sqlx::query_scalar!(
        "SELECT id FROM abuse_list
         WHERE (kind = 'email' AND value = $1) OR (kind = 'phone' AND value = $2)
            OR (kind = 'cidr' AND $3::text IS NOT NULL AND $3::text::inet <<= net)
         ORDER BY id LIMIT 1",
        email,
        phone,
        address
    )
    .fetch_optional(conn)
    .await
}

/// Writes an audit entry with its reason; `report_id` is None for abuse-list changes, `user_id`
/// for the command line and residents.
#[allow(clippy::too_many_arguments)]
pub async fn audit(
    conn: &mut PgConnection,
    user_id: Option<i64>,
    actor: &str,
    action: &str,
    report_id: Option<i64>,
    reason: Option<&str>,
    before: Option<&Value>,
    after: Option<&Value>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO audit_log (user_id, actor, action, report_id, reason, before, after)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        user_id,
        actor,
        action,
        report_id,
        reason,
        before,
        after
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// One entry of the audit log, as the moderation views show it.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub report_id: Option<i64>,
    pub reason: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// The moderation-related audit entries (abuse list, holds, releases, rejections, redactions,
/// withdrawals, retention), newest first.
pub async fn audit_entries(pool: &PgPool, limit: i64) -> sqlx::Result<Vec<AuditRow>> {
    sqlx::query_as!(
        AuditRow,
        "SELECT id, at, actor, action, report_id, reason, before, after FROM audit_log
         WHERE split_part(action, ':', 1) IN ('abuse', 'moderation', 'redact', 'privacy', 'retention')
         ORDER BY id DESC LIMIT $1",
        limit
    )
    .fetch_all(pool)
    .await
}

/// A held report with what the moderation queue shows beside the staff view.
#[derive(Debug, sqlx::FromRow)]
pub struct HeldReport {
    #[sqlx(flatten)]
    pub report: StaffReport,
    pub moderation: Option<String>,
    pub hold_reason: Option<String>,
    pub moderated_at: Option<DateTime<Utc>>,
    pub moderation_note: Option<String>,
}

/// Held reports in `state` (`held` or `rejected`), of the units given (all when empty), oldest
/// first.
pub async fn queue(
    pool: &PgPool,
    state: &str,
    units: &[String],
    limit: i64,
) -> sqlx::Result<Vec<HeldReport>> {
    let select = super::staff::staff_select().replacen(
        " FROM reports r",
        ", r.moderation, r.hold_reason, r.moderated_at, r.moderation_note FROM reports r",
        1,
    );
    let sql = format!(
        "{select} WHERE r.moderation = $1 AND (cardinality($2::text[]) = 0 OR r.unit_code = ANY($2))
         ORDER BY r.created_at, r.id LIMIT $3"
    );
    sqlx::query_as::<_, HeldReport>(&sql)
        .bind(state)
        .bind(units)
        .bind(limit)
        .fetch_all(pool)
        .await
}

/// A report's moderation state, category and unit, locked for this transaction.
pub struct ModerationState {
    pub category: String,
    pub unit_code: Option<String>,
    pub moderation: Option<String>,
    pub geometry: String,
}

pub async fn lock_state(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<ModerationState>> {
    sqlx::query_as!(
        ModerationState,
        r#"SELECT category, unit_code, moderation, ST_AsGeoJSON(geom) AS "geometry!"
         FROM reports WHERE id = $1 FOR UPDATE"#,
        id
    )
    .fetch_optional(conn)
    .await
}

/// One more supporter for `original` if it is still an open, public original; true if so.
pub async fn confirm_original(
    conn: &mut PgConnection,
    original: i64,
    open_statuses: &[String],
) -> sqlx::Result<bool> {
    let row = sqlx::query_scalar!(
        "UPDATE reports SET supporters = supporters + 1
         WHERE id = $1 AND duplicate_of IS NULL AND status = ANY($2) AND NOT held RETURNING id",
        original,
        open_statuses
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.is_some())
}

/// Releases a held report: public again, in `status`, a duplicate of `duplicate_of` if given.
pub async fn release(
    conn: &mut PgConnection,
    id: i64,
    status: &str,
    duplicate_of: Option<i64>,
    note: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE reports SET moderation = 'released', moderated_at = now(), moderation_note = $4,
             status = $2, duplicate_of = $3
         WHERE id = $1",
        id,
        status,
        duplicate_of,
        note
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Rejects a held report: it stays stored and never becomes public.
pub async fn reject(conn: &mut PgConnection, id: i64, reason: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE reports SET moderation = 'rejected', moderated_at = now(), moderation_note = $2
         WHERE id = $1",
        id,
        reason
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Holds a report for staff because its reporter asked to withdraw it.
pub async fn hold_for_withdrawal(conn: &mut PgConnection, id: i64) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE reports SET hold_reason = 'withdrawal_requested', moderated_at = now(),
             moderation = CASE WHEN moderation = 'rejected' THEN 'rejected' ELSE 'held' END
         WHERE id = $1",
        id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Hides a report's description from the public.
pub async fn hide_description(conn: &mut PgConnection, id: i64, reason: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE reports SET description_hidden = $2 WHERE id = $1",
        id,
        reason
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Hides one of a report's photos from the public; false when the report has no such photo.
pub async fn hide_photo(
    conn: &mut PgConnection,
    id: i64,
    photo_id: &str,
    reason: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE photos SET hidden = $3 WHERE id = $2 AND report_id = $1",
        id,
        photo_id,
        reason
    )
    .execute(&mut *conn)
    .await?
    .rows_affected()
        > 0;
    if done {
        // The report's public view changed: a new `rev` tells the other processes.
        sqlx::query!("UPDATE reports SET rev = rev WHERE id = $1", id)
            .execute(conn)
            .await?;
    }
    Ok(done)
}

/// What staff see of a report's redactions: the original description and every photo.
#[derive(Debug, Serialize)]
pub struct Redactions {
    pub description: String,
    pub description_hidden: Option<String>,
    pub photos: Vec<PhotoRedaction>,
}

#[derive(Debug, Serialize)]
pub struct PhotoRedaction {
    pub id: String,
    pub hidden: Option<String>,
    pub original_dropped_at: Option<DateTime<Utc>>,
}

pub async fn redactions(pool: &PgPool, id: i64) -> sqlx::Result<Option<Redactions>> {
    let Some(r) = sqlx::query!(
        "SELECT description, description_hidden FROM reports WHERE id = $1",
        id
    )
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let photos = sqlx::query_as!(
        PhotoRedaction,
        "SELECT id, hidden, original_dropped_at FROM photos WHERE report_id = $1 ORDER BY created_at, id",
        id
    )
    .fetch_all(pool)
    .await?;
    Ok(Some(Redactions {
        description: r.description,
        description_hidden: r.description_hidden,
        photos,
    }))
}

/// A photo's bytes for staff, hidden or not.
pub async fn staff_photo(
    pool: &PgPool,
    id: &str,
    thumbnail: bool,
) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar!(
        r#"SELECT CASE WHEN $2 THEN thumbnail ELSE image END AS "bytes!" FROM photos WHERE id = $1"#,
        id,
        thumbnail
    )
    .fetch_optional(pool)
    .await
}

/// The key that signs links in mail to residents (generated by migration 0010).
pub async fn link_key(executor: impl PgExecutor<'_>) -> sqlx::Result<Vec<u8>> {
    sqlx::query_scalar!("SELECT value FROM server_secrets WHERE name = 'link_hmac'")
        .fetch_one(executor)
        .await
}

/// Whether the email with this hash is the report's reporter or one of its subscribers now.
pub async fn email_on_report(
    conn: &mut PgConnection,
    id: i64,
    email_hash: &str,
) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (
             SELECT 1 FROM reports WHERE id = $1 AND contact_email IS NOT NULL
                 AND encode(sha256(convert_to(lower(contact_email), 'UTF8')), 'hex') = $2
             UNION ALL
             SELECT 1 FROM subscriptions WHERE report_id = $1
                 AND encode(sha256(convert_to(lower(email), 'UTF8')), 'hex') = $2) AS "known!""#,
        id,
        email_hash
    )
    .fetch_one(conn)
    .await
}

/// What erasing an email from a report did.
#[derive(Debug, Default, Serialize)]
pub struct Forgotten {
    /// The reporter's contact (name, email, phone) was erased.
    pub contact_erased: bool,
    pub subscriptions_removed: u64,
    pub messages_cancelled: u64,
}

/// Erases the email with this hash from a report: the reporter's whole contact when it is
/// theirs, the subscription, the supporter's address, and every message not yet sent to it.
/// Stops (`on` false) or resumes the updates of report `id` for the email with this hash, as
/// its reporter or a subscriber; whether that email gets them, or None when it has no say.
pub async fn set_updates(
    conn: &mut PgConnection,
    id: i64,
    email_hash: &str,
    on: bool,
) -> sqlx::Result<Option<bool>> {
    let reporter = sqlx::query!(
        "UPDATE reports SET updates_off = NOT $3
         WHERE id = $1 AND contact_email IS NOT NULL
             AND encode(sha256(convert_to(lower(contact_email), 'UTF8')), 'hex') = $2",
        id,
        email_hash,
        on
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let subscriber = sqlx::query!(
        "UPDATE subscriptions SET paused = NOT $3 WHERE report_id = $1
             AND encode(sha256(convert_to(lower(email), 'UTF8')), 'hex') = $2",
        id,
        email_hash,
        on
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok((reporter + subscriber > 0).then_some(on))
}

/// What the email with this hash is to report `id`: (its reporter, a subscriber, gets updates).
pub async fn standing(
    conn: &mut PgConnection,
    id: i64,
    email_hash: &str,
) -> sqlx::Result<(bool, bool, bool)> {
    let r = sqlx::query!(
        r#"SELECT
             EXISTS (SELECT 1 FROM reports WHERE id = $1 AND contact_email IS NOT NULL
                       AND encode(sha256(convert_to(lower(contact_email), 'UTF8')), 'hex') = $2) AS "reporter!",
             EXISTS (SELECT 1 FROM subscriptions WHERE report_id = $1
                       AND encode(sha256(convert_to(lower(email), 'UTF8')), 'hex') = $2) AS "subscriber!",
             EXISTS (SELECT 1 FROM reports WHERE id = $1 AND contact_email IS NOT NULL AND NOT updates_off
                       AND encode(sha256(convert_to(lower(contact_email), 'UTF8')), 'hex') = $2)
             OR EXISTS (SELECT 1 FROM subscriptions WHERE report_id = $1 AND NOT paused
                       AND encode(sha256(convert_to(lower(email), 'UTF8')), 'hex') = $2) AS "updates!""#,
        id,
        email_hash
    )
    .fetch_one(conn)
    .await?;
    Ok((r.reporter, r.subscriber, r.updates))
}

pub async fn forget(conn: &mut PgConnection, id: i64, email_hash: &str) -> sqlx::Result<Forgotten> {
    let contact_erased = sqlx::query!(
        "UPDATE reports SET contact_email = NULL, contact_phone = NULL, contact_name = NULL,
             contact_erased_at = now()
         WHERE id = $1 AND contact_email IS NOT NULL
             AND encode(sha256(convert_to(lower(contact_email), 'UTF8')), 'hex') = $2",
        id,
        email_hash
    )
    .execute(&mut *conn)
    .await?
    .rows_affected()
        > 0;
    let subscriptions_removed = sqlx::query!(
        "DELETE FROM subscriptions WHERE report_id = $1
             AND encode(sha256(convert_to(lower(email), 'UTF8')), 'hex') = $2",
        id,
        email_hash
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    sqlx::query!(
        "UPDATE supports SET email = NULL WHERE report_id = $1 AND email IS NOT NULL
             AND encode(sha256(convert_to(lower(email), 'UTF8')), 'hex') = $2",
        id,
        email_hash
    )
    .execute(&mut *conn)
    .await?;
    let messages_cancelled = sqlx::query!(
        "DELETE FROM outbox WHERE report_id = $1 AND sent_at IS NULL
             AND encode(sha256(convert_to(lower(to_email), 'UTF8')), 'hex') = $2",
        id,
        email_hash
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(Forgotten {
        contact_erased,
        subscriptions_removed,
        messages_cancelled,
    })
}

/// The city's retention settings as imported (see `city.json`), if any.
pub async fn retention_settings(executor: impl PgExecutor<'_>) -> sqlx::Result<Option<Value>> {
    let v = sqlx::query_scalar!("SELECT retention FROM city")
        .fetch_optional(executor)
        .await?;
    Ok(v.flatten())
}

/// Stores the city's retention settings (the import of a city pack).
pub async fn set_retention_settings(
    executor: impl PgExecutor<'_>,
    settings: &Value,
) -> sqlx::Result<()> {
    sqlx::query!("UPDATE city SET retention = $1", settings)
        .execute(executor)
        .await?;
    Ok(())
}

/// When a report closed: its last status change, for a report in a closed status (or rejected
/// by moderation); None while it is open.
const CLOSED_AT: &str = "CASE WHEN r.moderation = 'rejected' THEN r.moderated_at
     WHEN s.is_open THEN NULL
     ELSE coalesce((SELECT max(e.at) FROM report_events e WHERE e.report_id = r.id AND e.status = r.status), r.updated_at) END";

/// Categories with reports closed before `before` that still carry a contact.
pub async fn retention_contact_due(
    pool: &PgPool,
    before: DateTime<Utc>,
) -> sqlx::Result<Vec<(String, i64)>> {
    let sql = format!(
        "SELECT r.category, count(*) FROM reports r JOIN statuses s ON s.code = r.status
         WHERE (r.contact_email IS NOT NULL OR r.contact_phone IS NOT NULL OR r.contact_name IS NOT NULL)
           AND ({CLOSED_AT}) < $1
         GROUP BY r.category ORDER BY r.category"
    );
    sqlx::query_as::<_, (String, i64)>(&sql)
        .bind(before)
        .fetch_all(pool)
        .await
}

/// Erases the contact of one category's reports closed before `before` (the caller holds the
/// category's lock); returns the ids.
pub async fn retention_erase_contacts(
    conn: &mut PgConnection,
    category: &str,
    before: DateTime<Utc>,
) -> sqlx::Result<Vec<i64>> {
    let sql = format!(
        "UPDATE reports r SET contact_email = NULL, contact_phone = NULL, contact_name = NULL,
             contact_erased_at = now()
         FROM statuses s
         WHERE s.code = r.status AND r.category = $1
           AND (r.contact_email IS NOT NULL OR r.contact_phone IS NOT NULL OR r.contact_name IS NOT NULL)
           AND ({CLOSED_AT}) < $2
         RETURNING r.id"
    );
    let ids: Vec<i64> = sqlx::query_scalar(&sql)
        .bind(category)
        .bind(before)
        .fetch_all(&mut *conn)
        .await?;
    // Subscribers of those reports are contacts too.
    sqlx::query!("DELETE FROM subscriptions WHERE report_id = ANY($1)", &ids)
        .execute(conn)
        .await?;
    Ok(ids)
}

/// Photos (id) of reports closed before `before` whose full-size image is still kept.
pub async fn retention_photos_due(
    executor: impl PgExecutor<'_>,
    before: DateTime<Utc>,
) -> sqlx::Result<Vec<String>> {
    let sql = format!(
        "SELECT p.id FROM photos p JOIN reports r ON r.id = p.report_id JOIN statuses s ON s.code = r.status
         WHERE p.original_dropped_at IS NULL AND ({CLOSED_AT}) < $1 ORDER BY p.id"
    );
    sqlx::query_scalar(&sql)
        .bind(before)
        .fetch_all(executor)
        .await
}

/// Replaces the full-size images of these photos by their thumbnails.
pub async fn drop_photo_originals(
    executor: impl PgExecutor<'_>,
    ids: &[String],
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE photos SET image = thumbnail, original_dropped_at = now()
         WHERE id = ANY($1) AND original_dropped_at IS NULL",
        ids
    )
    .execute(executor)
    .await?
    .rows_affected())
}

/// Whether `email` is the report's reporter's (not a subscriber's).
pub async fn is_contact_email(conn: &mut PgConnection, id: i64, email: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM reports WHERE id = $1 AND lower(contact_email) = lower($2)) AS "is!""#,
        id,
        email
    )
    .fetch_one(conn)
    .await
}
