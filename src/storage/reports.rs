//! Reports in PostGIS: submission (dedup + routing + insert in one transaction), support,
//! subscriptions, public reads, and the catch-up queries that feed the in-memory engine.
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use serde_json::{json, Value};
use sqlx::{PgPool, Postgres, QueryBuilder};

use super::exports::{Audience, ReportQuery, ReportQuerySql};
use super::lock_category;
use crate::catalogue::Placement;
use crate::domain::NewReport;
use crate::engine::{Engine, IndexRow};
use crate::error::{ApiError, ApiResult};

const INDEX_COLUMNS: &str = "id, category, status, ST_X(anchor) AS lon, ST_Y(anchor) AS lat, created_at, supporters, \
     duplicate_of, rev, CASE WHEN GeometryType(geom) = 'POINT' THEN NULL ELSE ST_AsGeoJSON(geom) END AS shape";

/// Loads every report into the engine (start-up).
pub async fn load_engine(pool: &PgPool, engine: &Engine) -> anyhow::Result<()> {
    let sql = format!("SELECT {INDEX_COLUMNS} FROM reports");
    let mut rows = Vec::new();
    let mut stream = sqlx::query_as::<_, IndexRow>(&sql).fetch(pool);
    while let Some(row) = stream.try_next().await? {
        rows.push(row);
    }
    engine.load(rows);
    Ok(())
}

/// Applies to the engine what changed in one category (or all) since it last looked.
pub async fn catch_up<'c, E>(
    executor: E,
    engine: &Engine,
    category: Option<&str>,
) -> sqlx::Result<usize>
where
    E: sqlx::PgExecutor<'c>,
{
    let rows = match category {
        Some(cat) => {
            let sql = format!(
                "SELECT {INDEX_COLUMNS} FROM reports WHERE category = $1 AND rev > $2 ORDER BY rev"
            );
            let seen = engine.last_seen(&[cat.to_owned()])[0];
            sqlx::query_as::<_, IndexRow>(&sql)
                .bind(cat)
                .bind(seen)
                .fetch_all(executor)
                .await?
        }
        None => {
            let cats: Vec<String> = engine
                .catalogue()
                .categories
                .iter()
                .map(|c| c.code.clone())
                .collect();
            let seen = engine.last_seen(&cats);
            let sql = format!(
                "SELECT {INDEX_COLUMNS} FROM reports JOIN unnest($1::text[], $2::bigint[]) AS s(cat, seen)
                 ON category = s.cat AND rev > s.seen ORDER BY rev"
            );
            sqlx::query_as::<_, IndexRow>(&sql)
                .bind(&cats)
                .bind(&seen)
                .fetch_all(executor)
                .await?
        }
    };
    let n = rows.len();
    engine.apply(&rows);
    Ok(n)
}

/// Takes the category's lock and brings the engine up to date with the category, in one round
/// trip (see migration 0008): under the lock everything committed in the category is visible,
/// whichever process wrote it, and nothing new can be committed in it until this transaction ends.
async fn lock_and_catch_up(
    tx: &mut sqlx::PgConnection,
    engine: &Engine,
    category: &str,
) -> sqlx::Result<()> {
    let sql = format!("SELECT {INDEX_COLUMNS} FROM lock_category_changes($1, $2, $3) ORDER BY rev");
    let seen = engine.last_seen(&[category.to_owned()])[0];
    let rows = sqlx::query_as::<_, IndexRow>(&sql)
        .bind(super::CATEGORY_LOCK_SPACE)
        .bind(category)
        .bind(seen)
        .fetch_all(tx)
        .await?;
    engine.apply(&rows);
    Ok(())
}

/// A validated `Idempotency-Key` and the hash of the request it came with.
#[derive(Clone, Debug)]
pub struct Idempotency {
    pub key: String,
    pub request_hash: String,
}

pub enum Submitted {
    Created(i64),
    /// The same request came before with this key: its report.
    Replayed(i64),
}

/// A submission's outcome with what the response shows.
pub enum Submission {
    /// The new report as stored, with its timeline: read from what the insert returned.
    Created(Box<StoredReport>),
    /// The same request came before with this key: its report.
    Replayed(i64),
}

pub struct StoredReport {
    pub report: PublicReport,
    pub timeline: Vec<Value>,
}

async fn replay(executor: impl sqlx::PgExecutor<'_>, idem: &Idempotency) -> ApiResult<Option<i64>> {
    let found: Option<(i64, String)> =
        sqlx::query_as("SELECT report_id, request_hash FROM idempotency_keys WHERE key = $1")
            .bind(&idem.key)
            .fetch_optional(executor)
            .await?;
    match found {
        Some((id, hash)) if hash == idem.request_hash => Ok(Some(id)),
        Some(_) => Err(ApiError::unprocessable(
            "idempotency_key_reused",
            "this Idempotency-Key was already used for a different request; use a new key for a new report",
        )
        .at("Idempotency-Key")),
        None => Ok(None),
    }
}

/// Stores a submission; only the id of the report (see [`submit_report`]).
pub async fn submit(
    pool: &PgPool,
    engine: &Engine,
    report: &NewReport,
    placement: &Placement,
    idem: Option<&Idempotency>,
) -> ApiResult<Submitted> {
    Ok(
        match submit_report(pool, engine, report, placement, idem).await? {
            Submission::Created(stored) => Submitted::Created(stored.report.id),
            Submission::Replayed(id) => Submitted::Replayed(id),
        },
    )
}

/// The new report's row: the public view (photos from the `attached` CTE), the engine's columns,
/// and one of its timeline events (one row per event).
#[derive(sqlx::FromRow)]
struct InsertedRow {
    #[sqlx(flatten)]
    public: PublicReport,
    #[sqlx(flatten)]
    index: IndexRow,
    /// The original that gained a supporter, when the report is a duplicate.
    original: Option<sqlx::types::Json<IndexRow>>,
    at: DateTime<Utc>,
    kind: String,
    event_status: Option<String>,
    public_note: Option<String>,
}

/// Stores a submission: dedup against open reports of its category, routed as `placement` says.
/// Every submission is stored, duplicates included (linked with `duplicate_of`).
///
/// Round trips: BEGIN; the category's lock with the catch-up; one statement that confirms the
/// original the in-memory index found (if any) and inserts the report, its timeline, its photos
/// and its idempotency key; COMMIT. The rows written are applied to the engine from what the
/// statements returned, and the response is built from them too; other processes are notified
/// after the commit, off the request's path.
pub async fn submit_report(
    pool: &PgPool,
    engine: &Engine,
    report: &NewReport,
    placement: &Placement,
    idem: Option<&Idempotency>,
) -> ApiResult<Submission> {
    if let Some(idem) = idem {
        if let Some(id) = replay(pool, idem).await? {
            return Ok(Submission::Replayed(id));
        }
    }
    let mut tx = pool.begin().await?;
    lock_and_catch_up(&mut tx, engine, &report.category).await?;
    if let Some(idem) = idem {
        // A concurrent retry of the same request may have committed while we waited for the lock.
        if let Some(id) = replay(&mut *tx, idem).await? {
            return Ok(Submission::Replayed(id));
        }
    }

    let now = Utc::now();
    let candidate = engine
        .find_original(
            &report.category,
            report.geometry.geometry(),
            now.timestamp(),
        )
        .map(|c| c.id);

    let anchor = report.geometry.anchor();
    let photos: Vec<&str> = report.photos.iter().map(String::as_str).collect();
    let rows = sqlx::query_as::<_, InsertedRow>(&insert_sql())
        .bind(&report.category)
        .bind(candidate)
        .bind(engine.catalogue().open_statuses())
        .bind(&report.description)
        .bind(report.geometry.to_geojson())
        .bind(anchor.x())
        .bind(anchor.y())
        .bind(placement.district_id)
        .bind(&placement.unit_code)
        .bind(&placement.rule_id)
        .bind(placement.near_border)
        .bind(report.channel.as_str())
        .bind(&report.lang)
        .bind(&report.contact.name)
        .bind(&report.contact.email)
        .bind(&report.contact.phone)
        .bind(now)
        .bind(&photos)
        .bind(idem.map(|i| &i.key))
        .bind(idem.map(|i| &i.request_hash))
        .fetch_all(&mut *tx)
        .await?;
    let first = rows
        .first()
        .ok_or_else(|| ApiError::internal("the insert returned no row"))?;
    check_photos(&report.photos, &first.public.photos)?;
    tx.commit().await?;

    // Committed: apply the rows written directly. The cursor skips them if a catch-up got there
    // first, and nothing older in the category can be missing, since this transaction caught up
    // under the lock before writing.
    let timeline = rows
        .iter()
        .map(|r| {
            timeline_entry(
                r.at,
                &r.kind,
                r.event_status.as_deref(),
                r.public_note.as_deref(),
            )
        })
        .collect();
    let mut rows = rows.into_iter();
    let Some(InsertedRow {
        public,
        index,
        original,
        ..
    }) = rows.next()
    else {
        unreachable!("checked above")
    };
    let mut changed: Vec<IndexRow> = original.map(|o| o.0).into_iter().chain([index]).collect();
    changed.sort_by_key(|r| r.rev);
    engine.apply(&changed);
    notify_after_commit(pool, &report.category);
    Ok(Submission::Created(Box::new(StoredReport {
        report: public,
        timeline,
    })))
}

/// Tells other service processes that a category changed, after the commit and off the request's
/// path. A NOTIFY inside the transaction would make its commit take PostgreSQL's cluster-wide
/// notification lock until the commit record is flushed, so every submission's commit would wait
/// for the previous one's flush; sent on its own, the notification writes nothing and holds that
/// lock only for an instant. Other processes do not need it to deduplicate (they catch up under
/// the category's lock); it keeps their tiles fresh, and if it is lost (a crash right after the
/// commit) their periodic sweep makes up for it.
fn notify_after_commit(pool: &PgPool, category: &str) {
    let (pool, category) = (pool.clone(), category.to_owned());
    tokio::spawn(async move {
        if let Err(e) = notify(&pool, &category).await {
            tracing::warn!(error = %e, category, "notification failed; other processes will see the report at their next sweep");
        }
    });
}

/// Photos the submission names but the insert could not attach (unknown, taken by another report,
/// or named twice): the first of them is the error.
fn check_photos(requested: &[String], attached: &[String]) -> ApiResult<()> {
    for (i, id) in requested.iter().enumerate() {
        if !attached.contains(id) || requested[..i].contains(id) {
            return Err(ApiError::unprocessable(
                "unknown_photo",
                format!("photo {id:?} was not uploaded or belongs to another report"),
            )
            .at(format!("properties.photos[{i}]")));
        }
    }
    Ok(())
}

/// The statement that stores a new report: category $1; the original the in-memory index found
/// ($2, or NULL), which must still be an open ($3) original, else the report is a new original;
/// the report's other columns ($4–$17); its photos ($18) and idempotency key ($19, $20; none when
/// NULL); and its timeline. Returns the report as [`InsertedRow`]s.
fn insert_sql() -> String {
    format!(
        "WITH orig AS (
             -- The database has the last word on the candidate the in-memory index found.
             UPDATE reports SET supporters = supporters + 1
             WHERE id = $2 AND duplicate_of IS NULL AND status = ANY($3) RETURNING {INDEX_COLUMNS}
         ),
         ins AS (
             INSERT INTO reports (category, status, description, geom, anchor, district_id, unit_code, routing_rule,
                 near_border, duplicate_of, channel, lang, contact_name, contact_email, contact_phone, created_at, updated_at)
             SELECT $1, CASE WHEN o.id IS NULL THEN 'new' ELSE 'duplicate' END, $4,
                 ST_SetSRID(ST_GeomFromGeoJSON($5), 4326), ST_SetSRID(ST_MakePoint($6, $7), 4326),
                 $8, $9, $10, $11, o.id, $12, $13, $14, $15, $16, $17, $17
             FROM (SELECT 1) one LEFT JOIN orig o ON true
             RETURNING {INDEX_COLUMNS}, description, geom, district_id, unit_code, near_border, channel, updated_at
         ),
         ev AS (
             INSERT INTO report_events (report_id, at, kind, status, public_note, actor)
             SELECT id, created_at, 'created', 'new', NULL, channel FROM ins
             UNION ALL
             SELECT id, created_at, 'duplicate', 'duplicate', '#' || duplicate_of, 'system' FROM ins WHERE duplicate_of IS NOT NULL
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
         SELECT {SUBMITTED_COLUMNS}, r.lon, r.lat, r.rev, r.shape, (SELECT to_jsonb(o) FROM orig o) AS original,
             ev.at, ev.kind, ev.event_status, ev.public_note
         FROM ins r {PUBLIC_JOINS} CROSS JOIN ev
         ORDER BY ev.event_id"
    )
}

/// Tells other service processes that a category changed (delivered on commit).
async fn notify(executor: impl sqlx::PgExecutor<'_>, category: &str) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_notify('zglos_reports', $1)")
        .bind(category)
        .execute(executor)
        .await?;
    Ok(())
}

/// "Me too": adds a supporter to a report (to its original when it is a duplicate) without a new
/// report. Returns the id of the report that gained the supporter.
pub async fn support(
    pool: &PgPool,
    engine: &Engine,
    id: i64,
    email: Option<&str>,
    lang: &str,
    channel: &str,
) -> ApiResult<i64> {
    let category: Option<(String,)> = sqlx::query_as("SELECT category FROM reports WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    let (category,) = category.ok_or_else(|| ApiError::not_found(format!("no report {id}")))?;
    let mut tx = pool.begin().await?;
    lock_category(&mut tx, &category).await?;
    let (target, status): (i64, String) = sqlx::query_as(
        "SELECT o.id, o.status FROM reports r JOIN reports o ON o.id = COALESCE(r.duplicate_of, r.id) WHERE r.id = $1",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    if !engine
        .catalogue()
        .status(&status)
        .is_some_and(|(_, s)| s.is_open)
    {
        return Err(ApiError::conflict(
            "report_closed",
            format!("report {target} is {status}; it can no longer be supported"),
        ));
    }
    sqlx::query("UPDATE reports SET supporters = supporters + 1 WHERE id = $1")
        .bind(target)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO supports (report_id, channel, email, lang) VALUES ($1, $2, $3, $4)")
        .bind(target)
        .bind(channel)
        .bind(email)
        .bind(lang)
        .execute(&mut *tx)
        .await?;
    if let Some(email) = email {
        subscribe_in(&mut tx, target, email, lang).await?;
    }
    notify(&mut *tx, &category).await?;
    tx.commit().await?;
    catch_up(pool, engine, Some(&category)).await?;
    Ok(target)
}

async fn subscribe_in(
    tx: &mut sqlx::PgConnection,
    id: i64,
    email: &str,
    lang: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO subscriptions (report_id, email, lang) VALUES ($1, $2, $3)
         ON CONFLICT (report_id, email) DO UPDATE SET lang = EXCLUDED.lang",
    )
    .bind(id)
    .bind(email)
    .bind(lang)
    .execute(tx)
    .await?;
    Ok(())
}

/// Asks to be told about changes to a report.
pub async fn subscribe(pool: &PgPool, id: i64, email: &str, lang: &str) -> ApiResult<()> {
    let exists: Option<(i64,)> = sqlx::query_as("SELECT id FROM reports WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    exists.ok_or_else(|| ApiError::not_found(format!("no report {id}")))?;
    let mut conn = pool.acquire().await?;
    subscribe_in(&mut conn, id, email, lang).await?;
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
}

/// The columns of [`PublicReport`] over `reports r`, with the given expression for the photo ids.
macro_rules! public_columns {
    ($photos:literal) => {
        concat!(
            "r.id, r.category, r.status, r.description, ST_AsGeoJSON(r.geom, 7) AS geometry,
        r.district_id, d.name AS district_name, r.unit_code, u.name AS unit_name, r.duplicate_of, r.supporters,
        r.near_border, r.channel, r.created_at, r.updated_at, ",
            $photos,
            " AS photos"
        )
    };
}

/// The columns of [`PublicReport`], over `reports r` joined with [`PUBLIC_JOINS`].
pub const PUBLIC_COLUMNS: &str = public_columns!(
    "ARRAY(SELECT p.id FROM photos p WHERE p.report_id = r.id ORDER BY p.created_at, p.id)"
);
/// The same over a new report, whose photos are attached by the same statement (so not yet visible
/// in `photos` to it) and listed by its `attached` CTE.
const SUBMITTED_COLUMNS: &str =
    public_columns!("ARRAY(SELECT a.id FROM attached a ORDER BY a.created_at, a.id)");
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
        })
    }

    pub fn to_feature(&self) -> Value {
        let geometry: Value = serde_json::from_str(&self.geometry).unwrap_or(Value::Null);
        json!({"type": "Feature", "id": self.id, "geometry": geometry, "properties": self.properties()})
    }
}

pub async fn public_report(pool: &PgPool, id: i64) -> ApiResult<Option<PublicReport>> {
    let sql = format!("{} WHERE r.id = $1", public_select());
    Ok(sqlx::query_as::<_, PublicReport>(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await?)
}

/// Reports by id, in the order given.
pub async fn public_reports(pool: &PgPool, ids: &[i64]) -> ApiResult<Vec<PublicReport>> {
    let sql = format!("{} WHERE r.id = ANY($1)", public_select());
    let mut rows = sqlx::query_as::<_, PublicReport>(&sql)
        .bind(ids)
        .fetch_all(pool)
        .await?;
    rows.sort_by_key(|r| ids.iter().position(|i| *i == r.id));
    Ok(rows)
}

/// The public timeline: what happened and the public notes, never internal ones.
pub async fn timeline(pool: &PgPool, id: i64) -> ApiResult<Vec<Value>> {
    let rows: Vec<(DateTime<Utc>, String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT at, kind, status, public_note FROM report_events WHERE report_id = $1 ORDER BY at, id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(at, kind, status, note)| {
            timeline_entry(at, &kind, status.as_deref(), note.as_deref())
        })
        .collect())
}

fn timeline_entry(
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
) -> ApiResult<Vec<PublicReport>> {
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
