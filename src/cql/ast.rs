//! The expression tree both encodings parse into, and the checks they share (positions, rings,
//! boxes, instants), so that the same filter gives the same tree in text and in JSON.
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Value};

use super::error::{bad, CqlResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

impl CmpOp {
    pub fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "=" => Self::Eq,
            "<>" | "!=" => Self::Ne,
            "<" => Self::Lt,
            ">" => Self::Gt,
            "<=" => Self::Le,
            ">=" => Self::Ge,
            _ => return None,
        })
    }

    pub fn sql(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ne => "<>",
            Self::Lt => "<",
            Self::Gt => ">",
            Self::Le => "<=",
            Self::Ge => ">=",
        }
    }

    /// The operator with its sides swapped (`a < b` is `b > a`).
    pub fn flip(self) -> Self {
        match self {
            Self::Lt => Self::Gt,
            Self::Gt => Self::Lt,
            Self::Le => Self::Ge,
            Self::Ge => Self::Le,
            o => o,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    /// `^`
    Pow,
    /// `%`
    Mod,
    /// `div`: integer division.
    IntDiv,
}

impl ArithOp {
    pub fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "+" => Self::Add,
            "-" => Self::Sub,
            "*" => Self::Mul,
            "/" => Self::Div,
            "^" => Self::Pow,
            "%" => Self::Mod,
            "div" => Self::IntDiv,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpatialOp {
    Intersects,
    Disjoint,
    Within,
    Contains,
    Equals,
    Touches,
    Crosses,
    Overlaps,
}

impl SpatialOp {
    pub const ALL: [(&'static str, SpatialOp); 8] = [
        ("s_intersects", Self::Intersects),
        ("s_disjoint", Self::Disjoint),
        ("s_within", Self::Within),
        ("s_contains", Self::Contains),
        ("s_equals", Self::Equals),
        ("s_touches", Self::Touches),
        ("s_crosses", Self::Crosses),
        ("s_overlaps", Self::Overlaps),
    ];

    /// From a lower-case name (`s_intersects`).
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.iter().find(|(n, _)| *n == s).map(|(_, o)| *o)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemporalOp {
    After,
    Before,
    Contains,
    Disjoint,
    During,
    Equals,
    FinishedBy,
    Finishes,
    Intersects,
    Meets,
    MetBy,
    OverlappedBy,
    Overlaps,
    StartedBy,
    Starts,
}

impl TemporalOp {
    pub const ALL: [(&'static str, TemporalOp); 15] = [
        ("t_after", Self::After),
        ("t_before", Self::Before),
        ("t_contains", Self::Contains),
        ("t_disjoint", Self::Disjoint),
        ("t_during", Self::During),
        ("t_equals", Self::Equals),
        ("t_finishedby", Self::FinishedBy),
        ("t_finishes", Self::Finishes),
        ("t_intersects", Self::Intersects),
        ("t_meets", Self::Meets),
        ("t_metby", Self::MetBy),
        ("t_overlappedby", Self::OverlappedBy),
        ("t_overlaps", Self::Overlaps),
        ("t_startedby", Self::StartedBy),
        ("t_starts", Self::Starts),
    ];

    /// From a lower-case name (`t_metby`).
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.iter().find(|(n, _)| *n == s).map(|(_, o)| *o)
    }

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, o)| *o == self)
            .map(|(n, _)| *n)
            .unwrap_or("t_?")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrayOp {
    Equals,
    Contains,
    ContainedBy,
    Overlaps,
}

impl ArrayOp {
    /// From a lower-case name (`a_containedby`).
    pub fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "a_equals" => Self::Equals,
            "a_contains" => Self::Contains,
            "a_containedby" => Self::ContainedBy,
            "a_overlaps" => Self::Overlaps,
            _ => return None,
        })
    }
}

/// A position: longitude, latitude and perhaps a height.
pub type Pos = Vec<f64>;

#[derive(Debug, Clone, PartialEq)]
pub enum Geom {
    Point(Pos),
    LineString(Vec<Pos>),
    Polygon(Vec<Vec<Pos>>),
    MultiPoint(Vec<Pos>),
    MultiLineString(Vec<Vec<Pos>>),
    MultiPolygon(Vec<Vec<Vec<Pos>>>),
    Collection(Vec<Geom>),
}

impl Geom {
    pub fn to_geojson(&self) -> Value {
        match self {
            Geom::Point(c) => json!({"type": "Point", "coordinates": c}),
            Geom::LineString(c) => json!({"type": "LineString", "coordinates": c}),
            Geom::Polygon(c) => json!({"type": "Polygon", "coordinates": c}),
            Geom::MultiPoint(c) => json!({"type": "MultiPoint", "coordinates": c}),
            Geom::MultiLineString(c) => json!({"type": "MultiLineString", "coordinates": c}),
            Geom::MultiPolygon(c) => json!({"type": "MultiPolygon", "coordinates": c}),
            Geom::Collection(g) => json!({
                "type": "GeometryCollection",
                "geometries": g.iter().map(Geom::to_geojson).collect::<Vec<_>>(),
            }),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Str(String),
    Num(f64),
    Bool(bool),
    Time(DateTime<Utc>),
    /// A date: the whole day where it is compared in time.
    Date(NaiveDate),
    /// `..`: an open end of an interval.
    Open,
    Geom(Geom),
    /// west, south, east, north (a 6-number box loses its heights).
    BBox([f64; 4]),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Prop(String),
    Lit(Lit),
    Casei(Box<Operand>),
    Accenti(Box<Operand>),
    Arith(ArithOp, Box<Operand>, Box<Operand>),
    /// `INTERVAL(start, end)`: instants, `..` or properties.
    Interval(Box<Operand>, Box<Operand>),
    /// A list of values (`('a', 'b')` in text, `[...]` in JSON).
    Array(Vec<Operand>),
    /// A function the standard leaves to each server (`Buffer`, `avg`): read, never run here.
    Call(String, Vec<Operand>),
}

impl Operand {
    /// Whether a property appears anywhere in it.
    pub fn has_prop(&self) -> bool {
        match self {
            Operand::Prop(_) => true,
            Operand::Lit(_) => false,
            Operand::Casei(x) | Operand::Accenti(x) => x.has_prop(),
            Operand::Arith(_, a, b) | Operand::Interval(a, b) => a.has_prop() || b.has_prop(),
            Operand::Array(v) | Operand::Call(_, v) => v.iter().any(Operand::has_prop),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Bool(bool),
    Cmp(CmpOp, Operand, Operand),
    Like {
        value: Operand,
        pattern: Operand,
        insensitive: bool,
    },
    In(Operand, Vec<Operand>),
    Between(Operand, Operand, Operand),
    IsNull(Operand),
    Spatial(SpatialOp, Operand, Operand),
    Temporal(TemporalOp, Operand, Operand),
    Array(ArrayOp, Operand, Operand),
    /// A boolean property (or a function) used as a predicate.
    Pred(Operand),
}

// ---------------------------------------------------------------- shared checks

/// An interval end written as a string: `..`, a date or an RFC 3339 time.
pub fn interval_end(s: &str) -> CqlResult<Lit> {
    if s == ".." {
        return Ok(Lit::Open);
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(Lit::Date(d));
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| Lit::Time(t.with_timezone(&Utc)))
        .map_err(|_| bad(format!("{s:?} is not a time, a date or '..'")))
}

pub fn timestamp(s: &str) -> CqlResult<Lit> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| Lit::Time(t.with_timezone(&Utc)))
        .map_err(|_| bad(format!("TIMESTAMP({s:?}) is not an RFC 3339 time")))
}

pub fn date(s: &str) -> CqlResult<Lit> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(Lit::Date)
        .map_err(|_| bad(format!("DATE({s:?}) is not a YYYY-MM-DD date")))
}

/// A box from 4 numbers (west, south, east, north) or 6 (with the lowest and highest heights).
pub fn bbox(n: &[f64]) -> CqlResult<[f64; 4]> {
    let [w, s, e, nn] = match n {
        [w, s, e, n] => [*w, *s, *e, *n],
        [w, s, _, e, n, _] => [*w, *s, *e, *n],
        _ => return Err(bad("a bbox has 4 numbers: west, south, east, north")),
    };
    if !(-180.0..=180.0).contains(&w)
        || !(-180.0..=180.0).contains(&e)
        || !(-90.0..=90.0).contains(&s)
        || !(-90.0..=90.0).contains(&nn)
        || s > nn
        || w > e
    {
        return Err(bad(format!(
            "bbox {w},{s},{e},{nn} is not a west,south,east,north box in degrees"
        )));
    }
    Ok([w, s, e, nn])
}

/// Coordinates as written, before they are given a geometry type.
#[derive(Debug, Clone, PartialEq)]
pub enum Nested {
    Pos(Pos),
    List(Vec<Nested>),
}

fn position(n: &Nested) -> CqlResult<Pos> {
    let Nested::Pos(p) = n else {
        return Err(bad("expected a position, found a nested list"));
    };
    if !(2..=3).contains(&p.len()) {
        return Err(bad(
            "a position is two numbers (longitude latitude) or three (with a height)",
        ));
    }
    if !p.iter().all(|x| x.is_finite())
        || !(-180.0..=180.0).contains(&p[0])
        || !(-90.0..=90.0).contains(&p[1])
    {
        return Err(bad(format!(
            "position {} {} is outside longitude -180..180, latitude -90..90",
            p[0], p[1]
        )));
    }
    Ok(p.clone())
}

fn list<'a>(n: &'a Nested, what: &str) -> CqlResult<&'a [Nested]> {
    match n {
        Nested::List(v) if !v.is_empty() => Ok(v),
        Nested::List(_) => Err(bad(format!("{what} has no positions"))),
        Nested::Pos(_) => Err(bad(format!(
            "the coordinates of {what} are not nested as that type needs"
        ))),
    }
}

fn positions(n: &Nested, what: &str) -> CqlResult<Vec<Pos>> {
    list(n, what)?.iter().map(position).collect()
}

fn line(n: &Nested) -> CqlResult<Vec<Pos>> {
    let p = positions(n, "a line")?;
    if p.len() < 2 {
        return Err(bad("a line needs at least 2 positions"));
    }
    Ok(p)
}

fn polygon(n: &Nested) -> CqlResult<Vec<Vec<Pos>>> {
    list(n, "a polygon")?
        .iter()
        .map(|r| {
            let mut ring = positions(r, "a polygon ring")?;
            if ring.len() < 3 {
                return Err(bad("a polygon ring needs at least 3 positions"));
            }
            if ring.first() != ring.last() {
                ring.push(ring[0].clone());
            }
            Ok(ring)
        })
        .collect()
}

/// Gives coordinates their type (`point`, `multipolygon`...: lower case), checking the nesting,
/// the positions' ranges and closing open polygon rings.
pub fn geometry(kind: &str, c: &Nested) -> CqlResult<Geom> {
    Ok(match kind {
        "point" => match c {
            Nested::Pos(_) => Geom::Point(position(c)?),
            Nested::List(v) if v.len() == 1 => Geom::Point(position(&v[0])?),
            _ => return Err(bad("a point is one position")),
        },
        "linestring" => Geom::LineString(line(c)?),
        "polygon" => Geom::Polygon(polygon(c)?),
        "multipoint" => Geom::MultiPoint(
            // Both MULTIPOINT(1 2, 3 4) and MULTIPOINT((1 2), (3 4)).
            list(c, "a multipoint")?
                .iter()
                .map(|p| match p {
                    Nested::List(v) if v.len() == 1 => position(&v[0]),
                    p => position(p),
                })
                .collect::<CqlResult<_>>()?,
        ),
        "multilinestring" => Geom::MultiLineString(
            list(c, "a multilinestring")?
                .iter()
                .map(line)
                .collect::<CqlResult<_>>()?,
        ),
        "multipolygon" => Geom::MultiPolygon(
            list(c, "a multipolygon")?
                .iter()
                .map(polygon)
                .collect::<CqlResult<_>>()?,
        ),
        _ => return Err(bad(format!("unsupported geometry type {kind}"))),
    })
}
