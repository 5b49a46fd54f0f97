//! CQL2 JSON into the same [`Expr`] as the text encoding.
use serde_json::Value;

use super::ast::{
    bbox, date, geometry, interval_end, timestamp, ArithOp, ArrayOp, CmpOp, Expr, Geom, Lit,
    Nested, Operand, SpatialOp, TemporalOp,
};
use super::error::{bad, CqlResult};

/// The deepest nesting of operations read.
const MAX_DEPTH: usize = 64;

/// Parses CQL2 JSON.
pub fn parse_json(s: &str) -> CqlResult<Expr> {
    let v: Value =
        serde_json::from_str(s).map_err(|e| bad(format!("the filter is not valid JSON: {e}")))?;
    expr(&v, 0)
}

fn args(v: &Value) -> CqlResult<&Vec<Value>> {
    v.get("args")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("an operation needs an \"args\" array"))
}

fn deeper(depth: usize) -> CqlResult<usize> {
    if depth >= MAX_DEPTH {
        return Err(bad("the filter is nested too deeply"));
    }
    Ok(depth + 1)
}

fn expr(v: &Value, depth: usize) -> CqlResult<Expr> {
    let d = deeper(depth)?;
    if let Value::Bool(b) = v {
        return Ok(Expr::Bool(*b));
    }
    if v.get("property").is_some() {
        return Ok(Expr::Pred(operand(v, d)?));
    }
    let op = v
        .get("op")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("expected an object {\"op\": ..., \"args\": [...]}"))?;
    let lop = op.to_ascii_lowercase();
    let a = args(v)?;
    let n = |k: usize| -> CqlResult<()> {
        if a.len() == k {
            Ok(())
        } else {
            Err(bad(format!("{op} takes {k} arguments, got {}", a.len())))
        }
    };
    let two = |d: usize| -> CqlResult<(Operand, Operand)> {
        n(2)?;
        Ok((operand(&a[0], d)?, operand(&a[1], d)?))
    };
    Ok(match lop.as_str() {
        "and" | "or" => {
            if a.len() < 2 {
                return Err(bad(format!("{op} takes at least 2 arguments")));
            }
            let items = a
                .iter()
                .map(|x| expr(x, d))
                .collect::<CqlResult<Vec<_>>>()?;
            if lop == "and" {
                Expr::And(items)
            } else {
                Expr::Or(items)
            }
        }
        "not" => {
            n(1)?;
            Expr::Not(Box::new(expr(&a[0], d)?))
        }
        "like" => {
            let (value, pattern) = two(d)?;
            Expr::Like {
                value,
                pattern,
                insensitive: false,
            }
        }
        "in" => {
            n(2)?;
            let list = a[1]
                .as_array()
                .ok_or_else(|| bad("in takes a value and an array of values"))?;
            if list.is_empty() {
                return Err(bad("IN needs at least one value"));
            }
            Expr::In(
                operand(&a[0], d)?,
                list.iter()
                    .map(|x| operand(x, d))
                    .collect::<CqlResult<_>>()?,
            )
        }
        "between" => {
            n(3)?;
            Expr::Between(operand(&a[0], d)?, operand(&a[1], d)?, operand(&a[2], d)?)
        }
        "isnull" => {
            n(1)?;
            Expr::IsNull(operand(&a[0], d)?)
        }
        _ => {
            if let Some(c) = CmpOp::from_name(&lop) {
                let (x, y) = two(d)?;
                Expr::Cmp(c, x, y)
            } else if let Some(f) = SpatialOp::from_name(&lop) {
                let (x, y) = two(d)?;
                Expr::Spatial(f, x, y)
            } else if let Some(f) = TemporalOp::from_name(&lop) {
                let (x, y) = two(d)?;
                Expr::Temporal(f, x, y)
            } else if let Some(f) = ArrayOp::from_name(&lop) {
                let (x, y) = two(d)?;
                Expr::Array(f, x, y)
            } else {
                // A function (or a value) used as a condition.
                Expr::Pred(operand(v, d)?)
            }
        }
    })
}

fn operand(v: &Value, depth: usize) -> CqlResult<Operand> {
    let d = deeper(depth)?;
    Ok(match v {
        Value::String(s) => Operand::Lit(Lit::Str(s.clone())),
        Value::Number(n) => Operand::Lit(Lit::Num(
            n.as_f64()
                .filter(|x| x.is_finite())
                .ok_or_else(|| bad("a number is out of range"))?,
        )),
        Value::Bool(b) => Operand::Lit(Lit::Bool(*b)),
        Value::Array(items) => Operand::Array(
            items
                .iter()
                .map(|x| operand(x, d))
                .collect::<CqlResult<_>>()?,
        ),
        Value::Object(o) => {
            if let Some(p) = o.get("property") {
                let p = p
                    .as_str()
                    .ok_or_else(|| bad("a property name is a string"))?;
                Operand::Prop(p.to_owned())
            } else if let Some(t) = o.get("timestamp") {
                let t = t.as_str().ok_or_else(|| bad("a timestamp is a string"))?;
                Operand::Lit(timestamp(t)?)
            } else if let Some(s) = o.get("date") {
                let s = s.as_str().ok_or_else(|| bad("a date is a string"))?;
                Operand::Lit(date(s)?)
            } else if let Some(i) = o.get("interval") {
                let i = i
                    .as_array()
                    .filter(|i| i.len() == 2)
                    .ok_or_else(|| bad("an interval is an array of two ends"))?;
                let end = |x: &Value| -> CqlResult<Operand> {
                    match x {
                        Value::String(s) => Ok(Operand::Lit(interval_end(s)?)),
                        Value::Object(_) => operand(x, d),
                        _ => Err(bad("interval ends are times, dates, \"..\" or properties")),
                    }
                };
                Operand::Interval(Box::new(end(&i[0])?), Box::new(end(&i[1])?))
            } else if let Some(b) = o.get("bbox") {
                let n: Vec<f64> = b
                    .as_array()
                    .ok_or_else(|| bad("a bbox is an array of numbers"))?
                    .iter()
                    .map(|x| x.as_f64().ok_or_else(|| bad("bbox values are numbers")))
                    .collect::<CqlResult<_>>()?;
                Operand::Lit(Lit::BBox(bbox(&n)?))
            } else if let Some(t) = o.get("type").and_then(Value::as_str) {
                Operand::Lit(Lit::Geom(geojson(t, v, d)?))
            } else if let Some(op) = o.get("op").and_then(Value::as_str) {
                let a = args(v)?;
                let lop = op.to_ascii_lowercase();
                match lop.as_str() {
                    "casei" | "accenti" => {
                        if a.len() != 1 {
                            return Err(bad(format!("{op} takes 1 argument")));
                        }
                        let inner = Box::new(operand(&a[0], d)?);
                        if lop == "casei" {
                            Operand::Casei(inner)
                        } else {
                            Operand::Accenti(inner)
                        }
                    }
                    _ if ArithOp::from_name(&lop).is_some() => {
                        if a.len() != 2 {
                            return Err(bad(format!("{op} takes 2 arguments")));
                        }
                        Operand::Arith(
                            ArithOp::from_name(&lop).unwrap(),
                            Box::new(operand(&a[0], d)?),
                            Box::new(operand(&a[1], d)?),
                        )
                    }
                    _ => Operand::Call(
                        op.to_owned(),
                        a.iter().map(|x| operand(x, d)).collect::<CqlResult<_>>()?,
                    ),
                }
            } else {
                return Err(bad(format!("unsupported operand {v}")));
            }
        }
        Value::Null => return Err(bad("null is not a value in CQL2; use isNull")),
    })
}

fn nested(v: &Value, depth: usize) -> CqlResult<Nested> {
    let d = deeper(depth)?;
    match v {
        Value::Array(a) if a.first().is_some_and(Value::is_number) => Ok(Nested::Pos(
            a.iter()
                .map(|x| {
                    x.as_f64()
                        .ok_or_else(|| bad("a position holds numbers only"))
                })
                .collect::<CqlResult<_>>()?,
        )),
        Value::Array(a) => Ok(Nested::List(
            a.iter().map(|x| nested(x, d)).collect::<CqlResult<_>>()?,
        )),
        _ => Err(bad("coordinates must be arrays of positions")),
    }
}

/// A GeoJSON geometry object, through the same checks as WKT.
fn geojson(t: &str, v: &Value, depth: usize) -> CqlResult<Geom> {
    let d = deeper(depth)?;
    let kind = t.to_ascii_lowercase();
    if kind == "geometrycollection" {
        let parts = v
            .get("geometries")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("a GeometryCollection needs a \"geometries\" array"))?;
        return Ok(Geom::Collection(
            parts
                .iter()
                .map(|g| {
                    let t = g
                        .get("type")
                        .and_then(Value::as_str)
                        .ok_or_else(|| bad("each geometry of a collection needs a \"type\""))?;
                    geojson(t, g, d)
                })
                .collect::<CqlResult<_>>()?,
        ));
    }
    let c = v
        .get("coordinates")
        .ok_or_else(|| bad(format!("a {t} needs \"coordinates\"")))?;
    geometry(&kind, &nested(c, d)?)
}
