//! The one query behind OGC API items, exports and Open311 reads: reports with their district and
//! unit, filtered with bound parameters (list filters, CQL2), geometry as WKB. Public rows never
//! carry the reporter's contact; internal rows (analysts) add routing and timing, still no contact.
//! Rows are decoded into [`ExportRow`]s here; the formats are encoded in `crate::export`.
use std::io;

use futures::TryStreamExt;
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use tokio::sync::mpsc;

use super::ReadError;
use crate::cql::CqlError;
use crate::cql::{self, QType, Queryable};
pub use crate::domain::query::{Audience, ReportQuery};
pub use crate::export::row::{fields, ExportRow, Field, FieldType, Val, FIELDS};

/// Properties a CQL2 filter may name on reports (the internal ones only for analysts).
pub const REPORT_QUERYABLES: &[Queryable] = &[
    Queryable {
        name: "id",
        sql: "r.id",
        ty: QType::Int,
        title: "Report number",
    },
    Queryable {
        name: "category",
        sql: "r.category",
        ty: QType::Text,
        title: "Category code",
    },
    Queryable {
        name: "status",
        sql: "r.status",
        ty: QType::Text,
        title: "Status code",
    },
    Queryable {
        name: "description",
        // What the public sees: a hidden description cannot be searched for either.
        sql: crate::public_description!(),
        ty: QType::Text,
        title: "Description",
    },
    Queryable {
        name: "district_id",
        sql: "r.district_id",
        ty: QType::Int,
        title: "District number",
    },
    Queryable {
        name: "district",
        sql: "d.name",
        ty: QType::Text,
        title: "District name",
    },
    Queryable {
        name: "unit_code",
        sql: "r.unit_code",
        ty: QType::Text,
        title: "City unit code",
    },
    Queryable {
        name: "unit",
        sql: "u.name",
        ty: QType::Text,
        title: "City unit name",
    },
    Queryable {
        name: "duplicate_of",
        sql: "r.duplicate_of",
        ty: QType::Int,
        title: "Original report of a duplicate",
    },
    Queryable {
        name: "supporters",
        sql: "r.supporters",
        ty: QType::Int,
        title: "Residents who reported or supported it",
    },
    Queryable {
        name: "near_border",
        sql: "r.near_border",
        ty: QType::Bool,
        title: "Within metres of a district border",
    },
    Queryable {
        name: "channel",
        sql: "r.channel",
        ty: QType::Text,
        title: "How it was reported",
    },
    Queryable {
        name: "created_at",
        sql: "r.created_at",
        ty: QType::Time,
        title: "Reported at",
    },
    Queryable {
        name: "updated_at",
        sql: "r.updated_at",
        ty: QType::Time,
        title: "Last changed at",
    },
    Queryable {
        name: "address",
        sql: "r.address_label",
        ty: QType::Text,
        title: "Address (street and number, or near which street)",
    },
    Queryable {
        name: "address_street",
        sql: "r.address_street",
        ty: QType::Text,
        title: "Street of the address",
    },
    Queryable {
        name: "address_number",
        sql: "r.address_number",
        ty: QType::Text,
        title: "House number of the address",
    },
    Queryable {
        name: "geometry",
        sql: "r.geom",
        ty: QType::Geometry,
        title: "Location",
    },
];

pub const INTERNAL_QUERYABLES: &[Queryable] = &[
    Queryable {
        name: "routing_rule",
        sql: "r.routing_rule",
        ty: QType::Text,
        title: "Routing rule that chose the unit",
    },
    Queryable {
        name: "lang",
        sql: "r.lang",
        ty: QType::Text,
        title: "Reporter's language",
    },
];

pub fn queryables(audience: Audience) -> Vec<Queryable> {
    let mut q = REPORT_QUERYABLES.to_vec();
    if audience == Audience::Internal {
        q.extend_from_slice(INTERNAL_QUERYABLES);
    }
    q
}

const SELECT_PUBLIC: &str = concat!("SELECT r.id, r.category, r.status, ", crate::public_description!(), " AS description, r.district_id, d.name AS district,
        r.unit_code, u.name AS unit, r.duplicate_of, r.supporters, r.near_border, r.channel, r.created_at, r.updated_at,
        ST_X(r.anchor) AS lon, ST_Y(r.anchor) AS lat, ST_AsBinary(r.geom, 'NDR') AS wkb,
        r.address_label AS address, r.address_street, r.address_number");

const INTERNAL_COLUMNS: &str = ", r.routing_rule, r.lang,
        (SELECT min(e.at) FROM report_events e WHERE e.report_id = r.id AND e.kind <> 'created' AND e.kind <> 'duplicate'
            AND e.status IS NOT NULL) AS first_response_at,
        CASE WHEN s.is_open THEN NULL ELSE
            (SELECT max(e.at) FROM report_events e WHERE e.report_id = r.id AND e.status = r.status) END AS closed_at";

const PUBLIC_NULLS: &str =
    ", NULL::text AS routing_rule, NULL::text AS lang, NULL::timestamptz AS first_response_at,
        NULL::timestamptz AS closed_at";

const FROM: &str = " FROM reports r LEFT JOIN districts d ON d.id = r.district_id LEFT JOIN units u ON u.code = r.unit_code
        JOIN statuses s ON s.code = r.status";

/// The SQL of a [`ReportQuery`]: its filters as a bound `WHERE`, the rows, their count.
pub trait ReportQuerySql {
    /// Appends ` WHERE ...` with every filter bound as a parameter.
    fn push_where(
        &self,
        q: &mut QueryBuilder<'_, Postgres>,
        audience: Audience,
    ) -> Result<(), CqlError>;

    /// `SELECT ... WHERE ...` in `order` (none: as PostgreSQL finds them), then LIMIT/OFFSET if given.
    fn select(
        &self,
        audience: Audience,
        order: Option<&str>,
        limit: Option<i64>,
        offset: Option<i64>,
    ) -> Result<QueryBuilder<'static, Postgres>, CqlError>;

    fn count(&self, audience: Audience) -> Result<QueryBuilder<'static, Postgres>, CqlError>;
}

impl ReportQuerySql for ReportQuery {
    fn push_where(
        &self,
        q: &mut QueryBuilder<'_, Postgres>,
        audience: Audience,
    ) -> Result<(), CqlError> {
        // Held reports (see migration 0010) are never in a list, a map or an export.
        q.push(" WHERE NOT r.held");
        if let Some([w, s, e, n]) = self.bbox {
            q.push(" AND r.geom && ST_MakeEnvelope(")
                .push_bind(w)
                .push(", ")
                .push_bind(s)
                .push(", ")
                .push_bind(e);
            q.push(", ")
                .push_bind(n)
                .push(", 4326) AND ST_Intersects(r.geom, ST_MakeEnvelope(")
                .push_bind(w)
                .push(", ")
                .push_bind(s);
            q.push(", ")
                .push_bind(e)
                .push(", ")
                .push_bind(n)
                .push(", 4326))");
        }
        if !self.categories.is_empty() {
            q.push(" AND r.category = ANY(")
                .push_bind(self.categories.clone())
                .push(")");
        }
        if !self.statuses.is_empty() {
            q.push(" AND r.status = ANY(")
                .push_bind(self.statuses.clone())
                .push(")");
        }
        if !self.districts.is_empty() {
            q.push(" AND r.district_id = ANY(")
                .push_bind(self.districts.clone())
                .push(")");
        }
        if !self.units.is_empty() {
            q.push(" AND r.unit_code = ANY(")
                .push_bind(self.units.clone())
                .push(")");
        }
        if !self.ids.is_empty() {
            q.push(" AND r.id = ANY(")
                .push_bind(self.ids.clone())
                .push(")");
        }
        if let Some(since) = self.since {
            q.push(" AND r.created_at >= ").push_bind(since);
        }
        if let Some(until) = self.until {
            q.push(" AND r.created_at < ").push_bind(until);
        }
        if let Some((a, b)) = self.datetime {
            if let Some(a) = a {
                q.push(" AND r.created_at >= ").push_bind(a);
            }
            if let Some(b) = b {
                q.push(" AND r.created_at <= ").push_bind(b);
            }
        }
        if let Some(open) = self.open {
            q.push(" AND s.is_open = ").push_bind(open);
        }
        if let Some(expr) = &self.filter {
            q.push(" AND ");
            cql::push_sql(q, expr, &queryables(audience))?;
        }
        Ok(())
    }

    fn select(
        &self,
        audience: Audience,
        order: Option<&str>,
        limit: Option<i64>,
        offset: Option<i64>,
    ) -> Result<QueryBuilder<'static, Postgres>, CqlError> {
        let mut q = QueryBuilder::new(SELECT_PUBLIC);
        q.push(if audience == Audience::Internal {
            INTERNAL_COLUMNS
        } else {
            PUBLIC_NULLS
        });
        q.push(FROM);
        self.push_where(&mut q, audience)?;
        if let Some(order) = order {
            q.push(" ORDER BY ").push(order);
        }
        if let Some(l) = limit {
            q.push(" LIMIT ").push_bind(l);
        }
        if let Some(o) = offset.filter(|o| *o > 0) {
            q.push(" OFFSET ").push_bind(o);
        }
        Ok(q)
    }

    fn count(&self, audience: Audience) -> Result<QueryBuilder<'static, Postgres>, CqlError> {
        let mut q = QueryBuilder::new("SELECT count(*)");
        q.push(FROM);
        self.push_where(&mut q, audience)?;
        Ok(q)
    }
}

/// Order of ids: ascending (OGC paging, exports).
pub const BY_ID: &str = "r.id";
/// Newest first (Open311).
pub const NEWEST_FIRST: &str = "r.created_at DESC, r.id DESC";

/// Rows per batch handed from the database reader to the writer thread.
const BATCH: usize = 1024;

/// Checks the query (CQL2 names, types) before anything is sent.
pub fn validate(query: &ReportQuery, audience: Audience) -> Result<(), CqlError> {
    query.select(audience, Some(BY_ID), None, None).map(|_| ())
}

/// Rows as read, undecoded: decoding is left to the writer's thread (see [`produce`]).
pub struct RowBatch(Vec<PgRow>);

impl crate::export::Batch for RowBatch {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn decode_into(&self, i: usize, out: &mut ExportRow) -> io::Result<()> {
        decode_into(&self.0[i], out).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }
}

/// Reads every matching row (in storage order) and sends them in batches, undecoded:
/// decoding is left to the writer's thread, which shares the work with this one (the reader was
/// the bottleneck); stops when the receiver goes.
pub async fn produce(
    pool: PgPool,
    query: ReportQuery,
    audience: Audience,
    tx: mpsc::Sender<RowBatch>,
) -> Result<u64, String> {
    // No ORDER BY: FlatGeobuf puts its features in index order whatever order they come in, and
    // the other formats have no order either. Reading the table as it lies (a sequential scan
    // with hash joins) costs PostgreSQL about half of reading it in id order (an index scan, which
    // it also splits over parallel workers that compete with the writer for the same cores), and
    // rows stored in id order mostly come out in id order anyway.
    let mut q = query
        .select(audience, None, None, None)
        .map_err(|e| e.message)?;
    let mut stream = q.build().fetch(&pool);
    let mut batch = Vec::with_capacity(BATCH);
    let mut n = 0u64;
    while let Some(row) = stream.try_next().await.map_err(|e| e.to_string())? {
        batch.push(row);
        n += 1;
        if batch.len() == BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            if tx.send(RowBatch(full)).await.is_err() {
                return Ok(n);
            }
        }
    }
    if !batch.is_empty() {
        let _ = tx.send(RowBatch(batch)).await;
    }
    Ok(n)
}

/// Fetches a page of rows (OGC API items, Open311).
pub async fn fetch_page(
    pool: &PgPool,
    query: &ReportQuery,
    audience: Audience,
    order: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<ExportRow>, ReadError> {
    let mut q = query.select(audience, Some(order), Some(limit), Some(offset))?;
    let rows = q.build().fetch_all(pool).await?;
    Ok(rows.iter().map(decode).collect::<sqlx::Result<_>>()?)
}

/// How many rows match.
pub async fn count(
    pool: &PgPool,
    query: &ReportQuery,
    audience: Audience,
) -> Result<i64, ReadError> {
    let mut q = query.count(audience)?;
    Ok(q.build_query_scalar::<i64>().fetch_one(pool).await?)
}

/// The loaded city's name, its data attribution and its [west, south, east, north]; `None`
/// before a city is set up.
pub async fn city_frame(pool: &PgPool) -> sqlx::Result<Option<(String, String, [f64; 4])>> {
    let row: Option<(String, String, f64, f64, f64, f64)> = sqlx::query_as(
        "SELECT name, attribution, ST_XMin(boundary::box2d), ST_YMin(boundary::box2d),
                ST_XMax(boundary::box2d), ST_YMax(boundary::box2d) FROM city",
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(name, attribution, w, s, e, n)| (name, attribution, [w, s, e, n])))
}

fn decode(row: &PgRow) -> sqlx::Result<ExportRow> {
    let mut out = ExportRow::default();
    decode_into(row, &mut out)?;
    Ok(out)
}

/// Decodes a row into `out`, reusing its strings' buffers: an export decodes a million rows, and
/// allocating eight strings for each was a tenth of its time. The columns' types are fixed by the
/// one query that produces them, so sqlx's per-value type check is skipped.
fn decode_into(row: &PgRow, out: &mut ExportRow) -> sqlx::Result<()> {
    fn text(row: &PgRow, i: usize, to: &mut String) -> sqlx::Result<()> {
        to.clear();
        to.push_str(row.try_get_unchecked::<&str, _>(i)?);
        Ok(())
    }
    fn opt_text(row: &PgRow, i: usize, to: &mut Option<String>) -> sqlx::Result<()> {
        match row.try_get_unchecked::<Option<&str>, _>(i)? {
            None => *to = None,
            Some(v) => {
                let s = to.get_or_insert_with(String::new);
                s.clear();
                s.push_str(v);
            }
        }
        Ok(())
    }
    out.id = row.try_get_unchecked(0)?;
    text(row, 1, &mut out.category)?;
    text(row, 2, &mut out.status)?;
    text(row, 3, &mut out.description)?;
    out.district_id = row.try_get_unchecked(4)?;
    opt_text(row, 5, &mut out.district)?;
    opt_text(row, 6, &mut out.unit_code)?;
    opt_text(row, 7, &mut out.unit)?;
    out.duplicate_of = row.try_get_unchecked(8)?;
    out.supporters = row.try_get_unchecked(9)?;
    out.near_border = row.try_get_unchecked(10)?;
    text(row, 11, &mut out.channel)?;
    out.created_at = row.try_get_unchecked(12)?;
    out.updated_at = row.try_get_unchecked(13)?;
    out.lon = row.try_get_unchecked(14)?;
    out.lat = row.try_get_unchecked(15)?;
    out.wkb.clear();
    out.wkb
        .extend_from_slice(row.try_get_unchecked::<&[u8], _>(16)?);
    opt_text(row, 17, &mut out.address)?;
    opt_text(row, 18, &mut out.address_street)?;
    opt_text(row, 19, &mut out.address_number)?;
    opt_text(row, 20, &mut out.routing_rule)?;
    opt_text(row, 21, &mut out.lang)?;
    out.first_response_at = row.try_get_unchecked(22)?;
    out.closed_at = row.try_get_unchecked(23)?;
    Ok(())
}
