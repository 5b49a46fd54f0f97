//! Districts as an OGC API collection, and the reports' time extent.
use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, QueryBuilder};

use super::ReadError;
use crate::cql::CqlError;
use crate::cql::{self, QType, Queryable};

pub const DISTRICT_QUERYABLES: &[Queryable] = &[
    Queryable {
        name: "id",
        sql: "id",
        ty: QType::Int,
        title: "District number",
    },
    Queryable {
        name: "code",
        sql: "code",
        ty: QType::Text,
        title: "Roman numeral",
    },
    Queryable {
        name: "name",
        sql: "name",
        ty: QType::Text,
        title: "Name",
    },
    Queryable {
        name: "full_name",
        sql: "full_name",
        ty: QType::Text,
        title: "Full name",
    },
    Queryable {
        name: "geometry",
        sql: "geom",
        ty: QType::Geometry,
        title: "Boundary",
    },
];

#[derive(Debug, sqlx::FromRow)]
pub struct DistrictRow {
    pub id: i32,
    pub code: String,
    pub name: String,
    pub full_name: String,
    pub area_km2: f64,
    pub geometry: String,
}

#[derive(Debug, Default)]
pub struct DistrictQuery {
    pub bbox: Option<[f64; 4]>,
    pub id: Option<i32>,
    pub filter: Option<cql::Expr>,
}

impl DistrictQuery {
    fn push_where(&self, q: &mut QueryBuilder<'_, Postgres>) -> Result<(), CqlError> {
        q.push(" FROM districts WHERE true");
        if let Some([w, s, e, n]) = self.bbox {
            q.push(" AND ST_Intersects(geom, ST_MakeEnvelope(")
                .push_bind(w)
                .push(", ")
                .push_bind(s)
                .push(", ")
                .push_bind(e);
            q.push(", ").push_bind(n).push(", 4326))");
        }
        if let Some(id) = self.id {
            q.push(" AND id = ").push_bind(id);
        }
        if let Some(f) = &self.filter {
            q.push(" AND ");
            cql::push_sql(q, f, DISTRICT_QUERYABLES)?;
        }
        Ok(())
    }
}

pub async fn districts(
    pool: &PgPool,
    query: &DistrictQuery,
    limit: i64,
    offset: i64,
) -> Result<(Vec<DistrictRow>, i64), ReadError> {
    let mut q = QueryBuilder::new(
        "SELECT id, code, name, full_name, round((ST_Area(geom::geography) / 1e6)::numeric, 3)::float8 AS area_km2, ST_AsGeoJSON(geom, 7) AS geometry",
    );
    query.push_where(&mut q)?;
    q.push(" ORDER BY id LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    let rows = q.build_query_as::<DistrictRow>().fetch_all(pool).await?;
    let mut c = QueryBuilder::new("SELECT count(*)");
    query.push_where(&mut c)?;
    let n: i64 = c.build_query_scalar().fetch_one(pool).await?;
    Ok((rows, n))
}

/// First report's time (the collection's temporal extent starts there).
pub async fn first_report_at(pool: &PgPool) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar!("SELECT min(created_at) FROM reports")
        .fetch_one(pool)
        .await
}
