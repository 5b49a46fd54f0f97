use sqlx::{Postgres, QueryBuilder};

use super::*;

pub(super) const QS: &[Queryable] = &[
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
        name: "updated_at",
        sql: "r.updated_at",
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

fn try_sql(e: &Expr) -> CqlResult<String> {
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new("");
    push_sql(&mut q, e, QS)?;
    Ok(q.sql().to_owned())
}

fn sql(f: &str) -> String {
    try_sql(&parse_text(f).unwrap()).unwrap()
}

fn text(f: &str) -> Expr {
    parse_text(f).unwrap_or_else(|e| panic!("{f}: {e}"))
}

fn json(f: &str) -> Expr {
    parse_json(f).unwrap_or_else(|e| panic!("{f}: {e}"))
}

fn time(s: &str) -> Operand {
    Operand::Lit(Lit::Time(s.parse().unwrap()))
}

fn prop(p: &str) -> Box<Operand> {
    Box::new(Operand::Prop(p.into()))
}

fn num(n: f64) -> Box<Operand> {
    Box::new(Operand::Lit(Lit::Num(n)))
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
    assert!(
        sql("S_INTERSECTS(geometry, POLYGON((19.9 50.0, 20.0 50.0, 20.0 50.1, 19.9 50.0)))")
            .starts_with("ST_Intersects(r.geom, ST_MakeValid")
    );
    assert!(sql("S_INTERSECTS(geometry, BBOX(19.9, 50.0, 20.0, 50.1))").contains("ST_MakeEnvelope"));
    assert_eq!(sql("\"status\" = 'it''s'"), "(r.status = $1)");
}

#[test]
fn json_filters_parse_to_the_same_tree() {
    let j = json(
        r#"{"op":"and","args":[{"op":"=","args":[{"property":"status"},"new"]},{"op":"s_intersects","args":[{"property":"geometry"},{"type":"Point","coordinates":[19.9,50.0]}]}]}"#,
    );
    let t = text("status = 'new' AND S_INTERSECTS(geometry, POINT(19.9 50.0))");
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
        "T_MEETS(status, INTERVAL('2024-01-01', '..'))",
        "status + 1 = 2",
        "A_CONTAINS(status, ('a'))",
        "Buffer(geometry, 10) = 1",
        "S_WITHIN(geometry, Buffer(geometry, 10, 'm'))",
    ] {
        let err = parse_text(f).and_then(|e| try_sql(&e));
        assert!(err.is_err(), "{f} should fail");
        assert_eq!(err.unwrap_err().field, "filter", "{f}");
    }
}

#[test]
fn errors_carry_a_code_and_the_property() {
    let e = try_sql(&text("nope = 1")).unwrap_err();
    assert_eq!(e.code, UNKNOWN_PROPERTY);
    assert_eq!(e.property.as_deref(), Some("nope"));
    assert!(e.message.contains("queryables: status"), "{}", e.message);
    let e = parse_text("status = ").unwrap_err();
    assert_eq!((e.code, e.field), (INVALID_FILTER, "filter"));
    let e = parse("status = 'new'", Some("sql")).unwrap_err();
    assert_eq!((e.code, e.field), (INVALID_PARAMETER, "filter-lang"));
    assert!(parse(
        "{\"op\":\"=\",\"args\":[{\"property\":\"status\"},\"new\"]}",
        Some("cql2-json")
    )
    .is_ok());
}

#[test]
fn the_new_temporal_functions_parse_in_both_encodings() {
    let iv = |a: Operand, b: Operand| Operand::Interval(Box::new(a), Box::new(b));
    let props = iv(
        Operand::Prop("created_at".into()),
        Operand::Prop("updated_at".into()),
    );
    for (name, op) in [
        ("T_MEETS", TemporalOp::Meets),
        ("T_METBY", TemporalOp::MetBy),
        ("T_OVERLAPS", TemporalOp::Overlaps),
        ("T_OVERLAPPEDBY", TemporalOp::OverlappedBy),
        ("T_STARTEDBY", TemporalOp::StartedBy),
        ("T_FINISHEDBY", TemporalOp::FinishedBy),
    ] {
        let t = text(&format!(
            "{name}(INTERVAL(created_at, updated_at), INTERVAL('2024-01-01T00:00:00Z', '2024-02-01T00:00:00Z'))"
        ));
        let lit = iv(time("2024-01-01T00:00:00Z"), time("2024-02-01T00:00:00Z"));
        assert_eq!(t, Expr::Temporal(op, props.clone(), lit));
        let j = json(&format!(
            r#"{{"op":"{}","args":[{{"interval":[{{"property":"created_at"}},{{"property":"updated_at"}}]}},{{"interval":["2024-01-01T00:00:00Z","2024-02-01T00:00:00Z"]}}]}}"#,
            // The standard's JSON spells them in camel case: t_metBy, t_overlappedBy...
            name.to_lowercase().replace("by", "By")
        ));
        assert_eq!(t, j, "{name}");
        assert!(try_sql(&t).is_ok(), "{name}");
    }
}

#[test]
fn intervals_take_dates_open_ends_and_a_literal_first() {
    let t = text("T_DURING(INTERVAL('2024-01-01', '..'), INTERVAL(created_at, updated_at))");
    let Expr::Temporal(TemporalOp::During, Operand::Interval(a, b), _) = &t else {
        panic!("{t:?}")
    };
    assert_eq!(**a, Operand::Lit(Lit::Date("2024-01-01".parse().unwrap())));
    assert_eq!(**b, Operand::Lit(Lit::Open));
    assert_eq!(
        t,
        json(
            r#"{"op":"t_during","args":[{"interval":["2024-01-01",".."]},{"interval":[{"property":"created_at"},{"property":"updated_at"}]}]}"#
        )
    );
    // An open end folds away; a date ends with its day.
    assert_eq!(try_sql(&t).unwrap(), "(($1 > r.created_at) AND false)");
    assert_eq!(
        sql("T_CONTAINS(INTERVAL('2024-01-01', '2024-01-31'), created_at)"),
        "(($1 < r.created_at) AND ($2 > r.created_at))"
    );
    assert_eq!(
        sql("T_INTERSECTS(created_at, INTERVAL('..', '2024-01-31'))"),
        "(true AND (r.created_at <= $1))"
    );
    assert_eq!(
        sql("T_MEETS(INTERVAL(created_at, updated_at), INTERVAL('2024-03-01T00:00:00Z', '..'))"),
        "((r.updated_at = $1))"
    );
    assert_eq!(
        sql("T_OVERLAPS(INTERVAL(created_at, updated_at), INTERVAL('2024-03-01T00:00:00Z', '..'))"),
        "((r.created_at < $1) AND (r.updated_at > $2) AND true)"
    );
    // Two literals are decided here.
    assert_eq!(
        sql("T_DURING(INTERVAL('1969-07-20T20:17:40Z', '1969-07-21T17:54:00Z'), INTERVAL('1969-07-16T13:32:00Z', '1969-07-24T16:50:35Z'))"),
        "(true AND true)"
    );
    // What the instant functions did before stays: an instant equals a date it falls on.
    assert_eq!(
        sql("T_EQUALS(created_at, DATE('2024-01-01'))"),
        "((r.created_at >= $1) AND (r.created_at <= $2))"
    );
    assert_eq!(
        sql("T_AFTER(created_at, DATE('2024-01-01'))"),
        "((r.created_at > $1))"
    );
    assert!(parse_text("T_DURING(created_at, INTERVAL('yesterday', '..'))").is_err());
}

#[test]
fn geometry_collections_and_3d_positions_parse() {
    let t = text("S_INTERSECTS(geometry, GEOMETRYCOLLECTION (POINT (19.9 50.0), LINESTRING (19.9 50.0, 20.0 50.1)))");
    let Expr::Spatial(SpatialOp::Intersects, _, Operand::Lit(Lit::Geom(Geom::Collection(parts)))) =
        &t
    else {
        panic!("{t:?}")
    };
    assert_eq!(parts.len(), 2);
    assert_eq!(
        t,
        json(
            r#"{"op":"s_intersects","args":[{"property":"geometry"},{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[19.9,50.0]},{"type":"LineString","coordinates":[[19.9,50.0],[20.0,50.1]]}]}]}"#
        )
    );
    assert!(try_sql(&t)
        .unwrap()
        .contains("ST_Force2D(ST_GeomFromGeoJSON($1))"));
    let z = text("S_WITHIN(geometry, POLYGON Z ((19.9 50.0 210, 20.0 50.0 215, 20.0 50.1 220, 19.9 50.0 210)))");
    assert_eq!(
        z,
        text("S_WITHIN(geometry, POLYGON ((19.9 50.0 210, 20.0 50.0 215, 20.0 50.1 220, 19.9 50.0 210)))")
    );
    assert!(try_sql(&z).is_ok());
    assert!(parse_text("S_WITHIN(geometry, POINT(19.9 50.0 1 2))").is_err());
    assert!(parse_text("S_WITHIN(geometry, POINT ZM (19.9 50.0 1 2))").is_err());
    // A literal first is the same test with the sides swapped.
    assert_eq!(
        sql("S_WITHIN(POINT(19.9 50.0), geometry)"),
        "ST_Contains(r.geom, ST_MakeValid(ST_SetSRID(ST_Force2D(ST_GeomFromGeoJSON($1)), 4326)))"
    );
}

#[test]
fn arithmetic_parses_with_precedence_and_runs_in_double_precision() {
    let t = text("supporters - 1 > 2 * supporters + 3");
    assert_eq!(
        t,
        Expr::Cmp(
            CmpOp::Gt,
            Operand::Arith(ArithOp::Sub, prop("supporters"), num(1.0)),
            Operand::Arith(
                ArithOp::Add,
                Box::new(Operand::Arith(ArithOp::Mul, num(2.0), prop("supporters"))),
                num(3.0)
            ),
        )
    );
    assert_eq!(
        sql("supporters - 1 > 2"),
        "((CAST(r.supporters AS float8) - CAST($1 AS float8)) > $2)"
    );
    // `balance-150.0`: a minus sign after a name is a subtraction.
    assert_eq!(
        text("supporters-150.0 > 0"),
        Expr::Cmp(
            CmpOp::Gt,
            Operand::Arith(ArithOp::Sub, prop("supporters"), num(150.0)),
            Operand::Lit(Lit::Num(0.0))
        )
    );
    // Unary minus is -1 times, as the standard's JSON writes it.
    assert_eq!(text("-supporters = 1"), text("(-1 * supporters) = 1"));
    assert_eq!(text("supporters = -1"), text("supporters = (-1)"));
    // The standard's example 85 and its shorter writing.
    assert_eq!(
        text("value = - foo * 2.0 + \"bar\" / 6.1234 - \"x\" ^ 2.0"),
        text("\"value\" = ((((-1 * \"foo\") * 2.0) + (\"bar\" / 6.1234)) - (\"x\" ^ 2.0))")
    );
    // A parenthesised expression may start a condition.
    assert_eq!(text("(supporters + 1) > 2"), text("supporters + 1 > 2"));
    assert_eq!(text("((supporters > 2))"), text("supporters > 2"));
    assert_eq!(
        sql("0 = (supporters % 2)"),
        "((mod(CAST(r.supporters AS float8)::numeric, NULLIF(CAST($1 AS float8)::numeric, 0))::float8) = $2)"
    );
    assert_eq!(
        sql("supporters / 0 = 1"),
        "((CAST(r.supporters AS float8) / NULLIF(CAST($1 AS float8), 0)) = $2)"
    );
    assert!(sql("supporters ^ 2 >= 4").contains("power("));
    assert!(sql("supporters div 2 = 1").contains("div("));
    assert!(try_sql(&text("status * 2 = 1")).is_err());
}

#[test]
fn accenti_folds_polish_letters_without_an_extension() {
    let t = text("ACCENTI(status) = ACCENTI('zażółć')");
    assert_eq!(
        t,
        json(
            r#"{"op":"=","args":[{"op":"accenti","args":[{"property":"status"}]},{"op":"accenti","args":["zażółć"]}]}"#
        )
    );
    let s = try_sql(&t).unwrap();
    assert!(s.starts_with("(translate(r.status, 'ąćęłńóśźż"), "{s}");
    assert_eq!(
        sql::ACCENTED.chars().count(),
        sql::UNACCENTED.chars().count(),
        "one base letter per accented one"
    );
    assert!(sql("ACCENTI(CASEI(status)) IN (ACCENTI(CASEI('Nowe')))").contains("translate(lower("));
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let deep = format!("{}status = 'a'{}", "(".repeat(5_000), ")".repeat(5_000));
    assert!(parse_text(&deep).is_err());
    let deep = format!(
        "{}1{}",
        "{\"op\":\"not\",\"args\":[".repeat(2_000),
        "]}".repeat(2_000)
    );
    assert!(parse_json(&deep).is_err());
    assert!(parse_text(&"- ".repeat(5_000)).is_err());
}

#[test]
fn each_claimed_class_runs_on_our_queryables() {
    let class = |c: &str| format!("http://www.opengis.net/spec/cql2/1.0/conf/{c}");
    let cases = [
        ("basic-cql2", "status = 'new' AND NOT (supporters < 2) OR near_border"),
        ("advanced-comparison-operators", "status LIKE 'n%' AND supporters BETWEEN 1 AND 3 AND status NOT IN ('done')"),
        ("case-insensitive-comparison", "CASEI(status) IN (CASEI('New'), CASEI('PLANNED'))"),
        ("accent-insensitive-comparison", "ACCENTI(status) = ACCENTI('zgłoszone')"),
        ("basic-spatial-functions", "S_INTERSECTS(geometry, POINT(19.94 50.06)) OR S_INTERSECTS(geometry, BBOX(19.9, 50.0, 20.0, 50.1))"),
        ("basic-spatial-functions-plus", "S_INTERSECTS(geometry, MULTIPOLYGON(((19.9 50.0, 20.0 50.0, 20.0 50.1, 19.9 50.0))))"),
        ("spatial-functions", "S_WITHIN(geometry, POLYGON((19.9 50.0, 20.0 50.0, 20.0 50.1, 19.9 50.0))) AND S_DISJOINT(geometry, GEOMETRYCOLLECTION(POINT(1 1)))"),
        ("temporal-functions", "T_OVERLAPS(INTERVAL(created_at, updated_at), INTERVAL('2024-01-01', '..')) AND T_METBY(created_at, DATE('2023-12-31'))"),
        ("arithmetic", "supporters * 2 + 1 > supporters div 2 - 3 ^ 2"),
    ];
    for c in CONFORMANCE {
        let c = c.rsplit('/').next().unwrap();
        if c == "cql2-text" || c == "cql2-json" {
            continue;
        }
        let (_, f) = cases
            .iter()
            .find(|(n, _)| *n == c)
            .unwrap_or_else(|| panic!("no SQL case for the claimed class {c}"));
        try_sql(&text(f)).unwrap_or_else(|e| panic!("{c}: {f}: {e}"));
    }
    assert!(CONFORMANCE.contains(&class("temporal-functions").as_str()));
}
