//! Addresses through HTTP: search and reverse lookup over Kraków's gazetteer (built at import
//! from the OpenStreetMap basemap), the address every report stores, and where it shows:
//! the report, the staff view, exports, OGC API (queryable) and Open311 (`address`, and
//! `address_string` without coordinates).
use crate::common::*;
use serde_json::{json, Value};

async fn geocode(app: &TestApp, q: &str) -> Value {
    let r = app
        .get(&format!("/api/v1/geocode?q={}", urlencoding(q)))
        .await;
    assert_eq!(r.status(), 200, "{q}");
    assert_eq!(r.headers()["content-type"], "application/geo+json");
    r.json().await.unwrap()
}

fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn first(v: &Value) -> &Value {
    &v["features"][0]
}

fn coords(f: &Value) -> (f64, f64) {
    let c = &f["geometry"]["coordinates"];
    (c[0].as_f64().unwrap(), c[1].as_f64().unwrap())
}

#[tokio::test]
async fn a_typed_address_is_found_however_it_is_written() {
    let app = spawn_app().await;
    let exact = geocode(&app, "Floriańska 12").await;
    let hit = first(&exact);
    assert_eq!(hit["properties"]["kind"], "address", "{exact}");
    assert_eq!(hit["properties"]["street"], "Floriańska");
    assert_eq!(hit["properties"]["number"], "12");
    assert_eq!(hit["properties"]["label"], "Floriańska 12");
    let (lon, lat) = coords(hit);
    // Floriańska runs from the Rynek to the Floriańska Gate.
    assert!(
        (19.938..19.943).contains(&lon) && (50.062..50.066).contains(&lat),
        "{hit}"
    );

    for typed in [
        "florianska 12",
        "ul. Floriańska 12",
        "12 Floriańska",
        "FLORIANSKA 12",
        "Florjańska 12",
    ] {
        let v = geocode(&app, typed).await;
        let h = first(&v);
        assert_eq!(h["properties"]["label"], "Floriańska 12", "{typed}: {v}");
        assert_eq!(coords(h), (lon, lat), "{typed}");
    }
    // The street alone, a declined form, and a word being typed.
    for typed in ["Floriańska", "ul. Floriańskiej", "Floria"] {
        let v = geocode(&app, typed).await;
        let h = first(&v);
        assert_eq!(h["properties"]["kind"], "street", "{typed}: {v}");
        assert_eq!(h["properties"]["label"], "Floriańska", "{typed}");
        assert!(h["bbox"].is_array(), "a street has its extent");
    }
}

#[tokio::test]
async fn search_refuses_bad_parameters_with_the_field_named() {
    let app = spawn_app().await;
    for (query, field) in [
        ("", "q"),
        ("q=", "q"),
        ("q=a&limit=0", "limit"),
        ("q=a&kind=house", "kind"),
        ("q=a&lon=19.9", "lat"),
        ("q=a&lon=500&lat=50", "lon"),
    ] {
        let r = app.get(&format!("/api/v1/geocode?{query}")).await;
        assert_eq!(r.status(), 400, "{query}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["field"], field, "{query}: {v}");
    }
    let long = "a".repeat(201);
    let r = app.get(&format!("/api/v1/geocode?q={long}")).await;
    assert_eq!(r.status(), 400);
    // Nothing found is an empty list, not an error.
    let v = geocode(&app, "Qwxzyvb Plkmnt").await;
    assert_eq!(v["features"], json!([]));
}

#[tokio::test]
async fn reverse_names_the_address_the_street_or_the_district() {
    let app = spawn_app().await;
    let v = geocode(&app, "Floriańska 12").await;
    let (lon, lat) = coords(first(&v));
    let r = app
        .get_json(&format!("/api/v1/geocode/reverse?lon={lon}&lat={lat}"))
        .await;
    assert_eq!(r["kind"], "address", "{r}");
    assert_eq!(
        r["address"],
        json!({"street": "Floriańska", "number": "12", "label": "Floriańska 12"})
    );
    assert_eq!(r["district"]["name"], "Stare Miasto");

    // Far from any house, in the meadows of the Błonia: a street near, or at least the district.
    let r = app
        .get_json("/api/v1/geocode/reverse?lon=19.9105&lat=50.0595")
        .await;
    assert!(
        ["near_street", "district"].contains(&r["kind"].as_str().unwrap()),
        "{r}"
    );
    assert!(r["address"]["label"].is_string());
    assert!(r["address"]["number"].is_null());

    // Outside the city: nothing, and no error.
    let r = app.get_json("/api/v1/geocode/reverse?lon=0&lat=0").await;
    assert_eq!(r["kind"], "none");

    for (query, field) in [("lat=50", "lon"), ("lon=19.9&lat=x", "lat"), ("", "lon")] {
        let r = app.get(&format!("/api/v1/geocode/reverse?{query}")).await;
        assert_eq!(r.status(), 400, "{query}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["field"], field, "{query}: {v}");
    }
}

#[tokio::test]
async fn every_report_stores_its_address_and_shows_it_everywhere() {
    let app = spawn_app().await;
    let v = geocode(&app, "Floriańska 12").await;
    let (lon, lat) = coords(first(&v));
    let created = app
        .report(&point_report("pothole", lon, lat, "Pothole at the door"))
        .await;
    let id = created["properties"]["id"].as_i64().unwrap();
    let want = json!({"street": "Floriańska", "number": "12", "label": "Floriańska 12"});
    assert_eq!(created["properties"]["address"], want);
    let read = app.get_json(&format!("/api/v1/reports/{id}")).await;
    assert_eq!(read["properties"]["address"], want);

    // The staff view.
    let admin = app
        .staff("admin@example.org", &[zglos::auth::Role::Admin], &[])
        .await;
    let staff: Value = app
        .staff_get(&admin, &format!("/api/v1/staff/reports/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(staff["properties"]["address"], want);

    // Exports: the flat fields.
    let csv = app
        .get("/api/v1/exports/reports.csv")
        .await
        .text()
        .await
        .unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let row = csv
        .lines()
        .find(|l| l.starts_with(&format!("{id},")))
        .unwrap();
    assert!(header.contains(&"address") && header.contains(&"address_street"));
    assert!(row.contains("Floriańska 12"), "{row}");

    // OGC API: a property, and a queryable.
    let items = app
        .get_json("/ogc/collections/reports/items?filter=address%3D%27Floria%C5%84ska%2012%27")
        .await;
    let ids: Vec<i64> = items["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            f["properties"]["id"]
                .as_i64()
                .unwrap_or_else(|| f["id"].as_i64().unwrap())
        })
        .collect();
    assert_eq!(ids, [id], "{items}");
    assert_eq!(
        items["features"][0]["properties"]["address"],
        "Floriańska 12"
    );
    let q = app.get_json("/ogc/collections/reports/queryables").await;
    assert!(q["properties"]["address"].is_object(), "{q}");

    // Open311.
    let o = app
        .get_json(&format!("/open311/v2/requests/{id}.json"))
        .await;
    assert_eq!(o[0]["address"], "Floriańska 12, Kraków", "{o}");
}

#[tokio::test]
async fn an_open311_request_with_only_an_address_string_is_placed_there() {
    let app = spawn_app().await;
    let key = zglos::auth::add_api_key(&app.pool, "Street app", "open311", None)
        .await
        .unwrap();
    let v = geocode(&app, "Floriańska 12").await;
    let (lon, lat) = coords(first(&v));
    let r = reqwest::Client::new()
        .post(app.url("/open311/v2/requests.json"))
        .form(&[
            ("api_key", key.as_str()),
            ("service_code", "pothole"),
            ("address_string", "florianska 12"),
            ("description", "Pothole"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    let id = body[0]["service_request_id"].as_str().unwrap();
    let report = app.get_json(&format!("/api/v1/reports/{id}")).await;
    assert_eq!(coords(&report), (lon, lat));
    assert_eq!(report["properties"]["address"]["label"], "Floriańska 12");

    let r = reqwest::Client::new()
        .post(app.url("/open311/v2/requests.json"))
        .form(&[
            ("api_key", key.as_str()),
            ("service_code", "pothole"),
            ("address_string", "Qwxzyvb 99999"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert!(
        body[0]["description"]
            .as_str()
            .unwrap()
            .contains("Qwxzyvb 99999"),
        "{body}"
    );
}

#[tokio::test]
async fn a_city_without_a_gazetteer_answers_search_with_a_clear_404_and_reverse_with_its_district()
{
    let db = TestDb::empty().await;
    let pack = repo_root().join("tests/fixtures/twin-city");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_zglos"))
        .args([
            "import-city",
            pack.to_str().unwrap(),
            "--database-url",
            &db.url,
        ])
        .env("RUST_LOG", "warn")
        .status()
        .unwrap();
    assert!(status.success());
    let app = spawn_app_on(db).await;
    let r = app.get("/api/v1/geocode?q=Main%20Street").await;
    assert_eq!(r.status(), 404);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "no_gazetteer");
    // Reports there carry their district's name as the address.
    let r = app.get_json("/api/v1/config").await;
    let [w, s, e, n] = [0, 1, 2, 3].map(|i| r["map"]["bbox"][i].as_f64().unwrap());
    let rev = app
        .get_json(&format!(
            "/api/v1/geocode/reverse?lon={}&lat={}",
            (w + e) / 2.0,
            (s + n) / 2.0
        ))
        .await;
    assert!(
        ["district", "none"].contains(&rev["kind"].as_str().unwrap()),
        "{rev}"
    );
}
