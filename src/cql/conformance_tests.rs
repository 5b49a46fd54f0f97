//! The example filters of the OGC CQL2 1.0.0 standard (`../shared/data/ogc/cql2-examples`, text
//! and JSON), each classified into the conformance classes it needs, against this parser: every
//! example of every class the service claims must parse in both encodings, to the same tree.
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::Value;

use sqlx::{Postgres, QueryBuilder};

use super::{parse_json, parse_text, push_sql, CONFORMANCE, UNKNOWN_PROPERTY};

const PREFIX: &str = "http://www.opengis.net/spec/cql2/1.0/conf/";

/// Most specific first: an example is counted under the first class it needs.
const CLASSES: [&str; 12] = [
    "functions",
    "array-functions",
    "arithmetic",
    "property-property",
    "temporal-functions",
    "spatial-functions",
    "basic-spatial-functions-plus",
    "basic-spatial-functions",
    "accent-insensitive-comparison",
    "case-insensitive-comparison",
    "advanced-comparison-operators",
    "basic-cql2",
];

/// Classes whose examples all parse but that the service does not run in SQL: it has no array
/// properties and no custom functions, and refuses comparisons of two literals (`1 = 1`).
const NOT_RUN: [&str; 3] = ["functions", "array-functions", "property-property"];

fn examples_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/ogc/cql2-examples");
    assert!(
        d.join("text").is_dir() && d.join("json").is_dir(),
        "the CQL2 examples are missing: expected {}",
        d.display()
    );
    d
}

/// `(name without extension, contents)` of every file with extension `ext` in `sub`.
fn files(sub: &str, ext: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(examples_dir().join(sub))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .map(|p| {
            (
                p.file_stem().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// The JSON example a file illustrates: `example36-alt01` is another writing of `example36`.
fn base(name: &str) -> &str {
    name.split_once("-alt").map(|(b, _)| b).unwrap_or(name)
}

fn mentions_property(v: &Value) -> bool {
    match v {
        Value::Object(o) => o.contains_key("property") || o.values().any(mentions_property),
        Value::Array(a) => a.iter().any(mentions_property),
        _ => false,
    }
}

/// The conformance classes an example needs, read from its JSON encoding (per the requirements of
/// CQL2 1.0: which operators, functions and literal types it uses, and what it compares).
fn needs(v: &Value, out: &mut BTreeSet<&'static str>) {
    match v {
        Value::Array(a) => a.iter().for_each(|x| needs(x, out)),
        Value::Object(o) => {
            if let Some(op) = o.get("op").and_then(Value::as_str) {
                let op = op.to_ascii_lowercase();
                let args = o
                    .get("args")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let class = match op.as_str() {
                    "and" | "or" | "not" | "=" | "<>" | "<" | ">" | "<=" | ">=" | "isnull" => {
                        "basic-cql2"
                    }
                    "like" | "between" | "in" => "advanced-comparison-operators",
                    "casei" => "case-insensitive-comparison",
                    "accenti" => "accent-insensitive-comparison",
                    "s_intersects" => {
                        let basic = args.iter().all(|a| {
                            a.get("property").is_some()
                                || a.get("bbox").is_some()
                                || a.get("type").and_then(Value::as_str) == Some("Point")
                        });
                        if basic {
                            "basic-spatial-functions"
                        } else {
                            "basic-spatial-functions-plus"
                        }
                    }
                    o if o.starts_with("s_") => "spatial-functions",
                    o if o.starts_with("t_") => "temporal-functions",
                    o if o.starts_with("a_") => "array-functions",
                    "+" | "-" | "*" | "/" | "^" | "%" | "div" => "arithmetic",
                    _ => "functions",
                };
                out.insert(class);
                let binary_predicate =
                    matches!(op.as_str(), "=" | "<>" | "<" | ">" | "<=" | ">=" | "like")
                        || ["s_", "t_", "a_"].iter().any(|p| op.starts_with(p));
                if binary_predicate
                    && args.len() == 2
                    && mentions_property(&args[0]) == mentions_property(&args[1])
                {
                    // Two properties (or expressions of them), or two literals.
                    out.insert("property-property");
                }
            }
            o.values().for_each(|x| needs(x, out));
        }
        _ => {}
    }
}

fn classes_of(json: &str) -> BTreeSet<&'static str> {
    let v: Value = serde_json::from_str(json).expect("the examples are valid JSON");
    let mut out = BTreeSet::from(["basic-cql2"]);
    needs(&v, &mut out);
    out
}

fn primary(classes: &BTreeSet<&'static str>) -> &'static str {
    CLASSES.into_iter().find(|c| classes.contains(c)).unwrap()
}

struct Example {
    name: String,
    classes: BTreeSet<&'static str>,
    text: Option<String>,
    json: Option<String>,
}

fn examples() -> Vec<Example> {
    let json = files("json", "json");
    let text = files("text", "txt");
    let json_of: BTreeMap<&str, &str> =
        json.iter().map(|(n, s)| (n.as_str(), s.as_str())).collect();
    let mut out: Vec<Example> = json
        .iter()
        .map(|(n, s)| Example {
            name: n.clone(),
            classes: classes_of(s),
            text: None,
            json: Some(s.clone()),
        })
        .collect();
    for (n, s) in &text {
        let j = json_of
            .get(base(n))
            .unwrap_or_else(|| panic!("text example {n} has no JSON form"));
        match out.iter_mut().find(|e| e.name == *n) {
            Some(e) => e.text = Some(s.clone()),
            None => out.push(Example {
                name: n.clone(),
                classes: classes_of(j),
                text: Some(s.clone()),
                json: None,
            }),
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Per class (the first it needs): examples and how many parse, text and JSON.
#[derive(Default, Debug, PartialEq, Eq, Clone, Copy)]
struct Count {
    text: usize,
    text_ok: usize,
    json: usize,
    json_ok: usize,
}

#[test]
fn every_example_of_the_standard_parses_in_both_encodings_to_the_same_tree() {
    let all = examples();
    let json_files = files("json", "json");
    let json_of: BTreeMap<&str, &str> = json_files
        .iter()
        .map(|(n, s)| (n.as_str(), s.as_str()))
        .collect();
    let mut counts: BTreeMap<&str, Count> = BTreeMap::new();
    let mut failures = Vec::new();
    for e in &all {
        let c = counts.entry(primary(&e.classes)).or_default();
        if let Some(t) = &e.text {
            c.text += 1;
            match parse_text(t) {
                Ok(tree) => {
                    c.text_ok += 1;
                    // Same filter, same tree (the JSON of `-alt01` forms is their base's).
                    let j = parse_json(json_of[base(&e.name)]);
                    if let Ok(j) = j {
                        assert_eq!(tree, j, "{}: text and JSON differ", e.name);
                    }
                }
                Err(err) => failures.push(format!("{}.txt: {}", e.name, err.message)),
            }
        }
        if let Some(j) = &e.json {
            c.json += 1;
            match parse_json(j) {
                Ok(_) => c.json_ok += 1,
                Err(err) => failures.push(format!("{}.json: {}", e.name, err.message)),
            }
        }
    }
    println!("{:<32} {:>9} {:>9}", "class (first needed)", "text", "json");
    for (class, c) in &counts {
        println!(
            "{class:<32} {:>4}/{:<4} {:>4}/{:<4}",
            c.text_ok, c.text, c.json_ok, c.json
        );
    }
    assert!(
        failures.is_empty(),
        "examples that do not parse:\n{}",
        failures.join("\n")
    );

    let total: (usize, usize) = counts
        .values()
        .fold((0, 0), |(t, j), c| (t + c.text_ok, j + c.json_ok));
    assert_eq!(
        total,
        (120, 109),
        "all 120 text and 109 JSON examples parse"
    );
    let want: BTreeMap<&str, (usize, usize)> = EXPECTED
        .iter()
        .copied()
        .map(|(c, t, j)| (c, (t, j)))
        .collect();
    let got: BTreeMap<&str, (usize, usize)> =
        counts.iter().map(|(c, n)| (*c, (n.text, n.json))).collect();
    assert_eq!(got, want, "examples per class");
}

/// Examples per class (the first each needs, in the order of [`CLASSES`]): text, JSON.
/// Before this parser: 78 of 120 text and 70 of 109 JSON examples parsed (none of accent-insensitive,
/// arithmetic, array or function examples; 7/22 and 6/20 temporal, 11/14 and 10/12 spatial).
const EXPECTED: [(&str, usize, usize); 12] = [
    ("functions", 5, 5),
    ("array-functions", 5, 5),
    ("arithmetic", 11, 10),
    ("property-property", 2, 2),
    ("temporal-functions", 22, 20),
    ("spatial-functions", 14, 12),
    ("basic-spatial-functions-plus", 3, 3),
    ("basic-spatial-functions", 2, 2),
    ("accent-insensitive-comparison", 3, 3),
    ("case-insensitive-comparison", 5, 5),
    ("advanced-comparison-operators", 26, 21),
    ("basic-cql2", 22, 21),
];

#[test]
fn the_claimed_classes_are_exactly_those_whose_examples_all_parse() {
    let all = examples();
    let mut passing: BTreeSet<&str> = CLASSES.into_iter().collect();
    for e in &all {
        let ok = e.text.as_deref().is_none_or(|t| parse_text(t).is_ok())
            && e.json.as_deref().is_none_or(|j| parse_json(j).is_ok());
        if !ok {
            for c in &e.classes {
                passing.remove(c);
            }
        }
    }
    let mut want: BTreeSet<String> = passing
        .iter()
        .filter(|c| !NOT_RUN.contains(c))
        .map(|c| format!("{PREFIX}{c}"))
        .collect();
    want.insert(format!("{PREFIX}cql2-text"));
    want.insert(format!("{PREFIX}cql2-json"));
    let claimed: BTreeSet<String> = CONFORMANCE.iter().map(|s| s.to_string()).collect();
    assert_eq!(claimed, want);
    // Every claimed class has examples (a claim nothing tests would tell nothing).
    for c in CONFORMANCE {
        let c = c.trim_start_matches(PREFIX);
        if c != "cql2-text" && c != "cql2-json" {
            assert!(
                all.iter().any(|e| e.classes.contains(c)),
                "no example for {c}"
            );
        }
    }
}

/// In SQL an example of a claimed class may only fail because its properties are not Zgłoś's.
#[test]
fn examples_of_claimed_classes_fail_in_sql_only_on_unknown_properties() {
    let claimed: BTreeSet<&str> = CONFORMANCE
        .iter()
        .map(|c| c.trim_start_matches(PREFIX))
        .collect();
    let mut ran = 0;
    for e in examples() {
        if !e.classes.is_subset(&claimed) {
            continue;
        }
        for tree in [
            e.text.as_deref().map(parse_text),
            e.json.as_deref().map(parse_json),
        ]
        .into_iter()
        .flatten()
        {
            let mut q: QueryBuilder<Postgres> = QueryBuilder::new("");
            match push_sql(&mut q, &tree.unwrap(), super::tests::QS) {
                Ok(()) => ran += 1,
                Err(err) => assert_eq!(err.code, UNKNOWN_PROPERTY, "{}: {}", e.name, err.message),
            }
        }
    }
    // The ones on `geometry` alone (and two literals) become SQL here.
    assert!(ran >= 20, "{ran}");
}
