//! The one query behind OGC API items, exports and Open311 reads: reports with their district and
//! unit, filtered with bound parameters (list filters, CQL2), geometry as WKB. Public rows never
//! carry the reporter's contact; internal rows (analysts) add routing and timing, still no contact.
use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder};

use crate::cql::{self, QType, Queryable};
use crate::error::ApiError;

/// What a caller may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Public,
    /// Analysts: unit, routing rule and timing fields (never contact data).
    Internal,
}

#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct ExportRow {
    pub id: i64,
    pub category: String,
    pub status: String,
    pub description: String,
    pub district_id: Option<i32>,
    pub district: Option<String>,
    pub unit_code: Option<String>,
    pub unit: Option<String>,
    pub duplicate_of: Option<i64>,
    pub supporters: i32,
    pub near_border: bool,
    pub channel: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub lon: f64,
    pub lat: f64,
    pub wkb: Vec<u8>,
    pub routing_rule: Option<String>,
    pub lang: Option<String>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// A field's type in the flat formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Long,
    Int,
    Text,
    Bool,
    Time,
}

pub struct Field {
    pub name: &'static str,
    pub ty: FieldType,
    pub internal: bool,
}

const fn f(name: &'static str, ty: FieldType, internal: bool) -> Field {
    Field { name, ty, internal }
}

/// Every exported attribute, in order. Contact columns are not among them, on purpose.
pub const FIELDS: &[Field] = &[
    f("id", FieldType::Long, false),
    f("category", FieldType::Text, false),
    f("status", FieldType::Text, false),
    f("description", FieldType::Text, false),
    f("district_id", FieldType::Int, false),
    f("district", FieldType::Text, false),
    f("unit_code", FieldType::Text, false),
    f("unit", FieldType::Text, false),
    f("duplicate_of", FieldType::Long, false),
    f("supporters", FieldType::Int, false),
    f("near_border", FieldType::Bool, false),
    f("channel", FieldType::Text, false),
    f("created_at", FieldType::Time, false),
    f("updated_at", FieldType::Time, false),
    f("routing_rule", FieldType::Text, true),
    f("lang", FieldType::Text, true),
    f("first_response_at", FieldType::Time, true),
    f("closed_at", FieldType::Time, true),
];

pub fn fields(audience: Audience) -> impl Iterator<Item = (usize, &'static Field)> + Clone {
    FIELDS
        .iter()
        .enumerate()
        .filter(move |(_, f)| audience == Audience::Internal || !f.internal)
}

pub enum Val<'a> {
    Null,
    Int(i64),
    Bool(bool),
    Str(&'a str),
    Time(DateTime<Utc>),
}

impl ExportRow {
    /// The value of `FIELDS[i]`.
    pub fn value(&self, i: usize) -> Val<'_> {
        fn s(o: &Option<String>) -> Val<'_> {
            o.as_deref().map(Val::Str).unwrap_or(Val::Null)
        }
        fn t(o: Option<DateTime<Utc>>) -> Val<'static> {
            o.map(Val::Time).unwrap_or(Val::Null)
        }
        match i {
            0 => Val::Int(self.id),
            1 => Val::Str(&self.category),
            2 => Val::Str(&self.status),
            3 => Val::Str(&self.description),
            4 => self
                .district_id
                .map(|v| Val::Int(v as i64))
                .unwrap_or(Val::Null),
            5 => s(&self.district),
            6 => s(&self.unit_code),
            7 => s(&self.unit),
            8 => self.duplicate_of.map(Val::Int).unwrap_or(Val::Null),
            9 => Val::Int(self.supporters as i64),
            10 => Val::Bool(self.near_border),
            11 => Val::Str(&self.channel),
            12 => Val::Time(self.created_at),
            13 => Val::Time(self.updated_at),
            14 => s(&self.routing_rule),
            15 => s(&self.lang),
            16 => t(self.first_response_at),
            17 => t(self.closed_at),
            _ => Val::Null,
        }
    }
}

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
        sql: "r.description",
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

/// Filters shared by the reports list, OGC API items, exports and Open311.
#[derive(Debug, Default, Clone)]
pub struct ReportQuery {
    pub bbox: Option<[f64; 4]>,
    pub categories: Vec<String>,
    pub statuses: Vec<String>,
    pub districts: Vec<i32>,
    pub units: Vec<String>,
    pub ids: Vec<i64>,
    /// `created_at >= since`.
    pub since: Option<DateTime<Utc>>,
    /// `created_at < until`.
    pub until: Option<DateTime<Utc>>,
    /// OGC `datetime`: inclusive bounds on `created_at`.
    pub datetime: Option<(Option<DateTime<Utc>>, Option<DateTime<Utc>>)>,
    /// Open (true) or closed (false) statuses only.
    pub open: Option<bool>,
    pub filter: Option<cql::Expr>,
}

const SELECT_PUBLIC: &str = "SELECT r.id, r.category, r.status, r.description, r.district_id, d.name AS district,
        r.unit_code, u.name AS unit, r.duplicate_of, r.supporters, r.near_border, r.channel, r.created_at, r.updated_at,
        ST_X(r.anchor) AS lon, ST_Y(r.anchor) AS lat, ST_AsBinary(r.geom, 'NDR') AS wkb";

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

impl ReportQuery {
    /// Appends ` WHERE ...` with every filter bound as a parameter.
    pub fn push_where(
        &self,
        q: &mut QueryBuilder<'_, Postgres>,
        audience: Audience,
    ) -> Result<(), ApiError> {
        q.push(" WHERE true");
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

    /// `SELECT ... WHERE ...` in `order` (none: as PostgreSQL finds them), then LIMIT/OFFSET if given.
    pub fn select(
        &self,
        audience: Audience,
        order: Option<&str>,
        limit: Option<i64>,
        offset: Option<i64>,
    ) -> Result<QueryBuilder<'static, Postgres>, ApiError> {
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

    pub fn count(&self, audience: Audience) -> Result<QueryBuilder<'static, Postgres>, ApiError> {
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
