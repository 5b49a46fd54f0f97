//! The OpenAPI document at `/openapi.json` is generated from the handlers: these tests check that
//! it and the router agree in both directions, and that it is valid OpenAPI 3.

use std::collections::BTreeSet;

use crate::common::*;
use serde_json::Value;
use zglos::http::doc::{axum_path, UNDOCUMENTED};

const METHODS: &[&str] = &[
    "get", "head", "delete", "options", "patch", "post", "put", "trace", "connect",
];

/// The router's own route list, read from its `Debug` output (axum prints every route id with
/// its path and, per method, whether a handler is set): (METHOD or `*`, path).
fn routed() -> BTreeSet<(String, String)> {
    let router = zglos::http::routes(&repo_root().join("web"));
    let debug = format!("{router:?}");
    // The main path router comes first; its node lists the paths by route id.
    let main = &debug[..debug
        .find("fallback_router")
        .expect("axum's Router debug output has a fallback_router")];
    let (routes, node) = main
        .split_once("node: Node { paths: {")
        .expect("axum's Router debug output lists the paths");
    let mut paths = std::collections::HashMap::new();
    for entry in node.split("RouteId(").skip(1) {
        let (id, rest) = entry.split_once("): \"").expect("RouteId(n): \"path\"");
        let path = rest.split('"').next().unwrap();
        paths.insert(id.to_owned(), path.to_owned());
    }
    let mut out = BTreeSet::new();
    for entry in routes.split("RouteId(").skip(1) {
        let (id, endpoint) = entry.split_once("): ").expect("RouteId(n): endpoint");
        let path = paths[id].clone();
        if endpoint.starts_with("Route(") {
            out.insert(("*".to_owned(), path));
            continue;
        }
        let fields = endpoint
            .split("allow_header")
            .next()
            .expect("a method router");
        let mut any_method = false;
        for m in METHODS {
            let key = format!(" {m}: ");
            let value = fields
                .split(&key)
                .nth(1)
                .unwrap_or_else(|| panic!("no {m} in {fields}"));
            if !value.starts_with("None") {
                any_method = true;
                // A GET handler answers HEAD too: HEAD is not listed separately.
                out.insert((m.to_uppercase(), path.clone()));
            }
        }
        if !any_method {
            out.insert(("*".to_owned(), path));
        }
    }
    // Nested services are routed at their prefix and with the axum-internal tail parameter.
    out.into_iter()
        .map(|(m, p)| {
            (
                m,
                p.replace("{*__private__axum_nest_tail_param}", "{*path}"),
            )
        })
        .collect()
}

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in METHODS {
            if item.get(*m).is_some() {
                out.insert((m.to_uppercase(), axum_path(path)));
            }
        }
    }
    out
}

fn undocumented() -> BTreeSet<(String, String)> {
    UNDOCUMENTED
        .iter()
        .filter(|(_, p)| *p != "fallback")
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect()
}

#[test]
fn every_route_is_documented_and_every_documented_route_is_routed() {
    let doc: Value = serde_json::from_str(zglos::http::doc::document_json()).unwrap();
    let routed = routed();
    assert!(
        routed.len() > 50,
        "reading the router's routes went wrong: {routed:?}"
    );
    let documented = documented(&doc);
    let undocumented = undocumented();
    let missing_docs: Vec<_> = routed
        .iter()
        .filter(|r| !documented.contains(*r) && !undocumented.contains(*r))
        .collect();
    assert!(
        missing_docs.is_empty(),
        "routed but neither documented nor listed in UNDOCUMENTED: {missing_docs:?}"
    );
    let not_routed: Vec<_> = documented.difference(&routed).collect();
    assert!(
        not_routed.is_empty(),
        "documented but not routed: {not_routed:?}"
    );
    let stale: Vec<_> = undocumented.difference(&routed).collect();
    assert!(
        stale.is_empty(),
        "listed in UNDOCUMENTED but not routed: {stale:?}"
    );
    let both: Vec<_> = documented.intersection(&undocumented).collect();
    assert!(both.is_empty(), "documented and in UNDOCUMENTED: {both:?}");
}

/// The schema of a parameter, with a `$ref` to the components followed.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap();
            &doc["components"]["schemas"][name]
        }
        None => schema,
    }
}

/// A value for a path parameter: its example, else the first value of its enum, else 1.
fn placeholder(doc: &Value, param: &Value) -> String {
    if let Some(e) = param["example"].as_str() {
        return e.to_owned();
    }
    let schema = resolve(doc, &param["schema"]);
    if let Some(e) = schema["example"].as_str() {
        return e.to_owned();
    }
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return first
            .as_str()
            .map(str::to_owned)
            .unwrap_or(first.to_string());
    }
    "1".to_owned()
}

#[tokio::test]
async fn every_documented_operation_reaches_its_handler() {
    let app = spawn_app().await;
    let doc = app.get_json("/openapi.json").await;
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in METHODS {
            let Some(op) = item.get(*m) else { continue };
            let mut url = path.clone();
            for p in op["parameters"].as_array().into_iter().flatten() {
                if p["in"] == "path" {
                    let name = p["name"].as_str().unwrap();
                    url = url.replace(&format!("{{{name}}}"), &placeholder(&doc, p));
                }
            }
            assert!(
                !url.contains('{'),
                "{path}: a path parameter is not declared"
            );
            let method = reqwest::Method::from_bytes(m.to_uppercase().as_bytes()).unwrap();
            let r = app
                .client
                .request(method, format!("{}{url}", app.address))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let body = r.text().await.unwrap_or_default();
            assert_ne!(status, 405, "{m} {url}: the router has no such method");
            if status == 404 {
                // The service's own 404s are JSON (an unknown report, photo, collection...);
                // the router's are the static files' plain 404 or "no such endpoint/resource".
                let json: Option<Value> = serde_json::from_str(&body).ok();
                let message = json
                    .as_ref()
                    .and_then(|v| {
                        v["error"]["message"]
                            .as_str()
                            .or(v[0]["description"].as_str())
                    })
                    .unwrap_or("");
                assert!(
                    json.is_some()
                        && !message.starts_with("no such endpoint")
                        && !message.starts_with("no such resource"),
                    "{m} {url}: not routed to a handler ({status} {body})"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 50, "only {checked} operations");
}

#[tokio::test]
async fn the_document_keeps_the_api_description_and_its_schemas() {
    let app = spawn_app().await;
    let r = app.get("/openapi.json").await;
    assert_eq!(r.headers()["content-type"], "application/json");
    let doc: Value = r.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(doc["info"]["title"], "Zgłoś API");
    assert_eq!(doc["info"]["license"]["name"], "AGPL-3.0-or-later");
    assert!(doc["info"]["description"]
        .as_str()
        .unwrap()
        .contains("Errors are JSON"));
    for schema in [
        "Error",
        "Geometry",
        "NewReport",
        "ReportProperties",
        "ReportFeature",
        "ReportCollection",
        "Category",
        "Photo",
        "StatusChangeBody",
        "MergeBody",
        "ReassignBody",
        "EditBody",
        "LoginBody",
    ] {
        assert!(
            doc["components"]["schemas"].get(schema).is_some(),
            "no schema {schema}"
        );
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["session"]["name"],
        "zglos_session"
    );
    let create = &doc["paths"]["/api/v1/reports"]["post"];
    assert_eq!(
        create["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/NewReport"
    );
    assert_eq!(
        create["responses"]["422"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Error"
    );
    // An error body as the service sends it matches the documented Error schema's members.
    let e: Value = app
        .client
        .get(format!("{}/api/v1/reports/0", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let documented = &doc["components"]["schemas"]["Error"]["properties"]["error"];
    let detail = resolve(&doc, documented);
    for (k, _) in e["error"].as_object().unwrap() {
        assert!(
            detail["properties"].get(k).is_some(),
            "{k} is not documented"
        );
    }
}

#[tokio::test]
async fn the_document_is_valid_openapi_3() {
    let py = crate::common::gis_python();
    let ok = std::process::Command::new(&py)
        .args(["-c", "import openapi_spec_validator"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        assert!(
            std::env::var_os("ZGLOS_REQUIRE_GIS_CLIENTS").is_none(),
            "openapi-spec-validator is required (scripts/test.sh installs it)"
        );
        eprintln!("SKIPPED: openapi-spec-validator is not installed (scripts/test.sh installs it)");
        return;
    }
    let app = spawn_app().await;
    let text = app.get("/openapi.json").await.text().await.unwrap();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &text).unwrap();
    let out = tokio::process::Command::new(&py)
        .args([
            "-c",
            "import sys\n\
             from openapi_spec_validator import validate\n\
             from openapi_spec_validator.readers import read_from_filename\n\
             spec, _ = read_from_filename(sys.argv[1])\n\
             try:\n\
             \x20   validate(spec)\n\
             except Exception as e:\n\
             \x20   sys.exit(f'{type(e).__name__}: {str(e)[:2000]}')\n\
             print('valid OpenAPI', spec['openapi'], 'with', len(spec['paths']), 'paths')",
            file.path().to_str().unwrap(),
        ])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "openapi-spec-validator: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{}", String::from_utf8_lossy(&out.stdout).trim());
}
