//! The expression tree as a parameterised SQL condition (sqlx `QueryBuilder`). Every value is a
//! bound parameter; column expressions come only from the queryables, never from the filter.
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sqlx::{Postgres, QueryBuilder};

use super::ast::{ArithOp, CmpOp, Expr, Lit, Operand, SpatialOp, TemporalOp};
use super::error::{bad, CqlError, CqlResult};
use super::time::parse_datetime;
use super::{QType, Queryable};

type Q<'a, 'q> = &'a mut QueryBuilder<'q, Postgres>;

/// Letters with diacritics (Polish first, then the other Latin ones) and their base letters, for
/// `ACCENTI` through `translate()`: it needs no extension (`unaccent` is not in every PostGIS).
pub(super) const ACCENTED: &str = "ąćęłńóśźżĄĆĘŁŃÓŚŹŻàáâãäåāăèéêëēĕėěìíîïĩīĭįòôõöøōŏőùúûüũūŭůűųýÿçčďđğģķĺľļňņñŕřšşťţžÀÁÂÃÄÅĀĂÈÉÊËĒĔĖĚÌÍÎÏĨĪĬĮÒÔÕÖØŌŎŐÙÚÛÜŨŪŬŮŰŲÝŸÇČĎĐĞĢĶĹĽĻŇŅÑŔŘŠŞŤŢŽ";
pub(super) const UNACCENTED: &str = "acelnoszzACELNOSZZaaaaaaaaeeeeeeeeiiiiiiiioooooooouuuuuuuuuuyyccddggklllnnnrrssttzAAAAAAAAEEEEEEEEIIIIIIIIOOOOOOOOUUUUUUUUUUYYCCDDGGKLLLNNNRRSSTTZ";

fn lookup<'q>(qs: &'q [Queryable], name: &str) -> CqlResult<&'q Queryable> {
    qs.iter().find(|q| q.name == name).ok_or_else(|| {
        let names: Vec<&str> = qs.iter().map(|q| q.name).collect();
        CqlError::unknown_property(
            name,
            format!(
                "unknown property {name:?}; queryables: {}",
                names.join(", ")
            ),
        )
    })
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

fn numeric(t: QType) -> bool {
    matches!(t, QType::Int | QType::Float)
}

fn describe(l: &Lit) -> String {
    match l {
        Lit::Str(s) => format!("the text '{s}'"),
        Lit::Num(n) => format!("the number {n}"),
        Lit::Bool(b) => format!("the boolean {b}"),
        Lit::Time(t) => format!("the time {}", t.to_rfc3339()),
        Lit::Date(d) => format!("the date {d}"),
        Lit::Open => "'..'".into(),
        Lit::Geom(_) | Lit::BBox(_) => "a geometry".into(),
    }
}

fn unknown_function(name: &str) -> CqlError {
    bad(format!(
        "unknown function {name}(); this service offers no custom functions"
    ))
}

/// The type an operand has (properties from the queryables, expressions by their result;
/// literals take the type of what they meet: `None`).
fn operand_type(o: &Operand, qs: &[Queryable]) -> CqlResult<Option<QType>> {
    Ok(match o {
        Operand::Prop(p) => Some(lookup(qs, p)?.ty),
        Operand::Casei(inner) | Operand::Accenti(inner) => {
            match operand_type(inner, qs)? {
                Some(QType::Text) | None => {}
                _ => {
                    return Err(bad(if matches!(o, Operand::Casei(_)) {
                        "CASEI applies to text"
                    } else {
                        "ACCENTI applies to text"
                    }))
                }
            }
            Some(QType::Text)
        }
        Operand::Arith(_, a, b) => {
            for x in [a, b] {
                match operand_type(x, qs)? {
                    Some(t) if !numeric(t) => {
                        return Err(bad(format!(
                            "arithmetic applies to numbers, not to a {} value",
                            type_name(t)
                        )))
                    }
                    _ => {}
                }
            }
            Some(QType::Float)
        }
        Operand::Interval(..) => Some(QType::Time),
        Operand::Lit(_) => None,
        Operand::Array(_) => {
            return Err(bad(
                "a list of values is only allowed after IN (array functions are not supported)",
            ))
        }
        Operand::Call(name, _) => return Err(unknown_function(name)),
    })
}

/// Pushes a literal bound as `ty` (the type of the property it meets).
fn push_lit(q: Q, lit: &Lit, ty: QType) -> CqlResult<()> {
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
            q.push_bind(day_start(*d));
        }
        (QType::Time, Lit::Str(s)) if parse_datetime(s).is_some() => {
            q.push_bind(parse_datetime(s).unwrap());
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

fn push_operand(q: Q, o: &Operand, ty: QType, qs: &[Queryable]) -> CqlResult<()> {
    match o {
        Operand::Prop(p) => {
            let qq = lookup(qs, p)?;
            if qq.ty != ty && !(numeric(qq.ty) && numeric(ty)) {
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
        Operand::Accenti(inner) => {
            q.push("translate(");
            push_operand(q, inner, QType::Text, qs)?;
            q.push(", '")
                .push(ACCENTED)
                .push("', '")
                .push(UNACCENTED)
                .push("')");
        }
        Operand::Arith(op, a, b) => {
            if !numeric(ty) {
                return Err(bad(format!(
                    "an arithmetic expression is a number; it cannot meet a {} value",
                    type_name(ty)
                )));
            }
            push_arith(q, *op, a, b, qs)?;
        }
        Operand::Lit(l) => push_lit(q, l, ty)?,
        Operand::Interval(..) => return Err(bad(
            "compare with an interval through T_DURING, T_INTERSECTS and the other T_ functions",
        )),
        Operand::Array(_) | Operand::Call(..) => {
            // Neither has an SQL form: this is the error that says why.
            return Err(operand_type(o, qs)
                .err()
                .unwrap_or_else(|| bad("this value has no SQL form")));
        }
    }
    Ok(())
}

/// Arithmetic in double precision; a division by zero gives NULL (no match), not an error.
fn push_arith(q: Q, op: ArithOp, a: &Operand, b: &Operand, qs: &[Queryable]) -> CqlResult<()> {
    let num = |q: Q, x: &Operand| -> CqlResult<()> {
        q.push("CAST(");
        push_operand(q, x, QType::Float, qs)?;
        q.push(" AS float8)");
        Ok(())
    };
    q.push("(");
    match op {
        ArithOp::Add | ArithOp::Sub | ArithOp::Mul => {
            num(q, a)?;
            q.push(match op {
                ArithOp::Add => " + ",
                ArithOp::Sub => " - ",
                _ => " * ",
            });
            num(q, b)?;
        }
        ArithOp::Div => {
            num(q, a)?;
            q.push(" / NULLIF(");
            num(q, b)?;
            q.push(", 0)");
        }
        ArithOp::Pow => {
            q.push("power(");
            num(q, a)?;
            q.push(", ");
            num(q, b)?;
            q.push(")");
        }
        ArithOp::Mod | ArithOp::IntDiv => {
            q.push(if op == ArithOp::Mod { "mod(" } else { "div(" });
            num(q, a)?;
            q.push("::numeric, NULLIF(");
            num(q, b)?;
            q.push("::numeric, 0))::float8");
        }
    }
    q.push(")");
    Ok(())
}

fn push_geom(q: Q, o: &Operand, qs: &[Queryable]) -> CqlResult<()> {
    match o {
        Operand::Prop(p) => {
            let qq = lookup(qs, p)?;
            if qq.ty != QType::Geometry {
                return Err(bad(format!("{p} is not a geometry")));
            }
            q.push(qq.sql);
        }
        Operand::Lit(Lit::Geom(g)) => {
            q.push("ST_MakeValid(ST_SetSRID(ST_Force2D(ST_GeomFromGeoJSON(")
                .push_bind(g.to_geojson().to_string())
                .push(")), 4326))");
        }
        Operand::Lit(Lit::BBox([w, s, e, n])) => {
            q.push("ST_MakeEnvelope(")
                .push_bind(*w)
                .push(", ")
                .push_bind(*s)
                .push(", ")
                .push_bind(*e)
                .push(", ")
                .push_bind(*n)
                .push(", 4326)");
        }
        Operand::Call(name, _) => return Err(unknown_function(name)),
        _ => {
            return Err(bad(
            "spatial functions take geometry properties and geometry literals (WKT, GeoJSON or BBOX)",
        ))
        }
    }
    Ok(())
}

/// Pushes `expr` as an SQL boolean expression.
pub fn push_sql(q: Q, e: &Expr, qs: &[Queryable]) -> CqlResult<()> {
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
        Expr::Pred(Operand::Prop(p)) => {
            let qq = lookup(qs, p)?;
            if qq.ty != QType::Bool {
                return Err(bad(format!(
                    "{p} is not a boolean; compare it with a value"
                )));
            }
            q.push(qq.sql);
        }
        Expr::Pred(o) => {
            // A function call is reported as unknown; anything else is not a condition.
            operand_type(o, qs)?;
            return Err(bad(
                "a condition must be a comparison or a boolean property",
            ));
        }
        Expr::Cmp(op, a, b) => {
            let (a, b, op) = match (operand_type(a, qs)?, operand_type(b, qs)?) {
                (None, Some(_)) => (b, a, op.flip()),
                (None, None) => return Err(bad("a comparison needs a property on one side")),
                _ => (a, b, *op),
            };
            let ty = operand_type(a, qs)?.unwrap();
            if ty == QType::Geometry {
                return Err(bad(
                    "compare geometries with S_INTERSECTS and the other spatial functions",
                ));
            }
            if matches!(a, Operand::Interval(..)) || matches!(b, Operand::Interval(..)) {
                return Err(bad(
                    "compare with an interval through T_DURING or T_INTERSECTS",
                ));
            }
            q.push("(");
            push_operand(q, a, ty, qs)?;
            q.push(" ").push(op.sql()).push(" ");
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
                if x.has_prop() {
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
                (Operand::Lit(_), Operand::Prop(_)) => (b, a, flip_spatial(*f)),
                _ => (a, b, *f),
            };
            q.push(spatial_sql(f)).push("(");
            push_geom(q, a, qs)?;
            q.push(", ");
            push_geom(q, b, qs)?;
            q.push(")");
        }
        Expr::Temporal(f, a, b) => push_temporal(q, *f, a, b, qs)?,
        Expr::Array(..) => return Err(bad("array functions (A_*) are not supported")),
    }
    Ok(())
}

fn spatial_sql(f: SpatialOp) -> &'static str {
    match f {
        SpatialOp::Intersects => "ST_Intersects",
        SpatialOp::Disjoint => "ST_Disjoint",
        SpatialOp::Within => "ST_Within",
        SpatialOp::Contains => "ST_Contains",
        SpatialOp::Equals => "ST_Equals",
        SpatialOp::Touches => "ST_Touches",
        SpatialOp::Crosses => "ST_Crosses",
        SpatialOp::Overlaps => "ST_Overlaps",
    }
}

fn flip_spatial(f: SpatialOp) -> SpatialOp {
    match f {
        SpatialOp::Within => SpatialOp::Contains,
        SpatialOp::Contains => SpatialOp::Within,
        f => f,
    }
}

// ---------------------------------------------------------------- time

/// One end of an instant or interval.
#[derive(Debug, Clone, Copy, PartialEq)]
enum End {
    Col(&'static str),
    At(DateTime<Utc>),
    /// `..` at the start.
    Before,
    /// `..` at the end.
    After,
}

fn day_start(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).unwrap().and_utc()
}

/// The last microsecond of a day: a date as an instant covers the whole day.
fn day_end(d: NaiveDate) -> DateTime<Utc> {
    day_start(d) + Duration::days(1) - Duration::microseconds(1)
}

/// `(start, end)` of a temporal operand; an instant is the interval from itself to itself, a
/// date the whole day.
fn span(f: TemporalOp, o: &Operand, qs: &[Queryable]) -> CqlResult<(End, End)> {
    let usage = || {
        bad(format!(
            "{} takes time properties, TIMESTAMP, DATE or INTERVAL",
            f.name().to_uppercase()
        ))
    };
    let end = |o: &Operand, start: bool| -> CqlResult<End> {
        Ok(match o {
            Operand::Prop(p) => {
                let qq = lookup(qs, p)?;
                if qq.ty != QType::Time {
                    return Err(bad(format!("{p} is not a time property")));
                }
                End::Col(qq.sql)
            }
            Operand::Lit(Lit::Time(t)) => End::At(*t),
            Operand::Lit(Lit::Date(d)) if start => End::At(day_start(*d)),
            Operand::Lit(Lit::Date(d)) => End::At(day_end(*d)),
            Operand::Lit(Lit::Open) if start => End::Before,
            Operand::Lit(Lit::Open) => End::After,
            Operand::Lit(Lit::Str(s)) => {
                End::At(parse_datetime(s).ok_or_else(|| bad(format!("{s:?} is not a time")))?)
            }
            Operand::Call(name, _) => return Err(unknown_function(name)),
            _ => return Err(usage()),
        })
    };
    match o {
        Operand::Interval(a, b) => {
            if matches!(**a, Operand::Interval(..)) || matches!(**b, Operand::Interval(..)) {
                return Err(usage());
            }
            Ok((end(a, true)?, end(b, false)?))
        }
        Operand::Lit(Lit::Open) => Err(usage()),
        o => Ok((end(o, true)?, end(o, false)?)),
    }
}

/// `a op b` when it is known without the data (open ends, two literals); `None` otherwise.
fn fold(a: End, op: CmpOp, b: End) -> Option<bool> {
    use std::cmp::Ordering;
    let ord = match (a, b) {
        (End::Col(x), End::Col(y)) if x == y => Ordering::Equal,
        (End::Col(_), End::Col(_)) => return None,
        (End::Before, End::Before) | (End::After, End::After) => Ordering::Equal,
        (End::Before, _) | (_, End::After) => Ordering::Less,
        (End::After, _) | (_, End::Before) => Ordering::Greater,
        (End::At(x), End::At(y)) => x.cmp(&y),
        _ => return None,
    };
    Some(match op {
        CmpOp::Eq => ord.is_eq(),
        CmpOp::Ne => ord.is_ne(),
        CmpOp::Lt => ord.is_lt(),
        CmpOp::Gt => ord.is_gt(),
        CmpOp::Le => ord.is_le(),
        CmpOp::Ge => ord.is_ge(),
    })
}

/// `(a op b)`, or `true`/`false` when it is known without the data.
fn bound(q: Q, a: End, op: CmpOp, b: End) {
    if let Some(v) = fold(a, op, b) {
        q.push(if v { "true" } else { "false" });
        return;
    }
    let side = |q: Q, e: End| match e {
        End::Col(c) => {
            q.push(c);
        }
        End::At(t) => {
            q.push_bind(t);
        }
        End::Before | End::After => unreachable!("folded above"),
    };
    q.push("(");
    side(q, a);
    q.push(" ").push(op.sql()).push(" ");
    side(q, b);
    q.push(")");
}

/// Several bounds joined with AND.
fn all(q: Q, parts: &[(End, CmpOp, End)]) {
    for (i, (a, op, b)) in parts.iter().enumerate() {
        if i > 0 {
            q.push(" AND ");
        }
        bound(q, *a, *op, *b);
    }
}

/// The temporal functions with the standard's definitions on the ends of both arguments
/// (an instant being an interval from itself to itself).
fn push_temporal(q: Q, f: TemporalOp, a: &Operand, b: &Operand, qs: &[Queryable]) -> CqlResult<()> {
    use CmpOp::{Eq, Ge, Gt, Le, Lt};
    let ((as_, ae), (bs, be)) = (span(f, a, qs)?, span(f, b, qs)?);
    let instant = |s: End, e: End| s == e;
    q.push("(");
    match f {
        TemporalOp::After => bound(q, as_, Gt, be),
        TemporalOp::Before => bound(q, ae, Lt, bs),
        TemporalOp::Equals if instant(as_, ae) && instant(bs, be) => bound(q, as_, Eq, bs),
        // An instant equals a date (or other interval) it falls within: the date's granularity.
        TemporalOp::Equals if instant(as_, ae) && matches!(b, Operand::Lit(Lit::Date(_))) => {
            all(q, &[(as_, Ge, bs), (ae, Le, be)])
        }
        TemporalOp::Equals if instant(bs, be) && matches!(a, Operand::Lit(Lit::Date(_))) => {
            all(q, &[(bs, Ge, as_), (be, Le, ae)])
        }
        TemporalOp::Equals => all(q, &[(as_, Eq, bs), (ae, Eq, be)]),
        TemporalOp::During => all(q, &[(as_, Gt, bs), (ae, Lt, be)]),
        TemporalOp::Contains => all(q, &[(as_, Lt, bs), (ae, Gt, be)]),
        TemporalOp::Intersects => all(q, &[(ae, Ge, bs), (as_, Le, be)]),
        TemporalOp::Disjoint => {
            q.push("NOT (");
            all(q, &[(ae, Ge, bs), (as_, Le, be)]);
            q.push(")");
        }
        TemporalOp::Starts => all(q, &[(as_, Eq, bs), (ae, Lt, be)]),
        TemporalOp::StartedBy => all(q, &[(as_, Eq, bs), (ae, Gt, be)]),
        TemporalOp::Finishes => all(q, &[(as_, Gt, bs), (ae, Eq, be)]),
        TemporalOp::FinishedBy => all(q, &[(as_, Lt, bs), (ae, Eq, be)]),
        TemporalOp::Meets => bound(q, ae, Eq, bs),
        TemporalOp::MetBy => bound(q, as_, Eq, be),
        TemporalOp::Overlaps => all(q, &[(as_, Lt, bs), (ae, Gt, bs), (ae, Lt, be)]),
        TemporalOp::OverlappedBy => all(q, &[(as_, Gt, bs), (as_, Lt, be), (ae, Gt, be)]),
    }
    q.push(")");
    Ok(())
}
