//! Submitting, reading and listing reports through HTTP on a real PostGIS.
use crate::common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn a_report_is_stored_routed_and_readable_without_contact_data() {
    let app = spawn_app().await;
    let mut body = point_report(
        "pothole",
        RYNEK.0,
        RYNEK.1,
        "Deep pothole by the Cloth Hall",
    );
    body["properties"]["contact"] =
        json!({"name": "Anna Kowalska", "email": "anna@example.org", "phone": "+48 600 100 200"});
    body["properties"]["channel"] = json!("phone");
    let r = app.post_json("/api/v1/reports", &body).await;
    assert_eq!(r.status(), 201);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let text = r.text().await.unwrap();
    let created: Value = serde_json::from_str(&text).unwrap();
    let p = &created["properties"];
    let id = p["id"].as_i64().unwrap();
    assert_eq!(location, format!("/api/v1/reports/{id}"));
    assert_eq!(created["type"], "Feature");
    assert_eq!(created["geometry"]["type"], "Point");
    assert_eq!(p["category"], "pothole");
    assert_eq!(p["status"], "new");
    assert_eq!(p["district"], json!({"id": 1, "name": "Stare Miasto"}));
    assert_eq!(p["unit"]["code"], "ZDMK");
    assert_eq!(p["duplicate_of"], Value::Null);
    assert_eq!(p["supporters"], 1);
    assert_eq!(p["channel"], "phone");
    assert!(p["created_at"].as_str().unwrap().starts_with("20"));
    assert_eq!(p["timeline"][0]["kind"], "created");

    // The contact is stored (for feedback) but never shown.
    let (email, rule): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT contact_email, routing_rule FROM reports WHERE id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(email.as_deref(), Some("anna@example.org"));
    assert_eq!(
        rule.as_deref(),
        Some("roads-pothole"),
        "why it was routed there is kept"
    );
    let one = app.get(&location).await.text().await.unwrap();
    let list = app.get("/api/v1/reports").await.text().await.unwrap();
    let near = app
        .get(&format!(
            "/api/v1/reports/nearby?lon={}&lat={}",
            RYNEK.0, RYNEK.1
        ))
        .await
        .text()
        .await
        .unwrap();
    for public in [&text, &one, &list, &near] {
        for secret in [
            "anna@example.org",
            "Anna Kowalska",
            "600 100 200",
            "contact",
        ] {
            assert!(
                !public.contains(secret),
                "public output leaks {secret:?}: {public}"
            );
        }
    }
    let one: Value = serde_json::from_str(&one).unwrap();
    assert_eq!(one["properties"]["id"], id);
}

#[tokio::test]
async fn lines_and_areas_are_accepted_where_the_category_allows_them() {
    let app = spawn_app().await;
    let (a, b) = (
        offset(RYNEK.0, RYNEK.1, -300.0, -500.0),
        offset(RYNEK.0, RYNEK.1, -100.0, -500.0),
    );
    let line = json!({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[a.0, a.1], [b.0, b.1]]},
        "properties": {"category": "pavement", "description": "Broken pavement along the street"}});
    let created = app.report(&line).await;
    assert_eq!(created["geometry"]["type"], "LineString");
    assert_eq!(created["properties"]["unit"]["code"], "ZDMK");
    let (c0, c1, c2) = (
        PLAC_CENTRALNY,
        offset(PLAC_CENTRALNY.0, PLAC_CENTRALNY.1, 40.0, 0.0),
        offset(PLAC_CENTRALNY.0, PLAC_CENTRALNY.1, 40.0, 40.0),
    );
    let area = json!({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[c0.0, c0.1], [c1.0, c1.1], [c2.0, c2.1], [c0.0, c0.1]]]},
        "properties": {"category": "illegal_dumping", "description": "Rubble dumped on the lawn"}});
    let created = app.report(&area).await;
    assert_eq!(created["properties"]["district"]["name"], "Nowa Huta");
    assert_eq!(created["properties"]["unit"]["code"], "MPO");
    // A street lamp is a point: a line gets a clear 422.
    let mut wrong = line.clone();
    wrong["properties"]["category"] = json!("street_lighting");
    let r = app.post_json("/api/v1/reports", &wrong).await;
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "geometry_not_allowed");
    assert_eq!(e["error"]["field"], "geometry.type");
}

#[tokio::test]
async fn an_idempotency_key_returns_the_same_report_on_retry() {
    let app = spawn_app().await;
    let body = point_report("graffiti", RYNEK.0, RYNEK.1, "Tags on the wall");
    let send = |key: &'static str, body: Value| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/api/v1/reports"))
                .header("Idempotency-Key", key)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let first = send("draft-42", body.clone()).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = send("draft-42", body.clone()).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(first["id"], again["id"]);
    // The first answer is built from what the insert returned, the replay reads the report back:
    // they must not differ in anything.
    assert_eq!(first, again);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM reports")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 1, "a retried POST must not create a second report");
    // The same key with another body is refused, not silently mapped to the first report.
    let other = send(
        "draft-42",
        point_report("graffiti", RYNEK.0, RYNEK.1, "Something else"),
    )
    .await;
    assert_eq!(other.status(), 422);
    let e: Value = other.json().await.unwrap();
    assert_eq!(e["error"]["code"], "idempotency_key_reused");
    // Concurrent retries of one request still make one report.
    let body = point_report(
        "litter",
        PLAC_CENTRALNY.0,
        PLAC_CENTRALNY.1,
        "Overflowing bin",
    );
    let results = futures::future::join_all((0..6).map(|_| send("draft-43", body.clone()))).await;
    let mut ids = Vec::new();
    for r in results {
        assert_eq!(r.status(), 201);
        ids.push(r.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1);
}

/// The 201 is built from the rows the submission wrote, not read back: it must be exactly what a
/// later GET shows, for an original and for a duplicate (status, link, timeline and all).
#[tokio::test]
async fn the_created_answer_is_the_stored_report() {
    let app = spawn_app().await;
    let first = app
        .report(&point_report(
            "pothole",
            RYNEK.0,
            RYNEK.1,
            "Pothole by the Cloth Hall",
        ))
        .await;
    let near = offset(RYNEK.0, RYNEK.1, 3.0, 2.0);
    let second = app
        .report(&point_report(
            "pothole",
            near.0,
            near.1,
            "Same pothole, seen from the tram",
        ))
        .await;
    let (id1, id2) = (
        first["id"].as_i64().unwrap(),
        second["id"].as_i64().unwrap(),
    );
    assert_eq!(second["properties"]["status"], "duplicate");
    assert_eq!(second["properties"]["duplicate_of"], id1);
    let kinds: Vec<&Value> = second["properties"]["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["kind"])
        .collect();
    assert_eq!(kinds, [&json!("created"), &json!("duplicate")]);
    let stored: Value = app
        .get(&format!("/api/v1/reports/{id2}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second, stored);
    let original: Value = app
        .get(&format!("/api/v1/reports/{id1}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        original["properties"]["supporters"], 2,
        "the duplicate adds a supporter to its original"
    );
    let mut expected = first.clone();
    expected["properties"]["supporters"] = json!(2);
    expected["properties"]["updated_at"] = original["properties"]["updated_at"].clone();
    assert_eq!(original, expected);

    // The in-memory store got both rows from the statement's answer: the next tile shows them.
    let (z, x, y) = tile_of(16, RYNEK.0, RYNEK.1);
    let tile = app
        .tile(&format!("/tiles/reports/{z}/{x}/{y}.mvt?status=all"))
        .await;
    let reports = tile
        .iter()
        .find(|l| l.name == "reports")
        .expect("reports layer");
    let feature = |id: i64| {
        reports
            .features
            .iter()
            .find(|f| f.id == Some(id as u64))
            .expect("the report in the tile")
    };
    assert_eq!(feature(id1).properties["supporters"].as_u64(), Some(2));
    assert_eq!(
        feature(id2).properties["status"].as_str(),
        Some("duplicate")
    );
}

async fn expect_error(
    app: &TestApp,
    req: reqwest::RequestBuilder,
    status: u16,
    code: &str,
    field: Option<&str>,
) {
    let r = req.send().await.unwrap();
    let got = r.status().as_u16();
    let text = r.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    let v: Value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("error body must be JSON: {text}"));
    assert_eq!(v["error"]["code"], code, "{text}");
    assert!(!v["error"]["message"].as_str().unwrap_or("").is_empty());
    if let Some(f) = field {
        assert_eq!(v["error"]["field"], f, "{text}");
    }
    let _ = app;
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_nothing_is_stored() {
    let app = spawn_app().await;
    let post = || app.client.post(app.url("/api/v1/reports"));
    let json_post = |v: Value| app.client.post(app.url("/api/v1/reports")).json(&v);
    let with_geometry = |g: Value| json!({"type": "Feature", "geometry": g, "properties": {"category": "pothole", "description": "x"}});

    expect_error(
        &app,
        post()
            .header("content-type", "application/json")
            .body("{\"type\": \"Feature\","),
        400,
        "invalid_json",
        None,
    )
    .await;
    expect_error(
        &app,
        post().header("content-type", "application/json").body(""),
        400,
        "empty_body",
        None,
    )
    .await;
    expect_error(
        &app,
        post().header("content-type", "text/plain").body("hello"),
        415,
        "unsupported_media_type",
        Some("Content-Type"),
    )
    .await;
    expect_error(
        &app,
        post()
            .header("content-type", "application/json")
            .body(vec![b' '; 300 * 1024]),
        413,
        "payload_too_large",
        None,
    )
    .await;
    expect_error(
        &app,
        json_post(point_report("unicorns", RYNEK.0, RYNEK.1, "x")),
        422,
        "unknown_category",
        Some("properties.category"),
    )
    .await;
    expect_error(
        &app,
        json_post(point_report("pothole", RYNEK.0, RYNEK.1, "   ")),
        400,
        "missing_field",
        Some("properties.description"),
    )
    .await;
    expect_error(
        &app,
        json_post(point_report("pothole", 200.0, 50.0, "x")),
        400,
        "coordinate_out_of_range",
        Some("geometry.coordinates[0]"),
    )
    .await;
    expect_error(
        &app,
        json_post(point_report("pothole", 19.9, 95.0, "x")),
        400,
        "coordinate_out_of_range",
        Some("geometry.coordinates[1]"),
    )
    .await;
    // NaN cannot be written in JSON; a string where a number belongs is the closest thing.
    expect_error(
        &app,
        json_post(with_geometry(
            json!({"type": "Point", "coordinates": ["NaN", 50.0]}),
        )),
        400,
        "invalid_geometry",
        Some("geometry.coordinates[0]"),
    )
    .await;
    expect_error(&app, post().header("content-type", "application/json").body(r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[NaN,50]},"properties":{}}"#), 400, "invalid_json", None).await;
    // Swapped coordinates land outside the city, and the message says why.
    let r = json_post(point_report("pothole", RYNEK.1, RYNEK.0, "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "outside_city");
    assert!(e["error"]["message"].as_str().unwrap().contains("swapped"));
    expect_error(
        &app,
        json_post(point_report("pothole", 19.5, 50.0, "x")),
        422,
        "outside_city",
        Some("geometry.coordinates"),
    )
    .await;
    // A self-intersecting area (a bow tie) and too many vertices.
    let (x, y) = PLAC_CENTRALNY;
    let bow = json!({"type": "Polygon", "coordinates": [[[x, y], [x + 0.001, y + 0.001], [x + 0.001, y], [x, y + 0.001], [x, y]]]});
    let mut bow_report = with_geometry(bow);
    bow_report["properties"]["category"] = json!("illegal_dumping");
    expect_error(
        &app,
        json_post(bow_report),
        422,
        "invalid_polygon",
        Some("geometry.coordinates"),
    )
    .await;
    let many: Vec<Value> = (0..600).map(|i| json!([x + i as f64 * 1e-6, y])).collect();
    let mut long = with_geometry(json!({"type": "LineString", "coordinates": many}));
    long["properties"]["category"] = json!("pavement");
    expect_error(
        &app,
        json_post(long),
        400,
        "too_many_vertices",
        Some("geometry.coordinates"),
    )
    .await;
    expect_error(
        &app,
        json_post(json!({"type": "FeatureCollection", "features": []})),
        400,
        "invalid_body",
        Some("type"),
    )
    .await;
    expect_error(
        &app,
        json_post(
            json!({"type": "Feature", "properties": {"category": "pothole", "description": "x"}}),
        ),
        400,
        "missing_field",
        Some("geometry"),
    )
    .await;
    let mut bad_email = point_report("pothole", RYNEK.0, RYNEK.1, "x");
    bad_email["properties"]["contact"] = json!({"email": "not an email"});
    expect_error(
        &app,
        json_post(bad_email),
        400,
        "invalid_email",
        Some("properties.contact.email"),
    )
    .await;
    let mut bad_channel = point_report("pothole", RYNEK.0, RYNEK.1, "x");
    bad_channel["properties"]["channel"] = json!("pigeon");
    expect_error(
        &app,
        json_post(bad_channel),
        400,
        "invalid_channel",
        Some("properties.channel"),
    )
    .await;
    expect_error(
        &app,
        app.client.get(app.url("/api/v1/reports/abc")),
        400,
        "invalid_id",
        Some("id"),
    )
    .await;
    expect_error(
        &app,
        app.client.get(app.url("/api/v1/reports/999999")),
        404,
        "not_found",
        None,
    )
    .await;
    expect_error(
        &app,
        app.client.get(app.url("/api/v1/reports?bbox=1,2,3")),
        400,
        "invalid_parameter",
        Some("bbox"),
    )
    .await;
    expect_error(
        &app,
        app.client.get(app.url("/api/v1/reports?limit=0")),
        400,
        "invalid_parameter",
        Some("limit"),
    )
    .await;
    expect_error(
        &app,
        app.client.get(app.url("/api/v1/reports?cursor=garbage")),
        400,
        "invalid_cursor",
        Some("cursor"),
    )
    .await;
    expect_error(
        &app,
        app.client.get(app.url("/api/v1/reports?since=yesterday")),
        400,
        "invalid_parameter",
        Some("since"),
    )
    .await;
    expect_error(
        &app,
        app.client.get(app.url("/api/v1/reports/nearby?lat=50.06")),
        400,
        "missing_parameter",
        Some("lon"),
    )
    .await;
    expect_error(
        &app,
        app.client.get(app.url("/api/v1/nothing-here")),
        404,
        "not_found",
        None,
    )
    .await;
    expect_error(
        &app,
        app.client.get(app.url("/tiles/reports/3/9/1.mvt")),
        400,
        "invalid_tile",
        None,
    )
    .await;
    expect_error(
        &app,
        app.client
            .get(app.url("/tiles/reports/12/1/1.mvt?status=lost")),
        400,
        "unknown_status",
        Some("status"),
    )
    .await;

    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM reports")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0, "nothing half stored");
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM report_events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(events, 0);
}

#[tokio::test]
async fn the_list_filters_and_pages_with_a_cursor() {
    let app = spawn_app().await;
    // 7 potholes spread 100 m apart in the old town, 3 litter reports in Nowa Huta.
    for i in 0..7 {
        let (x, y) = offset(RYNEK.0, RYNEK.1, i as f64 * 100.0 - 300.0, 0.0);
        app.report(&point_report("pothole", x, y, &format!("pothole {i}")))
            .await;
    }
    for i in 0..3 {
        let (x, y) = offset(PLAC_CENTRALNY.0, PLAC_CENTRALNY.1, 0.0, i as f64 * 100.0);
        app.report(&point_report("litter", x, y, &format!("litter {i}")))
            .await;
    }
    let all = app.get_json("/api/v1/reports").await;
    assert_eq!(all["type"], "FeatureCollection");
    assert_eq!(all["features"].as_array().unwrap().len(), 10);
    let potholes = app.get_json("/api/v1/reports?category=pothole").await;
    assert_eq!(potholes["features"].as_array().unwrap().len(), 7);
    let huta = app.get_json("/api/v1/reports?district=18").await;
    assert_eq!(huta["features"].as_array().unwrap().len(), 3);
    let bbox = format!(
        "/api/v1/reports?bbox={},{},{},{}",
        PLAC_CENTRALNY.0 - 0.01,
        PLAC_CENTRALNY.1 - 0.01,
        PLAC_CENTRALNY.0 + 0.01,
        PLAC_CENTRALNY.1 + 0.01
    );
    assert_eq!(
        app.get_json(&bbox).await["features"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        app.get_json("/api/v1/reports?status=resolved").await["features"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        app.get_json("/api/v1/reports?status=open").await["features"]
            .as_array()
            .unwrap()
            .len(),
        10
    );
    assert_eq!(
        app.get_json("/api/v1/reports?unit=MPO").await["features"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        app.get_json("/api/v1/reports?filter=category%3D%27litter%27%20AND%20supporters%3E%3D1")
            .await["features"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        app.get_json("/api/v1/reports?since=2000-01-01&until=2001-01-01")
            .await["features"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    // Pages of 3, newest first, following `next` until it runs out: every report exactly once.
    let mut seen = Vec::new();
    let mut next = Some("/api/v1/reports?limit=3&category=pothole,litter".to_owned());
    let mut pages = 0;
    while let Some(url) = next {
        let page = app.get_json(&url).await;
        for f in page["features"].as_array().unwrap() {
            seen.push(f["properties"]["id"].as_i64().unwrap());
        }
        next = page["next"].as_str().map(str::to_owned);
        if let Some(n) = &next {
            assert!(
                n.contains("category=pothole%2Clitter") || n.contains("category=pothole,litter"),
                "filters carry over: {n}"
            );
        }
        pages += 1;
        assert!(pages < 10);
    }
    assert_eq!(seen.len(), 10);
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first");
}

#[tokio::test]
async fn vocabulary_health_metrics_and_openapi_are_served() {
    let app = spawn_app().await;
    let cats = app.get_json("/api/v1/categories").await;
    let list = cats["categories"].as_array().unwrap();
    assert!(list.len() >= 12);
    let lamp = list
        .iter()
        .find(|c| c["code"] == "street_lighting")
        .unwrap();
    assert_eq!(lamp["name_pl"], "Niedziałająca latarnia");
    assert_eq!(lamp["name_en"], "Street light out");
    assert_eq!(lamp["dedup_radius_m"], 15.0);
    let districts = app.get_json("/api/v1/districts").await;
    assert_eq!(districts["features"].as_array().unwrap().len(), 18);
    assert!(districts["attribution"]
        .as_str()
        .unwrap()
        .contains("OpenStreetMap"));
    assert_eq!(districts["features"][0]["geometry"]["type"], "MultiPolygon");
    assert_eq!(app.get_json("/healthz").await["status"], "ok");
    assert_eq!(app.get_json("/readyz").await["status"], "ready");
    app.report(&point_report("pothole", RYNEK.0, RYNEK.1, "x"))
        .await;
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("zglos_http_requests_total"), "{metrics}");
    assert!(metrics.contains("zglos_reports_indexed"));
    let config = app.get_json("/api/v1/config").await;
    assert_eq!(config["city"]["name"], "Kraków");

    // The OpenAPI document describes every public route.
    let spec = app.get_json("/openapi.json").await;
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/reports",
        "/api/v1/reports/{id}",
        "/api/v1/reports/nearby",
        "/api/v1/reports/{id}/support",
        "/api/v1/reports/{id}/subscribe",
        "/api/v1/categories",
        "/api/v1/statuses",
        "/api/v1/districts",
        "/api/v1/config",
        "/tiles/reports/{z}/{x}/{y}.mvt",
        "/tiles/reports.json",
        "/tiles/districts/{z}/{x}/{y}.mvt",
        "/tiles/districts.json",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(
            spec["paths"].get(path).is_some(),
            "openapi.json lacks {path}"
        );
    }
}

#[tokio::test]
async fn readiness_fails_when_the_database_goes_away() {
    let app = spawn_app().await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    // The database disappears under the running service (connections are cut).
    sqlx::query(&format!("DROP DATABASE {} WITH (FORCE)", app.db.name))
        .execute(
            &mut sqlx::Connection::connect(&admin_url())
                .await
                .map(|c: sqlx::PgConnection| c)
                .unwrap(),
        )
        .await
        .unwrap();
    let r = app.get("/readyz").await;
    assert_eq!(r.status(), 503);
    assert_eq!(
        app.get("/healthz").await.status(),
        200,
        "liveness does not depend on the database"
    );
}

/// An error answer: status, code, message and field.
type Expected<'a> = (u16, &'a str, &'a str, Option<&'a str>);

#[tokio::test]
async fn support_subscribe_and_reopen_bodies_keep_their_field_rules() {
    let app = spawn_app().await;
    let id = app
        .report(&point_report("pothole", RYNEK.0, RYNEK.1, "Hole"))
        .await["properties"]["id"]
        .as_i64()
        .unwrap();
    let at = |action: &str| format!("/api/v1/reports/{id}/{action}");
    let cases: Vec<(String, Value, Expected)> = vec![
        (
            at("support"),
            json!({"email": 5}),
            (400, "invalid_type", "email must be a string", Some("email")),
        ),
        (
            at("support"),
            json!({"email": "nope"}),
            (
                400,
                "invalid_email",
                "\"nope\" is not an email address",
                Some("email"),
            ),
        ),
        (
            at("support"),
            json!({"lang": "de"}),
            (
                400,
                "invalid_lang",
                "lang must be \"pl\", \"en\" or \"uk\"",
                Some("lang"),
            ),
        ),
        (
            at("support"),
            json!({"lang": 1}),
            (
                400,
                "invalid_lang",
                "lang must be \"pl\", \"en\" or \"uk\"",
                Some("lang"),
            ),
        ),
        (
            at("support"),
            json!({"channel": "pigeon"}),
            (
                400,
                "invalid_channel",
                "unknown channel \"pigeon\"",
                Some("channel"),
            ),
        ),
        // The email is checked before the language, the language before the channel.
        (
            at("support"),
            json!({"channel": "pigeon", "lang": "de", "email": 5}),
            (400, "invalid_type", "email must be a string", Some("email")),
        ),
        (
            at("subscribe"),
            json!({}),
            (400, "missing_field", "email is required", Some("email")),
        ),
        (
            at("subscribe"),
            json!({"email": null}),
            (400, "missing_field", "email is required", Some("email")),
        ),
        (
            at("subscribe"),
            json!([1]),
            (400, "missing_field", "email is required", Some("email")),
        ),
        (
            at("subscribe"),
            json!({"email": ["a@b.org"]}),
            (400, "invalid_type", "email must be a string", Some("email")),
        ),
        (
            at("subscribe"),
            json!({"email": "tom@example.org", "lang": "de"}),
            (
                400,
                "invalid_lang",
                "lang must be \"pl\", \"en\" or \"uk\"",
                Some("lang"),
            ),
        ),
        (
            at("reopen"),
            json!({"note": "Still there"}),
            (400, "missing_field", "email is required", Some("email")),
        ),
        (
            at("reopen"),
            json!({"email": "a@b.org"}),
            (
                422,
                "missing_field",
                "say in a note what is still wrong (at most 5000 characters)",
                Some("note"),
            ),
        ),
        (
            at("reopen"),
            json!({"email": "a@b.org", "note": "  "}),
            (
                422,
                "missing_field",
                "say in a note what is still wrong (at most 5000 characters)",
                Some("note"),
            ),
        ),
        (
            at("reopen"),
            json!({"email": "a@b.org", "note": 5}),
            (
                422,
                "missing_field",
                "say in a note what is still wrong (at most 5000 characters)",
                Some("note"),
            ),
        ),
        (
            at("reopen"),
            json!({"email": "a@b.org", "note": "x".repeat(5001)}),
            (
                422,
                "missing_field",
                "say in a note what is still wrong (at most 5000 characters)",
                Some("note"),
            ),
        ),
        // A reopening's language is not used, but it must be a language, checked before the note.
        (
            at("reopen"),
            json!({"email": "a@b.org", "lang": 5}),
            (
                400,
                "invalid_lang",
                "lang must be \"pl\", \"en\" or \"uk\"",
                Some("lang"),
            ),
        ),
        (
            at("reopen"),
            json!({"email": "a@b.org", "note": "x"}),
            (
                403,
                "not_the_reporter",
                "only the reporter or a subscriber of this report can reopen it",
                Some("email"),
            ),
        ),
    ];
    for (path, body, (status, code, message, field)) in &cases {
        let r = app.post_json(path, body).await;
        let got_status = r.status().as_u16();
        let v: Value = r.json().await.unwrap();
        let e = &v["error"];
        assert_eq!(
            (
                got_status,
                e["code"].as_str().unwrap_or(""),
                e["message"].as_str().unwrap_or(""),
                e["field"].as_str()
            ),
            (*status, *code, *message, *field),
            "POST {path} {body}"
        );
    }
    let raw = |path: String, body: &'static str| {
        app.client
            .post(app.url(&path))
            .header("content-type", "application/json")
            .body(body)
    };
    // "Me too" needs no body; a channel that is not a string is left at web.
    for body in [
        "",
        "null",
        "{\"channel\": 5}",
        "{\"email\": \" tom@example.org \", \"lang\": \"en\", \"channel\": \"mobile\"}",
    ] {
        let r = raw(at("support"), body).send().await.unwrap();
        assert_eq!(r.status(), 200, "support {body:?}");
    }
    let r = raw(at("subscribe"), "").send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "empty_body"
    );
    let r = raw(at("subscribe"), "{\"email\": ").send().await.unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "invalid_json"
    );
    let r = raw("/api/v1/reports/abc/subscribe".into(), "{")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "invalid_id"
    );
    let r = raw(at("subscribe"), "{\"email\": \"tom@example.org\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}
