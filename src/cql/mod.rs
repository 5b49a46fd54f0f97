//! CQL2 (OGC API – Features Part 3): the text and JSON encodings parsed into one expression tree,
//! checked against a collection's queryables and pushed into a `QueryBuilder` with bound
//! parameters. Column expressions come only from the queryables table, never from the filter.
//!
//! Parsed: every construct of CQL2 1.0 (all the standard's examples). Run in PostGIS: comparisons,
//! `AND/OR/NOT`, `LIKE` (and `ILIKE`), `IN`, `BETWEEN`, `IS [NOT] NULL`, `CASEI`, `ACCENTI`,
//! arithmetic (`+ - * / ^ % div`), the 15 `T_*` functions over instants, dates and intervals
//! (open ends, properties as ends) and the 8 `S_*` functions with WKT, GeoJSON or `BBOX` literals.
//! Not run: array functions (`A_*`) and custom functions, answered with a named error.
//!
//! This layer knows nothing of HTTP: it answers [`CqlError`], which the HTTP layer maps to a 400.
mod ast;
mod error;
mod json;
mod sql;
mod text;

#[cfg(test)]
mod conformance_tests;
#[cfg(test)]
mod tests;
pub mod time;

use serde_json::{json, Value};

pub use ast::{ArithOp, ArrayOp, CmpOp, Expr, Geom, Lit, Operand, Pos, SpatialOp, TemporalOp};
pub use error::{CqlError, CqlResult, INVALID_FILTER, INVALID_PARAMETER, UNKNOWN_PROPERTY};
pub use json::parse_json;
pub use sql::push_sql;
pub use text::parse_text;

/// The CQL2 1.0 conformance classes this service implements: every example of the standard in
/// them parses (see `conformance_tests`), and their SQL runs on the service's own queryables.
pub const CONFORMANCE: &[&str] = &[
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/accent-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/arithmetic",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QType {
    Text,
    Int,
    Float,
    Bool,
    Time,
    Geometry,
}

impl QType {
    fn json_schema(self) -> Value {
        match self {
            QType::Text => json!({"type": "string"}),
            QType::Int => json!({"type": "integer"}),
            QType::Float => json!({"type": "number"}),
            QType::Bool => json!({"type": "boolean"}),
            QType::Time => json!({"type": "string", "format": "date-time"}),
            QType::Geometry => {
                json!({"format": "geometry-any", "$ref": "https://geojson.org/schema/Geometry.json"})
            }
        }
    }
}

/// A property a filter may name: its name, the SQL expression it stands for, its type.
#[derive(Debug, Clone, Copy)]
pub struct Queryable {
    pub name: &'static str,
    pub sql: &'static str,
    pub ty: QType,
    pub title: &'static str,
}

/// The JSON Schema of `/collections/{id}/queryables`.
pub fn queryables_schema(id: &str, url: &str, qs: &[Queryable]) -> Value {
    let mut props = serde_json::Map::new();
    for q in qs {
        let mut s = q.ty.json_schema();
        s["title"] = json!(q.title);
        props.insert(q.name.to_owned(), s);
    }
    json!({
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": url,
        "type": "object",
        "title": id,
        "properties": props,
        "additionalProperties": false,
        // Earlier drafts of Part 3 listed queryables this way; some clients still read it.
        "queryables": qs.iter().map(|q| json!({"id": q.name, "type": q.ty.json_schema()["type"], "title": q.title})).collect::<Vec<_>>(),
    })
}

/// Parses `filter` in the language `filter-lang` names (default CQL2 text).
pub fn parse(filter: &str, lang: Option<&str>) -> CqlResult<Expr> {
    match lang.map(str::to_ascii_lowercase).as_deref() {
        None | Some("cql2-text") | Some("cql-text") => parse_text(filter),
        Some("cql2-json") | Some("cql-json") => parse_json(filter),
        Some(other) => Err(CqlError::parameter(
            "filter-lang",
            format!("filter-lang {other:?} is not supported; use cql2-text or cql2-json"),
        )),
    }
}
