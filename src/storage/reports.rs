//! Reports in PostGIS: the statement that stores a submission, support and subscriptions,
//! public reads, and the change feed (by `rev`) that keeps the in-memory engine in step. The
//! decisions (dedup, routing, idempotency) are made in `app::reports`; here are the statements.
use chrono::{DateTime, Utc};
use futures::Stream;
use serde_json::{json, Value};
use sqlx::{PgConnection, PgExecutor, PgPool, Postgres, QueryBuilder};

use super::exports::{Audience, ReportQuery, ReportQuerySql};
use crate::catalogue::Placement;
use crate::domain::NewReport;
use crate::engine::IndexRow;

/// The engine's columns of a report, over `reports` (aliased `r` or not).
macro_rules! index_columns {
    ($r:literal) => {
        concat!(
            $r,
            "id, ",
            $r,
            "category, ",
            $r,
            "status, ST_X(",
            $r,
            "anchor) AS lon, ST_Y(",
            $r,
            "anchor) AS lat, ",
            $r,
            "created_at, ",
            $r,
            "supporters, ",
            $r,
            "duplicate_of, ",
            $r,
            "rev, ",
            $r,
            "held, ",
            "CASE WHEN GeometryType(",
            $r,
            "geom) = 'POINT' THEN NULL ELSE ST_AsGeoJSON(",
            $r,
            "geom) END AS shape"
        )
    };
}
const INDEX_COLUMNS: &str = index_columns!("");

/// Every public report, as the engine indexes it (start-up): held reports stay out.
pub fn all_index_rows(pool: &PgPool) -> impl Stream<Item = sqlx::Result<IndexRow>> + '_ {
    sqlx::query_as::<_, IndexRow>(concat!(
        "SELECT ",
        index_columns!(""),
        " FROM reports WHERE NOT held"
    ))
    .fetch(pool)
}

/// What changed in one category after `rev` `seen`, in `rev` order.
pub async fn changes_in(
    executor: impl PgExecutor<'_>,
    category: &str,
    seen: i64,
) -> sqlx::Result<Vec<IndexRow>> {
    sqlx::query_as::<_, IndexRow>(concat!(
        "SELECT ",
        index_columns!(""),
        " FROM reports WHERE category = $1 AND rev > $2 ORDER BY rev"
    ))
    .bind(category)
    .bind(seen)
    .fetch_all(executor)
    .await
}

/// What changed in each of `categories` after its `seen` rev, in `rev` order.
pub async fn changes_in_all(
    executor: impl PgExecutor<'_>,
    categories: &[String],
    seen: &[i64],
) -> sqlx::Result<Vec<IndexRow>> {
    sqlx::query_as::<_, IndexRow>(concat!(
        "SELECT ",
        index_columns!("r."),
        " FROM reports r JOIN unnest($1::text[], $2::bigint[]) AS s(cat, seen)
         ON r.category = s.cat AND r.rev > s.seen ORDER BY rev"
    ))
    .bind(categories)
    .bind(seen)
    .fetch_all(executor)
    .await
}

/// Takes the category's lock and returns what changed in it after `seen`, in one round trip
/// (see migration 0008): under the lock everything committed in the category is visible,
/// whichever process wrote it, and nothing new can be committed in it until this transaction ends.
pub async fn lock_category_changes(
    tx: &mut PgConnection,
    category: &str,
    seen: i64,
) -> sqlx::Result<Vec<IndexRow>> {
    sqlx::query_as::<_, IndexRow>(concat!(
        "SELECT ",
        index_columns!(""),
        " FROM lock_category_changes($1, $2, $3) ORDER BY rev"
    ))
    .bind(super::CATEGORY_LOCK_SPACE)
    .bind(category)
    .bind(seen)
    .fetch_all(tx)
    .await
}

/// The report an `Idempotency-Key` was first used for, and the hash of that request.
pub async fn idempotency_key(
    executor: impl PgExecutor<'_>,
    key: &str,
) -> sqlx::Result<Option<(i64, String)>> {
    let row = sqlx::query!(
        "SELECT report_id, request_hash FROM idempotency_keys WHERE key = $1",
        key
    )
    .fetch_optional(executor)
    .await?;
    Ok(row.map(|r| (r.report_id, r.request_hash)))
}

/// The new report's row: the public view (photos from the `attached` CTE), the engine's columns,
/// and one of its timeline events (one row per event).
#[derive(sqlx::FromRow)]
pub struct InsertedRow {
    #[sqlx(flatten)]
    pub public: PublicReport,
    #[sqlx(flatten)]
    pub index: IndexRow,
    /// The original that gained a supporter, when the report is a duplicate.
    pub original: Option<sqlx::types::Json<IndexRow>>,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub event_status: Option<String>,
    pub public_note: Option<String>,
}

/// What the insert statement needs beyond the report itself.
pub struct Insert<'a> {
    pub report: &'a NewReport,
    pub placement: &'a Placement,
    /// The original the in-memory index found, to be confirmed by the statement.
    pub candidate: Option<i64>,
    /// The statuses in which a report is open (the candidate must still be).
    pub open_statuses: &'a [String],
    /// A new original's status, and a duplicate's.
    pub initial_status: &'a str,
    pub duplicate_status: &'a str,
    pub now: DateTime<Utc>,
    /// `Idempotency-Key` and the hash of its request.
    pub idempotency: Option<(&'a str, &'a str)>,
    /// Why the report is held for moderation (see migration 0010); None: public at once.
    pub hold: Option<&'a str>,
    /// The response and fix dates from the city's targets (migration 0013); None without one.
    pub deadlines: Option<crate::domain::calendar::Deadlines>,
}

/// Stores a new report in one statement: confirms the candidate original (which must still be
/// an open original, else the report is a new original), inserts the report, its timeline, its
/// photos and its idempotency key, and returns the rows written (one per timeline event).
pub async fn insert(tx: &mut PgConnection, i: &Insert<'_>) -> sqlx::Result<Vec<InsertedRow>> {
    let report = i.report;
    let anchor = report.geometry.anchor();
    let photos: Vec<&str> = report.photos.iter().map(String::as_str).collect();
    let address = i.placement.address.as_ref();
    sqlx::query_as::<_, InsertedRow>(&insert_sql())
        .bind(&report.category)
        .bind(i.candidate)
        .bind(i.open_statuses)
        .bind(&report.description)
        .bind(report.geometry.to_geojson())
        .bind(anchor.x())
        .bind(anchor.y())
        .bind(i.placement.district_id)
        .bind(&i.placement.unit_code)
        .bind(&i.placement.rule_id)
        .bind(i.placement.near_border)
        .bind(report.channel.as_str())
        .bind(report.lang.as_str())
        .bind(&report.contact.name)
        .bind(report.contact.email.as_deref())
        .bind(&report.contact.phone)
        .bind(i.now)
        .bind(&photos)
        .bind(i.idempotency.map(|(k, _)| k))
        .bind(i.idempotency.map(|(_, h)| h))
        .bind(i.initial_status)
        .bind(i.duplicate_status)
        .bind(i.hold.map(|_| "held"))
        .bind(i.hold)
        .bind(address.and_then(|a| a.street.as_deref()))
        .bind(address.and_then(|a| a.number.as_deref()))
        .bind(address.map(|a| a.label.as_str()))
        .bind(i.deadlines.map(|d| d.response_due))
        .bind(i.deadlines.map(|d| d.fix_due))
        .fetch_all(tx)
        .await
}

/// The statement that stores a new report: category $1; the original the in-memory index found
/// ($2, or NULL), which must still be an open ($3) original, else the report is a new original;
/// the report's other columns ($4–$17); its photos ($18) and idempotency key ($19, $20; none when
/// NULL); the initial and duplicate statuses ($21, $22); its moderation state and hold reason
/// ($23, $24; NULL for a public report); its address ($25–$27); its response and fix dates ($28,
/// $29; the fix date is also the expected date residents see); and its timeline. Returns the report as
/// [`InsertedRow`]s.
fn insert_sql() -> String {
    format!(
        "WITH orig AS (
             -- The database has the last word on the candidate the in-memory index found.
             UPDATE reports SET supporters = supporters + 1
             WHERE id = $2 AND duplicate_of IS NULL AND status = ANY($3) AND NOT held RETURNING {INDEX_COLUMNS}
         ),
         ins AS (
             INSERT INTO reports (category, status, description, geom, anchor, district_id, unit_code, routing_rule,
                 near_border, duplicate_of, channel, lang, contact_name, contact_email, contact_phone, created_at, updated_at,
                 moderation, hold_reason, address_street, address_number, address_label,
                 response_due, fix_due, expected_at)
             SELECT $1, CASE WHEN o.id IS NULL THEN $21 ELSE $22 END, $4,
                 ST_SetSRID(ST_GeomFromGeoJSON($5), 4326), ST_SetSRID(ST_MakePoint($6, $7), 4326),
                 $8, $9, $10, $11, o.id, $12, $13, $14, $15, $16, $17, $17, $23, $24, $25, $26, $27,
                 $28, $29, $29
             FROM (SELECT 1) one LEFT JOIN orig o ON true
             RETURNING {INDEX_COLUMNS}, description, description_hidden, geom, district_id, unit_code, near_border, channel, updated_at, address_street, address_number, address_label, expected_at
         ),
         ev AS (
             INSERT INTO report_events (report_id, at, kind, status, public_note, actor)
             SELECT id, created_at, 'created', $21, NULL, channel FROM ins
             UNION ALL
             SELECT id, created_at, 'duplicate', $22, '#' || duplicate_of, 'system' FROM ins WHERE duplicate_of IS NOT NULL
             RETURNING id AS event_id, at, kind, status AS event_status, public_note
         ),
         attached AS (
             UPDATE photos p SET report_id = ins.id FROM ins
             WHERE p.id = ANY($18::text[]) AND p.report_id IS NULL
             RETURNING p.id, p.created_at
         ),
         idem AS (
             INSERT INTO idempotency_keys (key, request_hash, report_id)
             SELECT $19, $20, id FROM ins WHERE $19::text IS NOT NULL
         )
         SELECT {SUBMITTED_COLUMNS}, r.lon, r.lat, r.rev, r.held, r.shape, (SELECT to_jsonb(o) FROM orig o) AS original,
             ev.at, ev.kind, ev.event_status, ev.public_note
         FROM ins r {PUBLIC_JOINS} CROSS JOIN ev
         ORDER BY ev.event_id"
    )
}

/// Tells other service processes that a category changed (delivered on commit, or at once
/// outside a transaction).
pub async fn notify(executor: impl PgExecutor<'_>, category: &str) -> sqlx::Result<()> {
    sqlx::query!("SELECT pg_notify('zglos_reports', $1)", category)
        .execute(executor)
        .await?;
    Ok(())
}

/// A report's category, if it exists.
pub async fn category_of(executor: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!("SELECT category FROM reports WHERE id = $1", id)
        .fetch_optional(executor)
        .await
}

/// The report that support for `id` goes to (its original when it is a duplicate) and that
/// report's status.
pub async fn support_target(tx: &mut PgConnection, id: i64) -> sqlx::Result<(i64, String)> {
    let row = sqlx::query!(
        "SELECT o.id, o.status FROM reports r JOIN reports o ON o.id = COALESCE(r.duplicate_of, r.id) WHERE r.id = $1",
        id
    )
    .fetch_one(tx)
    .await?;
    Ok((row.id, row.status))
}

/// "Me too": one more supporter, and who it was (email optional).
pub async fn add_supporter(
    tx: &mut PgConnection,
    id: i64,
    channel: &str,
    email: Option<&str>,
    lang: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE reports SET supporters = supporters + 1 WHERE id = $1",
        id
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO supports (report_id, channel, email, lang) VALUES ($1, $2, $3, $4)",
        id,
        channel,
        email,
        lang
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Subscribes `email` to a report's changes (its language updated if already subscribed).
pub async fn subscribe(
    conn: &mut PgConnection,
    id: i64,
    email: &str,
    lang: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO subscriptions (report_id, email, lang) VALUES ($1, $2, $3)
         ON CONFLICT (report_id, email) DO UPDATE SET lang = EXCLUDED.lang",
        id,
        email,
        lang
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A report as the public sees it: never the reporter's contact.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PublicReport {
    pub id: i64,
    pub category: String,
    pub status: String,
    pub description: String,
    pub geometry: String,
    pub district_id: Option<i32>,
    pub district_name: Option<String>,
    pub unit_code: Option<String>,
    pub unit_name: Option<String>,
    pub duplicate_of: Option<i64>,
    pub supporters: i32,
    pub near_border: bool,
    pub channel: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub photos: Vec<String>,
    pub address_street: Option<String>,
    pub address_number: Option<String>,
    pub address_label: Option<String>,
    /// When the city expects it fixed: the target's date, or the one staff set.
    pub expected_at: Option<chrono::NaiveDate>,
}

/// A report's description as the public sees it: empty when staff hid it (see migration 0010).
#[macro_export]
macro_rules! public_description {
    () => {
        "CASE WHEN r.description_hidden IS NULL THEN r.description ELSE '' END"
    };
}

/// The columns of [`PublicReport`] over `reports r`, with the given expression for the photo ids.
macro_rules! public_columns {
    ($description:expr, $photos:expr) => {
        concat!(
            "r.id, r.category, r.status, ",
            $description,
            " AS description, ST_AsGeoJSON(r.geom, 7) AS geometry,
        r.district_id, d.name AS district_name, r.unit_code, u.name AS unit_name, r.duplicate_of, r.supporters,
        r.near_border, r.channel, r.created_at, r.updated_at, ",
            $photos,
            " AS photos, r.address_street, r.address_number, r.address_label, r.expected_at"
        )
    };
}

/// The columns of [`PublicReport`], over `reports r` joined with [`PUBLIC_JOINS`].
pub const PUBLIC_COLUMNS: &str = public_columns!(
    public_description!(),
    "ARRAY(SELECT p.id FROM photos p WHERE p.report_id = r.id AND p.hidden IS NULL ORDER BY p.created_at, p.id)"
);
/// The same over a new report, whose photos are attached by the same statement (so not yet visible
/// in `photos` to it) and listed by its `attached` CTE.
const SUBMITTED_COLUMNS: &str = public_columns!(
    public_description!(),
    "ARRAY(SELECT a.id FROM attached a ORDER BY a.created_at, a.id)"
);
/// The columns of [`PublicReport`] as staff see them: the description and every photo, hidden
/// from the public or not.
pub const STAFF_COLUMNS: &str = public_columns!(
    "r.description",
    "ARRAY(SELECT p.id FROM photos p WHERE p.report_id = r.id ORDER BY p.created_at, p.id)"
);
pub const PUBLIC_JOINS: &str =
    "LEFT JOIN districts d ON d.id = r.district_id LEFT JOIN units u ON u.code = r.unit_code";

fn public_select() -> String {
    format!("SELECT {PUBLIC_COLUMNS} FROM reports r {PUBLIC_JOINS}")
}

impl PublicReport {
    pub fn properties(&self) -> Value {
        json!({
            "id": self.id,
            "category": self.category,
            "status": self.status,
            "description": self.description,
            "district": self.district_id.map(|id| json!({"id": id, "name": self.district_name})),
            "unit": self.unit_code.as_ref().map(|code| json!({"code": code, "name": self.unit_name})),
            "duplicate_of": self.duplicate_of,
            "supporters": self.supporters,
            "near_border": self.near_border,
            "channel": self.channel,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "photos": self.photos.iter().map(|id| crate::domain::photo::photo_json(id)).collect::<Vec<_>>(),
            "address": self.address(),
            "expected_at": self.expected_at,
        })
    }

    /// Where the report is, in words (see `domain::address`); None for a report filed before
    /// the city had a gazetteer.
    pub fn address(&self) -> Option<crate::domain::Address> {
        crate::domain::Address::from_columns(
            self.address_street.clone(),
            self.address_number.clone(),
            self.address_label.clone(),
        )
    }

    pub fn to_feature(&self) -> Value {
        let geometry: Value = serde_json::from_str(&self.geometry).unwrap_or(Value::Null);
        json!({"type": "Feature", "id": self.id, "geometry": geometry, "properties": self.properties()})
    }
}

pub async fn public_report(pool: &PgPool, id: i64) -> sqlx::Result<Option<PublicReport>> {
    let sql = format!("{} WHERE r.id = $1 AND NOT r.held", public_select());
    sqlx::query_as::<_, PublicReport>(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// Reports by id, in the order given.
pub async fn public_reports(pool: &PgPool, ids: &[i64]) -> sqlx::Result<Vec<PublicReport>> {
    let sql = format!("{} WHERE r.id = ANY($1) AND NOT r.held", public_select());
    let mut rows = sqlx::query_as::<_, PublicReport>(&sql)
        .bind(ids)
        .fetch_all(pool)
        .await?;
    rows.sort_by_key(|r| ids.iter().position(|i| *i == r.id));
    Ok(rows)
}

/// The public timeline: what happened and the public notes, never internal ones.
pub async fn timeline(pool: &PgPool, id: i64) -> sqlx::Result<Vec<Value>> {
    let rows = sqlx::query!(
        "SELECT at, kind, status, public_note FROM report_events WHERE report_id = $1 ORDER BY at, id",
        id
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| timeline_entry(r.at, &r.kind, r.status.as_deref(), r.public_note.as_deref()))
        .collect())
}

pub fn timeline_entry(
    at: DateTime<Utc>,
    kind: &str,
    status: Option<&str>,
    note: Option<&str>,
) -> Value {
    json!({"at": at, "kind": kind, "status": status, "note": note})
}

/// Newest first, keyset-paged: `after` is the (created_at, id) of the previous page's last item.
pub async fn list(
    pool: &PgPool,
    query: &ReportQuery,
    after: Option<(DateTime<Utc>, i64)>,
    limit: i64,
) -> Result<Vec<PublicReport>, super::ReadError> {
    let mut q: QueryBuilder<Postgres> =
        QueryBuilder::new(format!("SELECT {PUBLIC_COLUMNS} FROM reports r {PUBLIC_JOINS} JOIN statuses s ON s.code = r.status"));
    query.push_where(&mut q, Audience::Public)?;
    if let Some((at, id)) = after {
        q.push(" AND (r.created_at, r.id) < (")
            .push_bind(at)
            .push(", ")
            .push_bind(id)
            .push(")");
    }
    q.push(" ORDER BY r.created_at DESC, r.id DESC LIMIT ")
        .push_bind(limit);
    Ok(q.build_query_as::<PublicReport>().fetch_all(pool).await?)
}
