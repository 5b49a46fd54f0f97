//! CQL2 (OGC API – Features Part 3): the text and JSON encodings parsed into one expression tree,
//! checked against a collection's queryables and pushed into a `QueryBuilder` with bound
//! parameters. Column expressions come only from the queryables table, never from the filter.
//!
//! Supported: comparisons (`= <> < > <= >=`), `AND/OR/NOT`, `LIKE` (and `ILIKE`), `IN`, `BETWEEN`,
//! `IS [NOT] NULL`, `CASEI`, timestamps, dates and intervals with `T_*` functions and comparisons,
//! and the `S_*` spatial functions with WKT, GeoJSON or `BBOX` literals.
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Value};
use sqlx::{Postgres, QueryBuilder};

use crate::error::ApiError;

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

#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Str(String),
    Num(f64),
    Bool(bool),
    Time(DateTime<Utc>),
    Date(NaiveDate),
    /// An interval; `None` is an open end (`..`).
    Interval(Option<DateTime<Utc>>, Option<DateTime<Utc>>),
    /// A geometry as GeoJSON text.
    Geom(String),
    BBox([f64; 4]),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Prop(String),
    Lit(Lit),
    Casei(Box<Operand>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Bool(bool),
    Cmp(&'static str, Operand, Operand),
    Like {
        value: Operand,
        pattern: Operand,
        insensitive: bool,
    },
    In(Operand, Vec<Operand>),
    Between(Operand, Operand, Operand),
    IsNull(Operand),
    Spatial(&'static str, Operand, Operand),
    Temporal(&'static str, Operand, Operand),
    /// A boolean property used as a predicate.
    Prop(String),
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid_filter", message).at("filter")
}

const SPATIAL: [(&str, &str); 8] = [
    ("s_intersects", "ST_Intersects"),
    ("s_disjoint", "ST_Disjoint"),
    ("s_within", "ST_Within"),
    ("s_contains", "ST_Contains"),
    ("s_equals", "ST_Equals"),
    ("s_touches", "ST_Touches"),
    ("s_crosses", "ST_Crosses"),
    ("s_overlaps", "ST_Overlaps"),
];
const TEMPORAL: [&str; 9] = [
    "t_after",
    "t_before",
    "t_during",
    "t_equals",
    "t_intersects",
    "t_disjoint",
    "t_contains",
    "t_starts",
    "t_finishes",
];

fn spatial_fn(name: &str) -> Option<&'static str> {
    SPATIAL.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

fn temporal_fn(name: &str) -> Option<&'static str> {
    TEMPORAL.iter().copied().find(|n| *n == name)
}

fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    crate::http::params::parse_datetime(s)
}

// ---------------------------------------------------------------- text encoding

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Quoted(String),
    Str(String),
    Num(f64),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
    LBracket,
    RBracket,
}

fn tokenize(s: &str) -> Result<Vec<Tok>, ApiError> {
    let c: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < c.len() {
        let ch = c[i];
        if ch.is_whitespace() {
            i += 1;
            continue;
        }
        match ch {
            '(' => out.push(Tok::LParen),
            ')' => out.push(Tok::RParen),
            ',' => out.push(Tok::Comma),
            '[' => out.push(Tok::LBracket),
            ']' => out.push(Tok::RBracket),
            '=' => out.push(Tok::Op("=")),
            '<' | '>' | '!' => {
                let next = c.get(i + 1).copied();
                let op = match (ch, next) {
                    ('<', Some('>')) | ('!', Some('=')) => "<>",
                    ('<', Some('=')) => "<=",
                    ('>', Some('=')) => ">=",
                    ('<', _) => "<",
                    ('>', _) => ">",
                    _ => return Err(bad(format!("unexpected '!' at character {}", i + 1))),
                };
                if op.len() == 2 {
                    i += 1;
                }
                out.push(Tok::Op(op));
            }
            '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match c.get(i) {
                        None => return Err(bad("a string literal is not closed (missing ')")),
                        Some('\'') if c.get(i + 1) == Some(&'\'') => {
                            s.push('\'');
                            i += 1;
                        }
                        Some('\'') => break,
                        Some(x) => s.push(*x),
                    }
                    i += 1;
                }
                out.push(Tok::Str(s));
            }
            '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match c.get(i) {
                        None => {
                            return Err(bad("a quoted property name is not closed (missing \")"))
                        }
                        Some('"') => break,
                        Some(x) => s.push(*x),
                    }
                    i += 1;
                }
                out.push(Tok::Quoted(s));
            }
            _ if ch.is_ascii_digit()
                || ((ch == '-' || ch == '+' || ch == '.')
                    && c.get(i + 1)
                        .is_some_and(|n| n.is_ascii_digit() || *n == '.')) =>
            {
                let start = i;
                i += 1;
                while i < c.len()
                    && (c[i].is_ascii_digit()
                        || c[i] == '.'
                        || c[i] == 'e'
                        || c[i] == 'E'
                        || ((c[i] == '-' || c[i] == '+') && matches!(c[i - 1], 'e' | 'E')))
                {
                    i += 1;
                }
                let text: String = c[start..i].iter().collect();
                let n = text
                    .parse::<f64>()
                    .map_err(|_| bad(format!("{text:?} is not a number")))?;
                out.push(Tok::Num(n));
                continue;
            }
            _ if ch.is_alphabetic() || ch == '_' => {
                let start = i;
                while i < c.len()
                    && (c[i].is_alphanumeric() || c[i] == '_' || c[i] == ':' || c[i] == '.')
                {
                    i += 1;
                }
                out.push(Tok::Ident(c[start..i].iter().collect()));
                continue;
            }
            _ => {
                return Err(bad(format!(
                    "unexpected character {ch:?} at position {}",
                    i + 1
                )))
            }
        }
        i += 1;
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn kw(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(word))
    }
    fn eat_kw(&mut self, word: &str) -> bool {
        if self.kw(word) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, t: Tok, what: &str) -> Result<(), ApiError> {
        match self.next() {
            Some(x) if x == t => Ok(()),
            Some(x) => Err(bad(format!("expected {what}, found {}", show(&x)))),
            None => Err(bad(format!("expected {what}, but the filter ended"))),
        }
    }

    fn or(&mut self) -> Result<Expr, ApiError> {
        let mut items = vec![self.and()?];
        while self.eat_kw("OR") {
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap()
        } else {
            Expr::Or(items)
        })
    }
    fn and(&mut self) -> Result<Expr, ApiError> {
        let mut items = vec![self.not()?];
        while self.eat_kw("AND") {
            items.push(self.not()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap()
        } else {
            Expr::And(items)
        })
    }
    fn not(&mut self) -> Result<Expr, ApiError> {
        if self.eat_kw("NOT") {
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.predicate()
    }

    fn predicate(&mut self) -> Result<Expr, ApiError> {
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let e = self.or()?;
            self.expect(Tok::RParen, "')'")?;
            return Ok(e);
        }
        if let Some(Tok::Ident(w)) = self.peek() {
            let lw = w.to_ascii_lowercase();
            if self.toks.get(self.pos + 1) == Some(&Tok::LParen) {
                if let Some(f) = spatial_fn(&lw) {
                    self.pos += 2;
                    let a = self.operand()?;
                    self.expect(Tok::Comma, "','")?;
                    let b = self.operand()?;
                    self.expect(Tok::RParen, "')'")?;
                    return Ok(Expr::Spatial(f, a, b));
                }
                if let Some(f) = temporal_fn(&lw) {
                    self.pos += 2;
                    let a = self.operand()?;
                    self.expect(Tok::Comma, "','")?;
                    let b = self.operand()?;
                    self.expect(Tok::RParen, "')'")?;
                    return Ok(Expr::Temporal(f, a, b));
                }
            }
            if lw == "true" || lw == "false" {
                // A bare boolean, unless it starts a comparison.
                if !matches!(self.toks.get(self.pos + 1), Some(Tok::Op(_))) {
                    self.pos += 1;
                    return Ok(Expr::Bool(lw == "true"));
                }
            }
        }
        let left = self.operand()?;
        let negated = self.eat_kw("NOT");
        match self.peek().cloned() {
            Some(Tok::Op(op)) if !negated => {
                self.pos += 1;
                let right = self.operand()?;
                Ok(Expr::Cmp(op, left, right))
            }
            Some(Tok::Ident(w))
                if w.eq_ignore_ascii_case("LIKE") || w.eq_ignore_ascii_case("ILIKE") =>
            {
                self.pos += 1;
                let pattern = self.operand()?;
                let e = Expr::Like {
                    value: left,
                    pattern,
                    insensitive: w.eq_ignore_ascii_case("ILIKE"),
                };
                Ok(if negated { Expr::Not(Box::new(e)) } else { e })
            }
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("IN") => {
                self.pos += 1;
                self.expect(Tok::LParen, "'(' after IN")?;
                let mut list = vec![self.operand()?];
                while self.peek() == Some(&Tok::Comma) {
                    self.pos += 1;
                    list.push(self.operand()?);
                }
                self.expect(Tok::RParen, "')' closing the IN list")?;
                let e = Expr::In(left, list);
                Ok(if negated { Expr::Not(Box::new(e)) } else { e })
            }
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("BETWEEN") => {
                self.pos += 1;
                let lo = self.operand()?;
                if !self.eat_kw("AND") {
                    return Err(bad("BETWEEN needs AND: x BETWEEN low AND high"));
                }
                let hi = self.operand()?;
                let e = Expr::Between(left, lo, hi);
                Ok(if negated { Expr::Not(Box::new(e)) } else { e })
            }
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("IS") && !negated => {
                self.pos += 1;
                let not = self.eat_kw("NOT");
                if !self.eat_kw("NULL") {
                    return Err(bad("expected NULL after IS"));
                }
                let e = Expr::IsNull(left);
                Ok(if not { Expr::Not(Box::new(e)) } else { e })
            }
            _ if !negated => match left {
                Operand::Prop(p) => Ok(Expr::Prop(p)),
                _ => Err(bad(match self.peek() {
                    Some(t) => format!(
                        "expected a comparison, LIKE, IN, BETWEEN or IS NULL, found {}",
                        show(t)
                    ),
                    None => "the filter ended where a comparison was expected".into(),
                })),
            },
            _ => Err(bad("NOT here must be followed by LIKE, IN or BETWEEN")),
        }
    }

    fn string_arg(&mut self, what: &str) -> Result<String, ApiError> {
        self.expect(Tok::LParen, &format!("'(' after {what}"))?;
        let s = match self.next() {
            Some(Tok::Str(s)) => s,
            _ => {
                return Err(bad(format!(
                    "{what} takes a quoted string, e.g. {what}('2024-01-01')"
                )))
            }
        };
        self.expect(Tok::RParen, "')'")?;
        Ok(s)
    }

    fn operand(&mut self) -> Result<Operand, ApiError> {
        let t = self
            .next()
            .ok_or_else(|| bad("the filter ended where a value or property was expected"))?;
        match t {
            Tok::Str(s) => Ok(Operand::Lit(Lit::Str(s))),
            Tok::Num(n) => Ok(Operand::Lit(Lit::Num(n))),
            Tok::Quoted(p) => Ok(Operand::Prop(p)),
            Tok::Ident(w) => {
                let lw = w.to_ascii_lowercase();
                let call = self.peek() == Some(&Tok::LParen);
                match lw.as_str() {
                    "true" | "false" => Ok(Operand::Lit(Lit::Bool(lw == "true"))),
                    "timestamp" if call => {
                        let s = self.string_arg("TIMESTAMP")?;
                        let t = DateTime::parse_from_rfc3339(&s).map_err(|_| {
                            bad(format!("TIMESTAMP({s:?}) is not an RFC 3339 time"))
                        })?;
                        Ok(Operand::Lit(Lit::Time(t.with_timezone(&Utc))))
                    }
                    "date" if call => {
                        let s = self.string_arg("DATE")?;
                        let d = NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                            .map_err(|_| bad(format!("DATE({s:?}) is not a YYYY-MM-DD date")))?;
                        Ok(Operand::Lit(Lit::Date(d)))
                    }
                    "interval" if call => {
                        self.pos += 1;
                        let a = self.interval_end()?;
                        self.expect(Tok::Comma, "',' in INTERVAL")?;
                        let b = self.interval_end()?;
                        self.expect(Tok::RParen, "')'")?;
                        Ok(Operand::Lit(Lit::Interval(a, b)))
                    }
                    "casei" if call => {
                        self.pos += 1;
                        let inner = self.operand()?;
                        self.expect(Tok::RParen, "')'")?;
                        Ok(Operand::Casei(Box::new(inner)))
                    }
                    "bbox" if call => {
                        self.pos += 1;
                        let mut n = Vec::new();
                        loop {
                            match self.next() {
                                Some(Tok::Num(x)) => n.push(x),
                                _ => {
                                    return Err(bad(
                                        "BBOX takes 4 numbers: BBOX(west, south, east, north)",
                                    ))
                                }
                            }
                            match self.next() {
                                Some(Tok::Comma) => continue,
                                Some(Tok::RParen) => break,
                                _ => {
                                    return Err(bad(
                                        "BBOX takes 4 numbers: BBOX(west, south, east, north)",
                                    ))
                                }
                            }
                        }
                        Ok(Operand::Lit(Lit::BBox(bbox(&n)?)))
                    }
                    "point" | "linestring" | "polygon" | "multipoint" | "multilinestring"
                    | "multipolygon" => {
                        let coords = self.wkt_coords(&lw)?;
                        Ok(Operand::Lit(Lit::Geom(geojson_text(&lw, coords)?)))
                    }
                    "envelope" if call => {
                        self.pos += 1;
                        let mut n = Vec::new();
                        loop {
                            match self.next() {
                                Some(Tok::Num(x)) => n.push(x),
                                _ => return Err(bad(
                                    "ENVELOPE takes 4 numbers: ENVELOPE(west, east, north, south)",
                                )),
                            }
                            match self.next() {
                                Some(Tok::Comma) => continue,
                                Some(Tok::RParen) => break,
                                _ => return Err(bad("ENVELOPE takes 4 numbers")),
                            }
                        }
                        if n.len() != 4 {
                            return Err(bad(
                                "ENVELOPE takes 4 numbers: ENVELOPE(west, east, north, south)",
                            ));
                        }
                        Ok(Operand::Lit(Lit::BBox(bbox(&[n[0], n[3], n[1], n[2]])?)))
                    }
                    _ if call => Err(bad(format!("unknown function {w}()"))),
                    _ => Ok(Operand::Prop(w)),
                }
            }
            other => Err(bad(format!(
                "expected a value or property, found {}",
                show(&other)
            ))),
        }
    }

    fn interval_end(&mut self) -> Result<Option<DateTime<Utc>>, ApiError> {
        match self.next() {
            Some(Tok::Str(s)) if s == ".." => Ok(None),
            Some(Tok::Str(s)) => parse_instant(&s)
                .map(Some)
                .ok_or_else(|| bad(format!("{s:?} is not a time or date"))),
            Some(Tok::Ident(w))
                if w.eq_ignore_ascii_case("timestamp") || w.eq_ignore_ascii_case("date") =>
            {
                let s = self.string_arg(&w)?;
                parse_instant(&s)
                    .map(Some)
                    .ok_or_else(|| bad(format!("{s:?} is not a time or date")))
            }
            _ => Err(bad(
                "INTERVAL takes two quoted times or '..': INTERVAL('2024-01-01', '..')",
            )),
        }
    }

    /// Nested coordinate lists of a WKT literal, as JSON arrays.
    fn wkt_coords(&mut self, kind: &str) -> Result<Value, ApiError> {
        if self.eat_kw("Z") || self.kw("M") || self.kw("ZM") {
            return Err(bad("only 2D geometry literals are supported"));
        }
        if self.eat_kw("EMPTY") {
            return Err(bad(format!(
                "{} EMPTY matches nothing; give coordinates",
                kind.to_uppercase()
            )));
        }
        self.nested()
    }

    /// `(` either positions `x y, x y` or nested lists `)`.
    fn nested(&mut self) -> Result<Value, ApiError> {
        self.expect(Tok::LParen, "'(' in a geometry")?;
        let mut items = Vec::new();
        loop {
            match self.peek() {
                Some(Tok::LParen) => items.push(self.nested()?),
                Some(Tok::Num(_)) => {
                    let mut pos = Vec::new();
                    while let Some(Tok::Num(n)) = self.peek() {
                        pos.push(*n);
                        self.pos += 1;
                    }
                    if pos.len() != 2 {
                        return Err(bad(
                            "a position in a geometry is two numbers: longitude latitude",
                        ));
                    }
                    if !(-180.0..=180.0).contains(&pos[0]) || !(-90.0..=90.0).contains(&pos[1]) {
                        return Err(bad(format!(
                            "position {} {} is outside longitude -180..180, latitude -90..90",
                            pos[0], pos[1]
                        )));
                    }
                    items.push(json!(pos));
                }
                _ => return Err(bad("a geometry literal is malformed")),
            }
            match self.next() {
                Some(Tok::Comma) => continue,
                Some(Tok::RParen) => break,
                _ => return Err(bad("a geometry literal is malformed (expected ',' or ')')")),
            }
        }
        Ok(Value::Array(items))
    }
}

fn show(t: &Tok) -> String {
    match t {
        Tok::Ident(w) => w.clone(),
        Tok::Quoted(w) => format!("\"{w}\""),
        Tok::Str(s) => format!("'{s}'"),
        Tok::Num(n) => n.to_string(),
        Tok::Op(o) => (*o).to_owned(),
        Tok::LParen => "'('".into(),
        Tok::RParen => "')'".into(),
        Tok::Comma => "','".into(),
        Tok::LBracket => "'['".into(),
        Tok::RBracket => "']'".into(),
    }
}

fn bbox(n: &[f64]) -> Result<[f64; 4], ApiError> {
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

/// Checks the nesting of a geometry's coordinates and writes it as GeoJSON text.
fn geojson_text(kind: &str, coords: Value) -> Result<String, ApiError> {
    fn depth(v: &Value) -> usize {
        match v {
            Value::Array(a) if a.first().is_some_and(Value::is_array) => 1 + depth(&a[0]),
            _ => 0,
        }
    }
    let (name, want, coords) = match kind {
        "point" => (
            "Point",
            0,
            coords
                .as_array()
                .and_then(|a| a.first().cloned())
                .unwrap_or(Value::Null),
        ),
        "linestring" => ("LineString", 1, coords),
        "polygon" => ("Polygon", 2, coords),
        "multipoint" => {
            // Both MULTIPOINT(1 2, 3 4) and MULTIPOINT((1 2), (3 4)).
            let flat: Vec<Value> = coords
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|p| {
                            if depth(p) == 1 {
                                p[0].clone()
                            } else {
                                p.clone()
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            ("MultiPoint", 1, Value::Array(flat))
        }
        "multilinestring" => ("MultiLineString", 2, coords),
        "multipolygon" => ("MultiPolygon", 3, coords),
        _ => return Err(bad(format!("unsupported geometry {kind}"))),
    };
    if depth(&coords) != want || (want == 0 && !coords.is_array()) {
        return Err(bad(format!(
            "the coordinates of {} are not nested as that type needs",
            kind.to_uppercase()
        )));
    }
    let mut coords = coords;
    close_rings(name, &mut coords)?;
    Ok(json!({"type": name, "coordinates": coords}).to_string())
}

fn close_rings(name: &str, coords: &mut Value) -> Result<(), ApiError> {
    let fix = |ring: &mut Value| -> Result<(), ApiError> {
        let r = ring
            .as_array_mut()
            .ok_or_else(|| bad("a ring must be a list of positions"))?;
        if r.len() < 3 {
            return Err(bad("a polygon ring needs at least 3 positions"));
        }
        if r.first() != r.last() {
            let first = r[0].clone();
            r.push(first);
        }
        Ok(())
    };
    match name {
        "Polygon" => {
            for ring in coords.as_array_mut().into_iter().flatten() {
                fix(ring)?;
            }
        }
        "MultiPolygon" => {
            for poly in coords.as_array_mut().into_iter().flatten() {
                for ring in poly.as_array_mut().into_iter().flatten() {
                    fix(ring)?;
                }
            }
        }
        "LineString" if coords.as_array().is_some_and(|a| a.len() < 2) => {
            return Err(bad("a line needs at least 2 positions"))
        }
        _ => {}
    }
    Ok(())
}

/// Parses CQL2 text.
pub fn parse_text(s: &str) -> Result<Expr, ApiError> {
    if s.len() > 20_000 {
        return Err(bad("the filter is too long (at most 20,000 characters)"));
    }
    let toks = tokenize(s)?;
    if toks.is_empty() {
        return Err(bad("the filter is empty"));
    }
    let mut p = Parser { toks, pos: 0 };
    let e = p.or()?;
    if let Some(t) = p.peek() {
        return Err(bad(format!(
            "unexpected {} after the end of the expression",
            show(t)
        )));
    }
    Ok(e)
}

// ---------------------------------------------------------------- JSON encoding

/// Parses CQL2 JSON.
pub fn parse_json(s: &str) -> Result<Expr, ApiError> {
    let v: Value =
        serde_json::from_str(s).map_err(|e| bad(format!("the filter is not valid JSON: {e}")))?;
    json_expr(&v, 0)
}

fn args(v: &Value) -> Result<&Vec<Value>, ApiError> {
    v.get("args")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("an operation needs an \"args\" array"))
}

fn json_expr(v: &Value, depth: usize) -> Result<Expr, ApiError> {
    if depth > 64 {
        return Err(bad("the filter is nested too deeply"));
    }
    if let Value::Bool(b) = v {
        return Ok(Expr::Bool(*b));
    }
    let op = v
        .get("op")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("expected an object {\"op\": ..., \"args\": [...]}"))?;
    let a = args(v)?;
    let lop = op.to_ascii_lowercase();
    let n = |k: usize| -> Result<(), ApiError> {
        if a.len() == k {
            Ok(())
        } else {
            Err(bad(format!("{op} takes {k} arguments, got {}", a.len())))
        }
    };
    Ok(match lop.as_str() {
        "and" | "or" => {
            if a.len() < 2 {
                return Err(bad(format!("{op} takes at least 2 arguments")));
            }
            let items = a
                .iter()
                .map(|x| json_expr(x, depth + 1))
                .collect::<Result<Vec<_>, _>>()?;
            if lop == "and" {
                Expr::And(items)
            } else {
                Expr::Or(items)
            }
        }
        "not" => {
            n(1)?;
            Expr::Not(Box::new(json_expr(&a[0], depth + 1)?))
        }
        "=" | "<>" | "<" | ">" | "<=" | ">=" => {
            n(2)?;
            let op = ["=", "<>", "<", ">", "<=", ">="]
                .into_iter()
                .find(|o| *o == lop)
                .unwrap();
            Expr::Cmp(op, json_operand(&a[0])?, json_operand(&a[1])?)
        }
        "like" => {
            n(2)?;
            Expr::Like {
                value: json_operand(&a[0])?,
                pattern: json_operand(&a[1])?,
                insensitive: false,
            }
        }
        "in" => {
            n(2)?;
            let list = a[1]
                .as_array()
                .ok_or_else(|| bad("in takes a property and an array of values"))?;
            Expr::In(
                json_operand(&a[0])?,
                list.iter().map(json_operand).collect::<Result<_, _>>()?,
            )
        }
        "between" => {
            n(3)?;
            Expr::Between(
                json_operand(&a[0])?,
                json_operand(&a[1])?,
                json_operand(&a[2])?,
            )
        }
        "isnull" => {
            n(1)?;
            Expr::IsNull(json_operand(&a[0])?)
        }
        _ if spatial_fn(&lop).is_some() => {
            n(2)?;
            Expr::Spatial(
                spatial_fn(&lop).unwrap(),
                json_operand(&a[0])?,
                json_operand(&a[1])?,
            )
        }
        _ if temporal_fn(&lop).is_some() => {
            n(2)?;
            Expr::Temporal(
                temporal_fn(&lop).unwrap(),
                json_operand(&a[0])?,
                json_operand(&a[1])?,
            )
        }
        _ => return Err(bad(format!("unsupported operator {op:?}"))),
    })
}

fn json_operand(v: &Value) -> Result<Operand, ApiError> {
    Ok(match v {
        Value::String(s) => Operand::Lit(Lit::Str(s.clone())),
        Value::Number(n) => Operand::Lit(Lit::Num(
            n.as_f64().ok_or_else(|| bad("a number is out of range"))?,
        )),
        Value::Bool(b) => Operand::Lit(Lit::Bool(*b)),
        Value::Object(o) => {
            if let Some(p) = o.get("property").and_then(Value::as_str) {
                Operand::Prop(p.to_owned())
            } else if let Some(t) = o.get("timestamp").and_then(Value::as_str) {
                let t = DateTime::parse_from_rfc3339(t)
                    .map_err(|_| bad(format!("timestamp {t:?} is not RFC 3339")))?;
                Operand::Lit(Lit::Time(t.with_timezone(&Utc)))
            } else if let Some(d) = o.get("date").and_then(Value::as_str) {
                Operand::Lit(Lit::Date(
                    NaiveDate::parse_from_str(d, "%Y-%m-%d")
                        .map_err(|_| bad(format!("date {d:?} is not YYYY-MM-DD")))?,
                ))
            } else if let Some(i) = o.get("interval").and_then(Value::as_array) {
                if i.len() != 2 {
                    return Err(bad("interval takes two ends"));
                }
                let end = |x: &Value| -> Result<Option<DateTime<Utc>>, ApiError> {
                    let s = x
                        .as_str()
                        .or_else(|| x.get("timestamp").and_then(Value::as_str))
                        .or_else(|| x.get("date").and_then(Value::as_str))
                        .ok_or_else(|| bad("interval ends are times, dates or \"..\""))?;
                    if s == ".." {
                        Ok(None)
                    } else {
                        parse_instant(s)
                            .map(Some)
                            .ok_or_else(|| bad(format!("{s:?} is not a time")))
                    }
                };
                Operand::Lit(Lit::Interval(end(&i[0])?, end(&i[1])?))
            } else if let Some(b) = o.get("bbox").and_then(Value::as_array) {
                let n: Vec<f64> = b
                    .iter()
                    .map(|x| x.as_f64().ok_or_else(|| bad("bbox values are numbers")))
                    .collect::<Result<_, _>>()?;
                Operand::Lit(Lit::BBox(bbox(&n)?))
            } else if let (Some(t), Some(c)) =
                (o.get("type").and_then(Value::as_str), o.get("coordinates"))
            {
                let kind = t.to_ascii_lowercase();
                // Reuse the WKT checks: coordinates in range and nested as the type needs.
                check_positions(c)?;
                let coords = if kind == "point" {
                    json!([c])
                } else {
                    c.clone()
                };
                Operand::Lit(Lit::Geom(geojson_text(&kind, coords)?))
            } else if o
                .get("op")
                .and_then(Value::as_str)
                .is_some_and(|op| op.eq_ignore_ascii_case("casei"))
            {
                let a = args(v)?;
                if a.len() != 1 {
                    return Err(bad("casei takes 1 argument"));
                }
                Operand::Casei(Box::new(json_operand(&a[0])?))
            } else {
                return Err(bad(format!("unsupported operand {v}")));
            }
        }
        _ => return Err(bad(format!("unsupported operand {v}"))),
    })
}

fn check_positions(v: &Value) -> Result<(), ApiError> {
    match v {
        Value::Array(a) if a.first().is_some_and(Value::is_number) => {
            let n: Vec<f64> = a.iter().filter_map(Value::as_f64).collect();
            if n.len() != 2
                || a.len() != 2
                || !(-180.0..=180.0).contains(&n[0])
                || !(-90.0..=90.0).contains(&n[1])
            {
                return Err(bad(
                    "a position is [longitude, latitude] within -180..180, -90..90",
                ));
            }
            Ok(())
        }
        Value::Array(a) => a.iter().try_for_each(check_positions),
        _ => Err(bad("coordinates must be arrays of positions")),
    }
}

// ---------------------------------------------------------------- SQL

fn lookup<'q>(qs: &'q [Queryable], name: &str) -> Result<&'q Queryable, ApiError> {
    qs.iter().find(|q| q.name == name).ok_or_else(|| {
        let names: Vec<&str> = qs.iter().map(|q| q.name).collect();
        bad(format!(
            "unknown property {name:?}; queryables: {}",
            names.join(", ")
        ))
    })
}

/// The type an operand has (properties from the queryables, literals by their kind).
fn operand_type(o: &Operand, qs: &[Queryable]) -> Result<Option<QType>, ApiError> {
    Ok(match o {
        Operand::Prop(p) => Some(lookup(qs, p)?.ty),
        Operand::Casei(inner) => {
            match operand_type(inner, qs)? {
                Some(QType::Text) | None => {}
                _ => return Err(bad("CASEI applies to text")),
            }
            Some(QType::Text)
        }
        Operand::Lit(_) => None,
    })
}

/// Pushes a literal bound as `ty` (the type of the property it meets).
fn push_lit(q: &mut QueryBuilder<'_, Postgres>, lit: &Lit, ty: QType) -> Result<(), ApiError> {
    match (ty, lit) {
        (QType::Text, Lit::Str(s)) => {
            q.push_bind(s.clone());
        }
        (QType::Int, Lit::Num(n)) if n.fract() == 0.0 && n.abs() < 9.0e15 => {
            q.push_bind(*n as i64);
        }
        (QType::Int, Lit::Str(s)) if s.parse::<i64>().is_ok() => {
            q.push_bind(s.parse::<i64>().unwrap());
        }
        (QType::Float, Lit::Num(n)) => {
            q.push_bind(*n);
        }
        (QType::Bool, Lit::Bool(b)) => {
            q.push_bind(*b);
        }
        (QType::Time, Lit::Time(t)) => {
            q.push_bind(*t);
        }
        (QType::Time, Lit::Date(d)) => {
            q.push_bind(d.and_hms_opt(0, 0, 0).unwrap().and_utc());
        }
        (QType::Time, Lit::Str(s)) if parse_instant(s).is_some() => {
            q.push_bind(parse_instant(s).unwrap());
        }
        _ => {
            return Err(bad(format!(
                "{} cannot be compared with a {} property",
                describe(lit),
                type_name(ty)
            )));
        }
    }
    Ok(())
}

fn describe(l: &Lit) -> String {
    match l {
        Lit::Str(s) => format!("the text '{s}'"),
        Lit::Num(n) => format!("the number {n}"),
        Lit::Bool(b) => format!("the boolean {b}"),
        Lit::Time(t) => format!("the time {}", t.to_rfc3339()),
        Lit::Date(d) => format!("the date {d}"),
        Lit::Interval(..) => "an interval".into(),
        Lit::Geom(_) | Lit::BBox(_) => "a geometry".into(),
    }
}

fn type_name(t: QType) -> &'static str {
    match t {
        QType::Text => "text",
        QType::Int => "integer",
        QType::Float => "number",
        QType::Bool => "boolean",
        QType::Time => "time",
        QType::Geometry => "geometry",
    }
}

fn push_operand(
    q: &mut QueryBuilder<'_, Postgres>,
    o: &Operand,
    ty: QType,
    qs: &[Queryable],
) -> Result<(), ApiError> {
    match o {
        Operand::Prop(p) => {
            let qq = lookup(qs, p)?;
            if qq.ty != ty
                && !(matches!(qq.ty, QType::Int | QType::Float)
                    && matches!(ty, QType::Int | QType::Float))
            {
                return Err(bad(format!(
                    "{p} is {}, not {}",
                    type_name(qq.ty),
                    type_name(ty)
                )));
            }
            q.push(qq.sql);
        }
        Operand::Casei(inner) => {
            q.push("lower(");
            push_operand(q, inner, QType::Text, qs)?;
            q.push(")");
        }
        Operand::Lit(l) => push_lit(q, l, ty)?,
    }
    Ok(())
}

fn push_geom(
    q: &mut QueryBuilder<'_, Postgres>,
    o: &Operand,
    qs: &[Queryable],
) -> Result<(), ApiError> {
    match o {
        Operand::Prop(p) => {
            let qq = lookup(qs, p)?;
            if qq.ty != QType::Geometry {
                return Err(bad(format!("{p} is not a geometry")));
            }
            q.push(qq.sql);
        }
        Operand::Lit(Lit::Geom(g)) => {
            q.push("ST_MakeValid(ST_SetSRID(ST_GeomFromGeoJSON(").push_bind(g.clone()).push("), 4326))");
        }
        Operand::Lit(Lit::BBox([w, s, e, n])) => {
            q.push("ST_MakeEnvelope(").push_bind(*w).push(", ").push_bind(*s).push(", ").push_bind(*e).push(", ").push_bind(*n).push(", 4326)");
        }
        _ => return Err(bad("spatial functions take a geometry property and a geometry literal (WKT, GeoJSON or BBOX)")),
    }
    Ok(())
}

/// Pushes `expr` as an SQL boolean expression.
pub fn push_sql(
    q: &mut QueryBuilder<'_, Postgres>,
    e: &Expr,
    qs: &[Queryable],
) -> Result<(), ApiError> {
    match e {
        Expr::And(items) | Expr::Or(items) => {
            let sep = if matches!(e, Expr::And(_)) {
                " AND "
            } else {
                " OR "
            };
            q.push("(");
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    q.push(sep);
                }
                push_sql(q, x, qs)?;
            }
            q.push(")");
        }
        Expr::Not(x) => {
            q.push("(NOT COALESCE(");
            push_sql(q, x, qs)?;
            q.push(", false))");
        }
        Expr::Bool(b) => {
            q.push(if *b { "true" } else { "false" });
        }
        Expr::Prop(p) => {
            let qq = lookup(qs, p)?;
            if qq.ty != QType::Bool {
                return Err(bad(format!(
                    "{p} is not a boolean; compare it with a value"
                )));
            }
            q.push(qq.sql);
        }
        Expr::Cmp(op, a, b) => {
            let (a, b, op) = match (operand_type(a, qs)?, operand_type(b, qs)?) {
                (None, Some(_)) => (b, a, flip(op)),
                (None, None) => return Err(bad("a comparison needs a property on one side")),
                _ => (a, b, *op),
            };
            let ty = operand_type(a, qs)?.unwrap();
            if ty == QType::Geometry {
                return Err(bad(
                    "compare geometries with S_INTERSECTS and the other spatial functions",
                ));
            }
            if let Operand::Lit(Lit::Interval(..)) = b {
                return Err(bad(
                    "compare with an interval through T_DURING or T_INTERSECTS",
                ));
            }
            q.push("(");
            push_operand(q, a, ty, qs)?;
            q.push(" ").push(op).push(" ");
            push_operand(q, b, ty, qs)?;
            q.push(")");
        }
        Expr::Like {
            value,
            pattern,
            insensitive,
        } => {
            if operand_type(value, qs)? != Some(QType::Text) {
                return Err(bad("LIKE applies to a text property"));
            }
            q.push("(");
            push_operand(q, value, QType::Text, qs)?;
            q.push(if *insensitive { " ILIKE " } else { " LIKE " });
            push_operand(q, pattern, QType::Text, qs)?;
            q.push(")");
        }
        Expr::In(value, list) => {
            let ty =
                operand_type(value, qs)?.ok_or_else(|| bad("IN needs a property on its left"))?;
            if list.is_empty() {
                return Err(bad("IN needs at least one value"));
            }
            q.push("(");
            push_operand(q, value, ty, qs)?;
            q.push(" IN (");
            for (i, x) in list.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                if !matches!(x, Operand::Lit(_)) {
                    return Err(bad("IN lists hold values"));
                }
                push_operand(q, x, ty, qs)?;
            }
            q.push("))");
        }
        Expr::Between(value, lo, hi) => {
            let ty = operand_type(value, qs)?
                .ok_or_else(|| bad("BETWEEN needs a property on its left"))?;
            q.push("(");
            push_operand(q, value, ty, qs)?;
            q.push(" BETWEEN ");
            push_operand(q, lo, ty, qs)?;
            q.push(" AND ");
            push_operand(q, hi, ty, qs)?;
            q.push(")");
        }
        Expr::IsNull(value) => {
            let ty = operand_type(value, qs)?.ok_or_else(|| bad("IS NULL needs a property"))?;
            q.push("(");
            push_operand(q, value, ty, qs)?;
            q.push(" IS NULL)");
        }
        Expr::Spatial(f, a, b) => {
            let (a, b, f) = match (a, b) {
                (Operand::Lit(_), Operand::Prop(_)) => (b, a, flip_spatial(f)),
                _ => (a, b, *f),
            };
            q.push(f).push("(");
            push_geom(q, a, qs)?;
            q.push(", ");
            push_geom(q, b, qs)?;
            q.push(")");
        }
        Expr::Temporal(f, a, b) => push_temporal(q, f, a, b, qs)?,
    }
    Ok(())
}

fn flip(op: &'static str) -> &'static str {
    match op {
        "<" => ">",
        ">" => "<",
        "<=" => ">=",
        ">=" => "<=",
        o => o,
    }
}

fn flip_spatial(f: &'static str) -> &'static str {
    match f {
        "ST_Within" => "ST_Contains",
        "ST_Contains" => "ST_Within",
        f => f,
    }
}

fn push_temporal(
    q: &mut QueryBuilder<'_, Postgres>,
    f: &str,
    a: &Operand,
    b: &Operand,
    qs: &[Queryable],
) -> Result<(), ApiError> {
    let Operand::Prop(p) = a else {
        return Err(bad(format!(
            "{} takes a time property first",
            f.to_uppercase()
        )));
    };
    let qq = lookup(qs, p)?;
    if qq.ty != QType::Time {
        return Err(bad(format!("{p} is not a time property")));
    }
    let col = qq.sql;
    let (lo, hi) = match b {
        Operand::Lit(Lit::Time(t)) => (Some(*t), Some(*t)),
        Operand::Lit(Lit::Date(d)) => {
            let start = d.and_hms_opt(0, 0, 0).unwrap().and_utc();
            (
                Some(start),
                Some(start + chrono::Duration::days(1) - chrono::Duration::microseconds(1)),
            )
        }
        Operand::Lit(Lit::Str(s)) => {
            let t = parse_instant(s).ok_or_else(|| bad(format!("{s:?} is not a time")))?;
            (Some(t), Some(t))
        }
        Operand::Lit(Lit::Interval(a, b)) => (*a, *b),
        _ => {
            return Err(bad(format!(
                "{} takes a time property and a TIMESTAMP, DATE or INTERVAL",
                f.to_uppercase()
            )))
        }
    };
    let bound = |q: &mut QueryBuilder<'_, Postgres>, op: &str, t: Option<DateTime<Utc>>| match t {
        Some(t) => {
            q.push("(")
                .push(col)
                .push(" ")
                .push(op)
                .push(" ")
                .push_bind(t)
                .push(")");
        }
        None => {
            q.push("true");
        }
    };
    q.push("(");
    match f {
        "t_after" => bound(q, ">", hi),
        "t_before" => bound(q, "<", lo),
        "t_equals" if lo == hi => bound(q, "=", lo),
        "t_during" => {
            bound(q, ">", lo);
            q.push(" AND ");
            bound(q, "<", hi);
        }
        "t_intersects" | "t_equals" => {
            bound(q, ">=", lo);
            q.push(" AND ");
            bound(q, "<=", hi);
        }
        "t_disjoint" => {
            q.push("NOT (");
            bound(q, ">=", lo);
            q.push(" AND ");
            bound(q, "<=", hi);
            q.push(")");
        }
        _ => {
            return Err(bad(format!(
                "{} needs an interval property; {p} is an instant",
                f.to_uppercase()
            )))
        }
    }
    q.push(")");
    Ok(())
}

/// Parses `filter` in the language `filter-lang` names (default CQL2 text).
pub fn parse(filter: &str, lang: Option<&str>) -> Result<Expr, ApiError> {
    match lang.map(str::to_ascii_lowercase).as_deref() {
        None | Some("cql2-text") | Some("cql-text") => parse_text(filter),
        Some("cql2-json") | Some("cql-json") => parse_json(filter),
        Some(other) => Err(ApiError::bad_request(
            "invalid_parameter",
            format!("filter-lang {other:?} is not supported; use cql2-text or cql2-json"),
        )
        .at("filter-lang")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QS: &[Queryable] = &[
        Queryable {
            name: "status",
            sql: "r.status",
            ty: QType::Text,
            title: "",
        },
        Queryable {
            name: "supporters",
            sql: "r.supporters",
            ty: QType::Int,
            title: "",
        },
        Queryable {
            name: "created_at",
            sql: "r.created_at",
            ty: QType::Time,
            title: "",
        },
        Queryable {
            name: "near_border",
            sql: "r.near_border",
            ty: QType::Bool,
            title: "",
        },
        Queryable {
            name: "geometry",
            sql: "r.geom",
            ty: QType::Geometry,
            title: "",
        },
    ];

    fn sql(f: &str) -> String {
        let e = parse_text(f).unwrap();
        let mut q = QueryBuilder::new("");
        push_sql(&mut q, &e, QS).unwrap();
        q.sql().to_owned()
    }

    #[test]
    fn text_filters_become_bound_sql() {
        assert_eq!(
            sql("status = 'new' AND supporters >= 2"),
            "((r.status = $1) AND (r.supporters >= $2))"
        );
        assert_eq!(
            sql("status IN ('new','planned') OR NOT near_border"),
            "((r.status IN ($1, $2)) OR (NOT COALESCE(r.near_border, false)))"
        );
        assert_eq!(
            sql("supporters BETWEEN 1 AND 3"),
            "(r.supporters BETWEEN $1 AND $2)"
        );
        assert_eq!(
            sql("CASEI(status) LIKE CASEI('N%')"),
            "(lower(r.status) LIKE lower($1))"
        );
        assert_eq!(
            sql("created_at > TIMESTAMP('2024-01-01T00:00:00Z')"),
            "(r.created_at > $1)"
        );
        assert_eq!(
            sql("T_DURING(created_at, INTERVAL('2024-01-01', '..'))"),
            "((r.created_at > $1) AND true)"
        );
        assert!(sql(
            "S_INTERSECTS(geometry, POLYGON((19.9 50.0, 20.0 50.0, 20.0 50.1, 19.9 50.0)))"
        )
        .starts_with("ST_Intersects(r.geom, ST_MakeValid"));
        assert!(
            sql("S_INTERSECTS(geometry, BBOX(19.9, 50.0, 20.0, 50.1))").contains("ST_MakeEnvelope")
        );
        assert_eq!(sql("\"status\" = 'it''s'"), "(r.status = $1)");
    }

    #[test]
    fn json_filters_parse_to_the_same_tree() {
        let j = parse_json(r#"{"op":"and","args":[{"op":"=","args":[{"property":"status"},"new"]},{"op":"s_intersects","args":[{"property":"geometry"},{"type":"Point","coordinates":[19.9,50.0]}]}]}"#).unwrap();
        let t = parse_text("status = 'new' AND S_INTERSECTS(geometry, POINT(19.9 50.0))").unwrap();
        assert_eq!(j, t);
    }

    #[test]
    fn bad_filters_are_named_errors() {
        for f in [
            "status = ",
            "nope = 1",
            "status = 3",
            "supporters = 'x'",
            "S_INTERSECTS(geometry, POINT(500 1))",
            "status = 'a' AND",
            "(status = 'a'",
            "foo(1)",
            "geometry = 1",
        ] {
            let err = parse_text(f).and_then(|e| {
                let mut q = QueryBuilder::new("");
                push_sql(&mut q, &e, QS)
            });
            assert!(err.is_err(), "{f} should fail");
            assert_eq!(err.unwrap_err().field.as_deref(), Some("filter"));
        }
    }
}
