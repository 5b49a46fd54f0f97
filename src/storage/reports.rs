//! Reports in PostGIS: submission (dedup + routing + insert in one transaction), support,
//! subscriptions, public reads, and the catch-up queries that feed the in-memory engine.
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use serde_json::{json, Value};
use sqlx::{PgPool, Postgres, QueryBuilder};

use super::exports::{Audience, ReportQuery};
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
pub async fn catch_up<'c, E>(executor: E, engine: &Engine, category: Option<&str>) -> sqlx::Result<usize>
where
    E: sqlx::PgExecutor<'c>,
{
    let rows = match category {
        Some(cat) => {
            let seen = engine.last_seen(&[cat.to_owned()])[0];
            let sql = format!("SELECT {INDEX_COLUMNS} FROM reports WHERE category = $1 AND rev > $2 ORDER BY rev");
            sqlx::query_as::<_, IndexRow>(&sql).bind(cat).bind(seen).fetch_all(executor).await?
        }
        None => {
            let cats: Vec<String> = engine.catalogue().categories.iter().map(|c| c.code.clone()).collect();
            let seen = engine.last_seen(&cats);
            let sql = format!(
                "SELECT {INDEX_COLUMNS} FROM reports r JOIN unnest($1::text[], $2::bigint[]) AS s(cat, seen)
                 ON r.category = s.cat AND r.rev > s.seen ORDER BY rev"
            );
            let sql = sql.replacen("SELECT id,", "SELECT r.id,", 1);
            sqlx::query_as::<_, IndexRow>(&sql).bind(&cats).bind(&seen).fetch_all(executor).await?
        }
    };
    let n = rows.len();
    engine.apply(&rows);
    Ok(n)
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

/// Stores a submission: dedup against open reports of its category, routed as `placement` says.
/// Every submission is stored, duplicates included (linked with `duplicate_of`).
pub async fn submit(
    pool: &PgPool,
    engine: &Engine,
    report: &NewReport,
    placement: &Placement,
    idem: Option<&Idempotency>,
) -> ApiResult<Submitted> {
    if let Some(idem) = idem {
        if let Some(id) = replay(pool, idem).await? {
            return Ok(Submitted::Replayed(id));
        }
    }
    let mut tx = pool.begin().await?;
    lock_category(&mut tx, &report.category).await?;
    if let Some(idem) = idem {
        // A concurrent retry of the same request may have committed while we waited for the lock.
        if let Some(id) = replay(&mut *tx, idem).await? {
            return Ok(Submitted::Replayed(id));
        }
    }
    // Under the lock, everything committed in this category is visible: bring the index up to date.
    catch_up(&mut *tx, engine, Some(&report.category)).await?;

    let now = Utc::now();
    let open = engine.catalogue().open_statuses();
    let mut original = None;
    if let Some(candidate) = engine.find_original(&report.category, report.geometry.geometry(), now.timestamp()) {
        // The database has the last word: the original must still be an open original.
        let updated: Option<(i64,)> = sqlx::query_as(
            "UPDATE reports SET supporters = supporters + 1
             WHERE id = $1 AND duplicate_of IS NULL AND status = ANY($2) RETURNING id",
        )
        .bind(candidate.id)
        .bind(&open)
        .fetch_optional(&mut *tx)
        .await?;
        original = updated.map(|(id,)| id);
    }

    let anchor = report.geometry.anchor();
    let status = if original.is_some() { "duplicate" } else { "new" };
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO reports (category, status, description, geom, anchor, district_id, unit_code, routing_rule,
             near_border, duplicate_of, channel, lang, contact_name, contact_email, contact_phone, created_at, updated_at)
         VALUES ($1, $2, $3, ST_SetSRID(ST_GeomFromGeoJSON($4), 4326), ST_SetSRID(ST_MakePoint($5, $6), 4326),
             $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17)
         RETURNING id",
    )
    .bind(&report.category)
    .bind(status)
    .bind(&report.description)
    .bind(report.geometry.to_geojson())
    .bind(anchor.x())
    .bind(anchor.y())
    .bind(placement.district_id)
    .bind(&placement.unit_code)
    .bind(&placement.rule_id)
    .bind(placement.near_border)
    .bind(original)
    .bind(report.channel.as_str())
    .bind(&report.lang)
    .bind(&report.contact.name)
    .bind(&report.contact.email)
    .bind(&report.contact.phone)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;

    sqlx::query("INSERT INTO report_events (report_id, at, kind, status, public_note, actor) VALUES ($1, $2, 'created', 'new', NULL, $3)")
        .bind(id)
        .bind(now)
        .bind(report.channel.as_str())
        .execute(&mut *tx)
        .await?;
    if let Some(orig) = original {
        sqlx::query(
            "INSERT INTO report_events (report_id, at, kind, status, public_note, actor)
             VALUES ($1, $2, 'duplicate', 'duplicate', $3, 'system')",
        )
        .bind(id)
        .bind(now)
        .bind(format!("#{orig}"))
        .execute(&mut *tx)
        .await?;
    }
    super::photos::attach(&mut tx, id, &report.photos).await?;
    if let Some(idem) = idem {
        sqlx::query("INSERT INTO idempotency_keys (key, request_hash, report_id) VALUES ($1, $2, $3)")
            .bind(&idem.key)
            .bind(&idem.request_hash)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    notify(&mut tx, &report.category).await?;
    tx.commit().await?;
    catch_up(pool, engine, Some(&report.category)).await?;
    Ok(Submitted::Created(id))
}

/// Tells other service processes that a category changed (delivered on commit).
async fn notify(tx: &mut sqlx::PgConnection, category: &str) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_notify('zglos_reports', $1)").bind(category).execute(tx).await?;
    Ok(())
}

/// "Me too": adds a supporter to a report (to its original when it is a duplicate) without a new
/// report. Returns the id of the report that gained the supporter.
pub async fn support(pool: &PgPool, engine: &Engine, id: i64, email: Option<&str>, lang: &str, channel: &str) -> ApiResult<i64> {
    let category: Option<(String,)> = sqlx::query_as("SELECT category FROM reports WHERE id = $1").bind(id).fetch_optional(pool).await?;
    let (category,) = category.ok_or_else(|| ApiError::not_found(format!("no report {id}")))?;
    let mut tx = pool.begin().await?;
    lock_category(&mut tx, &category).await?;
    let (target, status): (i64, String) = sqlx::query_as(
        "SELECT o.id, o.status FROM reports r JOIN reports o ON o.id = COALESCE(r.duplicate_of, r.id) WHERE r.id = $1",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    if !engine.catalogue().status(&status).is_some_and(|(_, s)| s.is_open) {
        return Err(ApiError::conflict("report_closed", format!("report {target} is {status}; it can no longer be supported")));
    }
    sqlx::query("UPDATE reports SET supporters = supporters + 1 WHERE id = $1").bind(target).execute(&mut *tx).await?;
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
    notify(&mut tx, &category).await?;
    tx.commit().await?;
    catch_up(pool, engine, Some(&category)).await?;
    Ok(target)
}

async fn subscribe_in(tx: &mut sqlx::PgConnection, id: i64, email: &str, lang: &str) -> sqlx::Result<()> {
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
    let exists: Option<(i64,)> = sqlx::query_as("SELECT id FROM reports WHERE id = $1").bind(id).fetch_optional(pool).await?;
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

/// The columns of [`PublicReport`], over `reports r` joined with [`PUBLIC_JOINS`].
pub const PUBLIC_COLUMNS: &str = "r.id, r.category, r.status, r.description, ST_AsGeoJSON(r.geom, 7) AS geometry,
        r.district_id, d.name AS district_name, r.unit_code, u.name AS unit_name, r.duplicate_of, r.supporters,
        r.near_border, r.channel, r.created_at, r.updated_at,
        ARRAY(SELECT p.id FROM photos p WHERE p.report_id = r.id ORDER BY p.created_at, p.id) AS photos";
pub const PUBLIC_JOINS: &str = "LEFT JOIN districts d ON d.id = r.district_id LEFT JOIN units u ON u.code = r.unit_code";

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
    Ok(sqlx::query_as::<_, PublicReport>(&sql).bind(id).fetch_optional(pool).await?)
}

/// Reports by id, in the order given.
pub async fn public_reports(pool: &PgPool, ids: &[i64]) -> ApiResult<Vec<PublicReport>> {
    let sql = format!("{} WHERE r.id = ANY($1)", public_select());
    let mut rows = sqlx::query_as::<_, PublicReport>(&sql).bind(ids).fetch_all(pool).await?;
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
    Ok(rows.into_iter().map(|(at, kind, status, note)| json!({"at": at, "kind": kind, "status": status, "note": note})).collect())
}

/// Newest first, keyset-paged: `after` is the (created_at, id) of the previous page's last item.
pub async fn list(pool: &PgPool, query: &ReportQuery, after: Option<(DateTime<Utc>, i64)>, limit: i64) -> ApiResult<Vec<PublicReport>> {
    let mut q: QueryBuilder<Postgres> =
        QueryBuilder::new(format!("SELECT {PUBLIC_COLUMNS} FROM reports r {PUBLIC_JOINS} JOIN statuses s ON s.code = r.status"));
    query.push_where(&mut q, Audience::Public)?;
    if let Some((at, id)) = after {
        q.push(" AND (r.created_at, r.id) < (").push_bind(at).push(", ").push_bind(id).push(")");
    }
    q.push(" ORDER BY r.created_at DESC, r.id DESC LIMIT ").push_bind(limit);
    Ok(q.build_query_as::<PublicReport>().fetch_all(pool).await?)
}
