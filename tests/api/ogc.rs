//! OGC API – Features end to end: the standard's resources, CQL2 filters in PostGIS, and the real
//! clients analysts use (GDAL's OAPIF driver, OWSLib).
use crate::common::{offset, point_report, spawn_app, TestApp, PLAC_CENTRALNY, RYNEK};
use serde_json::{json, Value};

/// Four reports around the main square (3 potholes, 1 lamp) and two in Nowa Huta.
async fn seed(app: &TestApp) -> Vec<i64> {
    let mut ids = Vec::new();
    let spots = [
        ("pothole", RYNEK, 0.0),
        ("pothole", RYNEK, 300.0),
        ("pothole", RYNEK, 600.0),
        ("street_lighting", RYNEK, 900.0),
        ("pothole", PLAC_CENTRALNY, 0.0),
        ("illegal_dumping", PLAC_CENTRALNY, 400.0),
    ];
    for (i, (cat, (lon, lat), east)) in spots.iter().enumerate() {
        let (lon, lat) = offset(*lon, *lat, *east, 0.0);
        let mut body = point_report(cat, lon, lat, &format!("Report {i}"));
        body["properties"]["contact"] = json!({"name": "Anna Secret", "email": "anna.secret@example.org", "phone": "+48 600 111 222"});
        ids.push(app.report(&body).await["id"].as_i64().unwrap());
    }
    ids
}

async fn get(app: &TestApp, path: &str) -> (u16, String) {
    let r = app.get(path).await;
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn json_ok(app: &TestApp, path: &str) -> Value {
    let (status, body) = get(app, path).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    assert!(
        !body.contains("anna.secret") && !body.contains("Anna Secret") && !body.contains("600 111"),
        "contact leaked in {path}"
    );
    serde_json::from_str(&body).unwrap()
}

fn ids(fc: &Value) -> Vec<i64> {
    let mut v: Vec<i64> = fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_i64().unwrap())
        .collect();
    v.sort();
    v
}

fn rel<'a>(doc: &'a Value, rel: &str) -> Option<&'a str> {
    doc["links"]
        .as_array()?
        .iter()
        .find(|l| l["rel"] == rel)
        .and_then(|l| l["href"].as_str())
}

#[tokio::test]
async fn core_resources_paging_and_errors() {
    let app = spawn_app().await;
    let all = seed(&app).await;

    let landing = json_ok(&app, "/ogc").await;
    for r in ["service-desc", "conformance", "data"] {
        assert!(rel(&landing, r).is_some(), "landing page links {r}");
    }
    let api = json_ok(&app, "/ogc/api").await;
    assert_eq!(api["openapi"], "3.0.3");
    assert!(api["paths"]["/collections/{collectionId}/items"].is_object());
    let conf = json_ok(&app, "/ogc/conformance").await;
    let classes: Vec<&str> = conf["conformsTo"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(classes.contains(&"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"));
    assert!(classes.contains(&"http://www.opengis.net/spec/cql2/1.0/conf/cql2-text"));

    let colls = json_ok(&app, "/ogc/collections").await;
    let names: Vec<&str> = colls["collections"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(
        names,
        ["reports", "districts"],
        "the internal collection is hidden from the public"
    );
    let reports = json_ok(&app, "/ogc/collections/reports").await;
    assert_eq!(
        reports["extent"]["spatial"]["bbox"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(rel(&reports, "items").is_some());

    // Paging: limit, numberMatched/numberReturned, next and prev.
    let page1 = json_ok(&app, "/ogc/collections/reports/items?limit=4").await;
    assert_eq!(page1["type"], "FeatureCollection");
    assert_eq!(page1["numberMatched"], 6);
    assert_eq!(page1["numberReturned"], 4);
    assert!(rel(&page1, "prev").is_none());
    let next = rel(&page1, "next").expect("a next link").to_owned();
    let next_path = next
        .split_once("127.0.0.1")
        .unwrap()
        .1
        .split_once('/')
        .map(|(_, p)| format!("/{p}"))
        .unwrap();
    let page2 = json_ok(&app, &next_path).await;
    assert_eq!(page2["numberReturned"], 2);
    assert!(rel(&page2, "next").is_none());
    assert!(rel(&page2, "prev").is_some());
    let mut seen = ids(&page1);
    seen.extend(ids(&page2));
    seen.sort();
    assert_eq!(seen, all);

    // A limit above the maximum is clamped, not refused; one below 1 is refused.
    let big = json_ok(&app, "/ogc/collections/reports/items?limit=1000000").await;
    assert_eq!(big["numberReturned"], 6);
    assert!(rel(&big, "self").unwrap().contains("limit=10000"));
    let (status, body) = get(&app, "/ogc/collections/reports/items?limit=0").await;
    assert_eq!(status, 400, "{body}");

    // Public fields only.
    let f = &page1["features"][0];
    let props = f["properties"].as_object().unwrap();
    for k in ["category", "status", "district", "unit", "created_at"] {
        assert!(props.contains_key(k), "{k} in {props:?}");
    }
    for k in [
        "routing_rule",
        "contact_email",
        "contact_name",
        "contact_phone",
        "first_response_at",
    ] {
        assert!(!props.contains_key(k), "{k} must not be public");
    }

    // One feature; unknown ones are 404 with the error body.
    let one = json_ok(&app, &format!("/ogc/collections/reports/items/{}", all[0])).await;
    assert_eq!(one["id"], all[0]);
    assert_eq!(one["geometry"]["type"], "Point");
    for path in [
        "/ogc/collections/reports/items/999999",
        "/ogc/collections/reports/items/abc",
        "/ogc/collections/nope",
        "/ogc/collections/nope/items",
    ] {
        let (status, body) = get(&app, path).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap()["error"]["code"],
            "not_found"
        );
    }

    // Unknown and malformed parameters: 400 naming the parameter.
    for (q, field) in [
        ("foo=1", "foo"),
        ("bbox=1,2,3", "bbox"),
        ("datetime=yesterday", "datetime"),
        ("limit=ten", "limit"),
        ("filter=status%20%3D", "filter"),
        ("filter=nope%20%3D%201", "filter"),
        ("filter-lang=sql", "filter-lang"),
        ("f=xml", "f"),
    ] {
        let (status, body) = get(&app, &format!("/ogc/collections/reports/items?{q}")).await;
        assert_eq!(status, 400, "{q}: {body}");
        let err: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(err["error"]["field"], field, "{q}: {body}");
    }
    let (status, _) = get(&app, "/ogc/collections?foo=1").await;
    assert_eq!(status, 400);

    // HTML views.
    let r = app
        .client
        .get(app.url("/ogc/collections/reports/items"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(r.text().await.unwrap().contains("6 matched"));
    let (status, body) = get(&app, "/ogc?f=html").await;
    assert_eq!(status, 200);
    assert!(body.contains("<html"));

    // Districts: all 18 with their attribution in the collection.
    let d = json_ok(&app, "/ogc/collections/districts/items?limit=50").await;
    assert_eq!(d["numberMatched"], 18);
    assert_eq!(d["features"][0]["geometry"]["type"], "MultiPolygon");
    let dc = json_ok(&app, "/ogc/collections/districts").await;
    assert!(dc["attribution"].as_str().unwrap().contains("ODbL"));
    let stare = json_ok(
        &app,
        "/ogc/collections/districts/items?filter=name%20LIKE%20%27Stare%25%27",
    )
    .await;
    assert_eq!(stare["numberMatched"], 1);
}

#[tokio::test]
async fn bbox_datetime_and_cql2_filters() {
    let app = spawn_app().await;
    let all = seed(&app).await;
    let q = |s: &str| {
        format!(
            "/ogc/collections/reports/items?{}",
            serde_urlencoded::to_string([("limit", "100")]).unwrap() + "&" + s
        )
    };
    let enc = |s: &str| serde_urlencoded::to_string([("filter", s)]).unwrap();

    // bbox around the main square: the first four.
    let (w, s) = offset(RYNEK.0, RYNEK.1, -100.0, -100.0);
    let (e, n) = offset(RYNEK.0, RYNEK.1, 1000.0, 100.0);
    let fc = json_ok(&app, &q(&format!("bbox={w},{s},{e},{n}"))).await;
    assert_eq!(ids(&fc), all[..4]);

    // datetime: instants and intervals with open ends.
    assert_eq!(
        ids(&json_ok(&app, &q("datetime=2000-01-01T00:00:00Z/..")).await),
        all
    );
    assert_eq!(
        ids(&json_ok(&app, &q("datetime=../2000-01-01T00:00:00Z")).await),
        Vec::<i64>::new()
    );
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(
        ids(&json_ok(&app, &q(&format!("datetime={today}"))).await),
        all
    );

    let cases: Vec<(&str, Vec<i64>)> = vec![
        ("category = 'pothole'", vec![all[0], all[1], all[2], all[4]]),
        ("category <> 'pothole' AND status = 'new'", vec![all[3], all[5]]),
        ("category IN ('street_lighting', 'illegal_dumping')", vec![all[3], all[5]]),
        ("NOT (category = 'pothole') OR id = 1", vec![all[0], all[3], all[5]]),
        ("description LIKE 'Report _'", all.clone()),
        ("CASEI(description) LIKE 'report 5'", vec![all[5]]),
        ("id BETWEEN 2 AND 3", vec![all[1], all[2]]),
        ("district_id = 18", vec![all[4], all[5]]),
        ("created_at > TIMESTAMP('2000-01-01T00:00:00Z')", all.clone()),
        ("T_AFTER(created_at, TIMESTAMP('2100-01-01T00:00:00Z'))", vec![]),
        ("T_DURING(created_at, INTERVAL('2000-01-01T00:00:00Z', '..'))", all.clone()),
        (&*Box::leak(format!("S_INTERSECTS(geometry, BBOX({w},{s},{e},{n}))").into_boxed_str()), all[..4].to_vec()),
        (
            &*Box::leak(format!("S_INTERSECTS(geometry, POLYGON(({w} {s}, {e} {s}, {e} {n}, {w} {n}, {w} {s}))) AND category = 'street_lighting'").into_boxed_str()),
            vec![all[3]],
        ),
        ("duplicate_of IS NULL AND near_border = false", all.clone()),
    ];
    for (filter, want) in cases {
        let fc = json_ok(&app, &q(&enc(filter))).await;
        assert_eq!(ids(&fc), want, "filter {filter}");
        assert_eq!(fc["numberMatched"], want.len(), "filter {filter}");
    }

    // CQL2 JSON.
    let j = json!({"op": "and", "args": [
        {"op": "=", "args": [{"property": "category"}, "pothole"]},
        {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [w, s, e, n]}]},
        {"op": "t_after", "args": [{"property": "created_at"}, {"timestamp": "2000-01-01T00:00:00Z"}]}
    ]});
    let path = q(&serde_urlencoded::to_string([
        ("filter", j.to_string().as_str()),
        ("filter-lang", "cql2-json"),
    ])
    .unwrap());
    assert_eq!(ids(&json_ok(&app, &path).await), all[..3]);

    // Queryables.
    let qs = json_ok(&app, "/ogc/collections/reports/queryables").await;
    assert!(qs["properties"]["created_at"].is_object());
    assert!(qs["properties"].get("routing_rule").is_none());
    assert!(qs["properties"].get("contact_email").is_none());

    // A filter on an internal field is refused to the public, as an unknown property.
    let (status, body) = get(&app, &q(&enc("routing_rule = 'x'"))).await;
    assert_eq!(status, 400, "{body}");
    // Injection attempts are data, never SQL.
    let fc = json_ok(&app, &q(&enc("category = 'x'' OR 1=1 --'"))).await;
    assert_eq!(fc["numberMatched"], 0);
}

#[tokio::test]
async fn analysts_see_the_internal_collection() {
    let app = spawn_app().await;
    let all = seed(&app).await;
    let (status, _) = get(&app, "/ogc/collections/reports-internal/items").await;
    assert_eq!(status, 401);
    let open311 = zglos::auth::add_api_key(&app.pool, "some app", "open311", None)
        .await
        .unwrap();
    let r = app
        .client
        .get(app.url("/ogc/collections/reports-internal/items"))
        .bearer_auth(&open311)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    let key = zglos::auth::add_api_key(&app.pool, "city analytics", "analyst", None)
        .await
        .unwrap();
    let get_auth = |path: &str| app.client.get(app.url(path)).bearer_auth(&key).send();
    let colls: Value = get_auth("/ogc/collections")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = colls["collections"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(names, ["reports", "reports-internal", "districts"]);
    let r =
        get_auth("/ogc/collections/reports-internal/items?filter=routing_rule%20IS%20NOT%20NULL")
            .await
            .unwrap();
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(
        !body.contains("anna.secret") && !body.contains("Anna Secret") && !body.contains("600 111"),
        "no contact data for analysts either"
    );
    let fc: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ids(&fc), all);
    let props = fc["features"][0]["properties"].as_object().unwrap();
    for k in [
        "unit_code",
        "routing_rule",
        "first_response_at",
        "closed_at",
    ] {
        assert!(props.contains_key(k), "{k}");
    }
}

// ------------------------------------------------------------------ real clients

/// Whether a client tool is present; the test script installs them and sets ZGLOS_REQUIRE_GIS_CLIENTS.
fn have(tool: &str, probe: &[&str]) -> bool {
    let ok = std::process::Command::new(tool)
        .args(probe)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        assert!(
            std::env::var_os("ZGLOS_REQUIRE_GIS_CLIENTS").is_none(),
            "{tool} is required (scripts/test.sh installs it)"
        );
        eprintln!("SKIPPED: {tool} is not installed (scripts/test.sh installs it)");
    }
    ok
}

async fn run(cmd: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = tokio::process::Command::new(cmd)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .await
        .expect("run client");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed:\n{stdout}\n{stderr}"
    );
    // Debug output (CPL_DEBUG) goes to stderr: keep it after the output for the checks.
    format!("{stdout}\n{stderr}")
}

#[tokio::test]
async fn gdal_reads_layers_with_spatial_and_attribute_filters() {
    if !have("ogrinfo", &["--version"]) {
        return;
    }
    let app = spawn_app().await;
    let all = seed(&app).await;
    let ds = format!("OAPIF:{}/ogc", app.address);
    let env = [("GDAL_HTTP_TIMEOUT", "20"), ("CPL_DEBUG", "OFF")];

    let list = run("ogrinfo", &["-ro", "-q", &ds], &env).await;
    assert!(
        list.contains("reports") && list.contains("districts"),
        "{list}"
    );
    assert!(!list.contains("reports-internal"), "{list}");

    let summary = run("ogrinfo", &["-ro", "-so", &ds, "reports"], &env).await;
    assert!(summary.contains("Feature Count: 6"), "{summary}");
    assert!(summary.contains("category: String"), "{summary}");

    // Spatial filter (sent as bbox) and attribute filter (sent as CQL text) together.
    let (w, s) = offset(RYNEK.0, RYNEK.1, -100.0, -100.0);
    let (e, n) = offset(RYNEK.0, RYNEK.1, 1000.0, 100.0);
    let (ws, ss, es, ns) = (w.to_string(), s.to_string(), e.to_string(), n.to_string());
    let out = run(
        "ogrinfo",
        &[
            "-ro",
            "-al",
            "-q",
            "-spat",
            &ws,
            &ss,
            &es,
            &ns,
            "-where",
            "category = 'pothole'",
            &ds,
            "reports",
        ],
        &env,
    )
    .await;
    let fids: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("OGRFeature(reports):"))
        .collect();
    assert_eq!(fids.len(), 3, "{out}");
    // The spatial filter runs on the server (bbox). GDAL 3.6 does not recognise the filter
    // language from a standard OpenAPI document, so it evaluates the attribute filter itself on
    // the bbox-filtered pages; the result is the same.
    let out = run(
        "ogrinfo",
        &[
            "-ro",
            "-al",
            "-q",
            "-spat",
            &ws,
            &ss,
            &es,
            &ns,
            "-where",
            "category = 'pothole'",
            &ds,
            "reports",
        ],
        &[("CPL_DEBUG", "ON")],
    )
    .await;
    let requests: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("/collections/reports/items?"))
        .collect();
    assert!(requests.iter().any(|l| l.contains("bbox=")), "{out}");
    let fids: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("OGRFeature(reports):"))
        .collect();
    assert_eq!(fids.len(), 3, "{out}");
    for id in &all[..3] {
        assert!(out.contains(&format!("OGRFeature(reports):{id}")), "{out}");
    }
    assert!(!out.contains("anna.secret"));

    let districts = run("ogrinfo", &["-ro", "-so", &ds, "districts"], &env).await;
    assert!(districts.contains("Feature Count: 18"), "{districts}");

    // Analysts read the internal layer with their key.
    let key = zglos::auth::add_api_key(&app.pool, "qgis", "analyst", None)
        .await
        .unwrap();
    let header = format!("Authorization: Bearer {key}");
    let internal = run(
        "ogrinfo",
        &["-ro", "-al", "-q", &ds, "reports-internal"],
        &[("GDAL_HTTP_HEADERS", header.as_str())],
    )
    .await;
    assert!(internal.contains("routing_rule (String)"), "{internal}");
    assert!(!internal.contains("anna.secret"));
}

#[tokio::test]
async fn owslib_reads_items_with_bbox_limit_and_filter() {
    let py = crate::common::gis_python();
    if !have(&py, &["-c", "import owslib"]) {
        return;
    }
    let app = spawn_app().await;
    let all = seed(&app).await;
    let (w, s) = offset(PLAC_CENTRALNY.0, PLAC_CENTRALNY.1, -100.0, -100.0);
    let (e, n) = offset(PLAC_CENTRALNY.0, PLAC_CENTRALNY.1, 500.0, 100.0);
    let script = crate::common::repo_root().join("tests/clients/owslib_check.py");
    let out = run(
        &py,
        &[
            script.to_str().unwrap(),
            &format!("{}/ogc", app.address),
            &format!("{w},{s},{e},{n}"),
        ],
        &[],
    )
    .await;
    let v: Value = serde_json::from_str(out.trim()).unwrap_or_else(|_| panic!("{out}"));
    assert_eq!(v["collections"], json!(["reports", "districts"]));
    assert_eq!(
        v["limit"],
        json!({"returned": 2, "matched": 6, "next": true})
    );
    assert_eq!(v["bbox"], json!(all[4..]));
    assert_eq!(v["filter"], json!([all[0], all[1], all[2], all[4]]));
    assert_eq!(v["item"], json!(all[0]));
    assert!(v["queryables"]
        .as_array()
        .unwrap()
        .contains(&json!("category")));
    assert!(!out.contains("contact"));
}

/// The reports' times and supporters set to known values (the update trigger would stamp now()).
async fn set_times(app: &TestApp, ids: &[i64], rows: &[(&str, &str, i32)]) {
    sqlx::query("ALTER TABLE reports DISABLE TRIGGER reports_bump_rev")
        .execute(&app.pool)
        .await
        .unwrap();
    for (id, (created, updated, supporters)) in ids.iter().zip(rows) {
        sqlx::query(
            "UPDATE reports SET created_at = $2::timestamptz, updated_at = $3::timestamptz, supporters = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(created)
        .bind(updated)
        .bind(supporters)
        .execute(&app.pool)
        .await
        .unwrap();
    }
    sqlx::query("ALTER TABLE reports ENABLE TRIGGER reports_bump_rev")
        .execute(&app.pool)
        .await
        .unwrap();
}

#[tokio::test]
async fn cql2_temporal_functions_arithmetic_and_accenti_in_postgis() {
    let app = spawn_app().await;
    let all = seed(&app).await;
    set_times(
        &app,
        &all,
        &[
            ("2024-01-01T00:00:00Z", "2024-01-10T00:00:00Z", 1),
            ("2024-01-10T00:00:00Z", "2024-01-20T00:00:00Z", 2),
            ("2024-01-05T12:00:00Z", "2024-01-15T00:00:00Z", 3),
            ("2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z", 4),
            ("2024-01-20T00:00:00Z", "2024-01-20T00:00:00Z", 5),
            ("2023-12-01T00:00:00Z", "2024-06-01T00:00:00Z", 6),
        ],
    )
    .await;
    let r = |i: &[usize]| i.iter().map(|&i| all[i]).collect::<Vec<i64>>();
    let items = |pairs: &[(&str, &str)]| {
        format!(
            "/ogc/collections/reports/items?limit=100&{}",
            serde_urlencoded::to_string(pairs).unwrap()
        )
    };

    // Each report's life is INTERVAL(created_at, updated_at).
    let text: Vec<(&str, Vec<i64>)> = vec![
        ("T_MEETS(INTERVAL(created_at, updated_at), INTERVAL('2024-01-10T00:00:00Z', '..'))", r(&[0])),
        ("T_METBY(INTERVAL(created_at, updated_at), INTERVAL('..', '2024-01-10T00:00:00Z'))", r(&[1])),
        ("T_OVERLAPS(INTERVAL(created_at, updated_at), INTERVAL('2024-01-08T00:00:00Z', '2024-01-18T00:00:00Z'))", r(&[0, 2])),
        ("T_OVERLAPPEDBY(INTERVAL(created_at, updated_at), INTERVAL('2024-01-01T00:00:00Z', '2024-01-12T00:00:00Z'))", r(&[1, 2])),
        ("T_FINISHEDBY(INTERVAL(created_at, updated_at), INTERVAL('2024-01-15T00:00:00Z', '2024-01-20T00:00:00Z'))", r(&[1])),
        ("T_STARTEDBY(INTERVAL(created_at, updated_at), INTERVAL('2024-01-10T00:00:00Z', '2024-01-12T00:00:00Z'))", r(&[1])),
        // A literal first; dates cover their whole day.
        ("T_CONTAINS(INTERVAL('2024-01-01', '2024-01-31'), INTERVAL(created_at, updated_at))", r(&[1, 2, 4])),
        ("T_DURING(INTERVAL(created_at, updated_at), INTERVAL('2023-12-31', '..'))", r(&[0, 1, 2, 3, 4])),
        ("T_DURING(created_at, INTERVAL('2024-01-06', '..'))", r(&[1, 3, 4])),
        ("T_INTERSECTS(created_at, INTERVAL('..', '2024-01-05'))", r(&[0, 2, 5])),
        ("T_EQUALS(created_at, DATE('2024-01-05'))", r(&[2])),
        // Arithmetic, also with a property on both sides.
        ("supporters * 2 - 1 > 6", r(&[3, 4, 5])),
        ("supporters ^ 2 = 9", r(&[2])),
        ("supporters div 2 = 1", r(&[1, 2])),
        ("supporters / 4 = 0.5", r(&[1])),
        ("supporters % 2 = 0 AND supporters < 5", r(&[1, 3])),
        ("id - supporters > id - 4", r(&[0, 1, 2])),
        ("-supporters < -5", r(&[5])),
        ("supporters / 0 = 1", vec![]),
    ];
    for (filter, want) in text {
        let fc = json_ok(&app, &items(&[("filter", filter)])).await;
        assert_eq!(ids(&fc), want, "filter {filter}");
        assert_eq!(fc["numberMatched"], want.len(), "filter {filter}");
    }

    let cql_json: Vec<(Value, Vec<i64>)> = vec![
        (
            json!({"op": "t_meets", "args": [
                {"interval": [{"property": "created_at"}, {"property": "updated_at"}]},
                {"interval": ["2024-01-10T00:00:00Z", ".."]}]}),
            r(&[0]),
        ),
        (
            json!({"op": "t_overlaps", "args": [
                {"interval": [{"property": "created_at"}, {"property": "updated_at"}]},
                {"interval": ["2024-01-08T00:00:00Z", "2024-01-18T00:00:00Z"]}]}),
            r(&[0, 2]),
        ),
        (
            json!({"op": "t_during", "args": [{"property": "created_at"}, {"interval": ["2024-01-06", ".."]}]}),
            r(&[1, 3, 4]),
        ),
        (
            json!({"op": ">", "args": [
                {"op": "-", "args": [{"op": "*", "args": [{"property": "supporters"}, 2]}, 1]}, 6]}),
            r(&[3, 4, 5]),
        ),
    ];
    for (filter, want) in cql_json {
        let f = filter.to_string();
        let fc = json_ok(
            &app,
            &items(&[("filter", &f), ("filter-lang", "cql2-json")]),
        )
        .await;
        assert_eq!(ids(&fc), want, "filter {f}");
    }

    // ACCENTI on a stock PostGIS (no unaccent extension): Polish district names.
    let districts = |filter: &str| {
        format!(
            "/ogc/collections/districts/items?limit=50&{}",
            serde_urlencoded::to_string([("filter", filter)]).unwrap()
        )
    };
    let d = json_ok(
        &app,
        &districts("ACCENTI(name) = ACCENTI('Lagiewniki-Borek Falecki')"),
    )
    .await;
    assert_eq!(ids(&d), [9]);
    let d = json_ok(
        &app,
        &districts("ACCENTI(CASEI(name)) LIKE ACCENTI(CASEI('%PRĄDNIK%'))"),
    )
    .await;
    assert_eq!(ids(&d), [3, 4]);
    let d = json_ok(&app, &districts("ACCENTI(name) = 'Dębniki'")).await;
    assert_eq!(
        ids(&d),
        Vec::<i64>::new(),
        "only what ACCENTI wraps is folded"
    );

    // The standard's own examples parse; their properties are not ours: a 400 naming the property.
    let (status, body) = get(
        &app,
        &items(&[("filter", "T_FINISHEDBY(INTERVAL(starts_at, ends_at), INTERVAL('1991-10-07T08:21:06.393262Z', '2010-02-10T05:29:20.073225Z'))")]),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let err: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(err["error"]["code"], "invalid_filter");
    assert_eq!(err["error"]["field"], "filter");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("\"starts_at\""),
        "{body}"
    );

    // What /ogc/conformance claims is what the CQL2 layer implements.
    let conf = json_ok(&app, "/ogc/conformance").await;
    let cql2: Vec<&str> = conf["conformsTo"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .filter(|c| c.contains("/spec/cql2/"))
        .collect();
    assert_eq!(cql2, zglos::cql::CONFORMANCE);
}
