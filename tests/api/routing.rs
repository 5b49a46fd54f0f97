//! Routing by polygon: districts (real Kraków data), near-border triage, unit rules by category and
//! area, and a second city loaded from its own data pack.
use crate::common::*;
use serde_json::Value;

#[tokio::test]
async fn tram_stops_fall_in_the_districts_that_postgis_computes() {
    let app = spawn_app().await;
    let path = shared_data("samples/krakow_tram_stops.csv");
    let mut reader = csv::Reader::from_path(&path).expect("tram stop sample");
    let mut checked = 0;
    // Every 7th stop keeps the test quick while covering all parts of the city.
    for (i, row) in reader.records().enumerate().filter(|(i, _)| i % 7 == 0) {
        let row = row.unwrap();
        let (name, lon, lat, district): (&str, f64, f64, i64) = (
            &row[0],
            row[1].parse().unwrap(),
            row[2].parse().unwrap(),
            row[3].parse().unwrap(),
        );
        let created = app
            .report(&point_report(
                "transit_stop",
                lon,
                lat,
                &format!("Shelter glass broken at {name} ({i})"),
            ))
            .await;
        assert_eq!(created["properties"]["district"]["id"], district, "{name}");
        assert_eq!(created["properties"]["unit"]["code"], "ZTP");
        checked += 1;
    }
    assert!(checked > 40);
    // The database agrees with the R-tree on every stored report.
    let disagreements: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM reports r JOIN districts d ON ST_Contains(d.geom, r.anchor) WHERE d.id <> r.district_id",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(disagreements, 0);
}

#[tokio::test]
async fn reports_near_a_district_border_are_flagged_for_triage() {
    let app = spawn_app().await;
    // A point on the border between two districts, found with PostGIS: the closest point of
    // district I's boundary to district II's interior.
    let (lon, lat): (f64, f64) = sqlx::query_as(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_ClosestPoint(ST_Boundary(a.geom), ST_Centroid(b.geom)) AS p
         FROM districts a, districts b WHERE a.id = 1 AND b.id = 2) q",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let (x, y) = offset(lon, lat, 0.5, 0.5);
    let near = app
        .report(&point_report("graffiti", x, y, "On the border"))
        .await;
    assert_eq!(near["properties"]["near_border"], true, "{near}");
    let inside = app
        .report(&point_report(
            "graffiti",
            RYNEK.0,
            RYNEK.1,
            "Middle of the old town",
        ))
        .await;
    assert_eq!(inside["properties"]["near_border"], false);
}

#[tokio::test]
async fn a_second_city_is_a_data_pack_routed_by_category_area_and_priority() {
    let db = TestDb::empty().await;
    let bin = env!("CARGO_BIN_EXE_zglos");
    let pack = repo_root().join("tests/fixtures/twin-city");
    let status = std::process::Command::new(bin)
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
    // Importing again is harmless.
    let status = std::process::Command::new(bin)
        .args([
            "import-city",
            pack.to_str().unwrap(),
            "--database-url",
            &db.url,
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let app = spawn_app_on(db).await;
    let route = |lon: f64, lat: f64, category: &'static str| {
        let app = &app;
        async move {
            let v: Value = app.report(&point_report(category, lon, lat, "test")).await;
            let p = &v["properties"];
            (
                p["unit"]["code"].as_str().unwrap().to_owned(),
                p["district"]["name"].as_str().unwrap().to_owned(),
            )
        }
    };
    assert_eq!(
        route(10.003, 50.003, "litter").await,
        ("GUARD".into(), "West".into()),
        "area rule beats the category-wide one"
    );
    assert_eq!(
        route(10.007, 50.007, "litter").await,
        ("CLEAN".into(), "West".into())
    );
    assert_eq!(
        route(10.015, 50.005, "litter").await,
        ("CLEAN".into(), "East".into()),
        "higher priority wins over the district rule"
    );
    assert_eq!(
        route(10.015, 50.006, "pothole").await,
        ("EAST".into(), "East".into())
    );
    assert_eq!(
        route(10.005, 50.006, "pothole").await,
        ("DESK".into(), "West".into()),
        "fallback"
    );
    let rule: String =
        sqlx::query_scalar("SELECT routing_rule FROM reports WHERE unit_code = 'GUARD'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(rule, "litter-market");
    let r = app
        .post_json(
            "/api/v1/reports",
            &point_report("litter", 10.03, 50.005, "outside"),
        )
        .await;
    assert_eq!(r.status(), 422);
    let cats = app.get_json("/api/v1/categories").await;
    assert_eq!(cats["categories"].as_array().unwrap().len(), 2);
    // A city without SVG icons: the text symbols only.
    for c in cats["categories"].as_array().unwrap() {
        assert!(c["icon_url"].is_null() && c["icon"].is_string(), "{c}");
    }
}

#[test]
fn a_missing_district_file_says_what_to_pass_instead() {
    let dir = std::env::temp_dir().join(format!("zglos-pack-{}", std::process::id()));
    let src = repo_root().join("tests/fixtures/twin-city");
    std::fs::create_dir_all(&dir).unwrap();
    for f in [
        "city.json",
        "categories.csv",
        "units.csv",
        "routing.csv",
        "market.geojson",
    ] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_zglos"))
        .args([
            "import-city",
            dir.to_str().unwrap(),
            "--database-url",
            "postgres://postgres@127.0.0.1:5432/none",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains("district file"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        line.contains("not found") && line.contains("--districts"),
        "{line}"
    );
    // With --districts it gets past that point (to the database, which does not exist).
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_zglos"))
        .args([
            "import-city",
            dir.to_str().unwrap(),
            "--districts",
            src.join("districts.geojson").to_str().unwrap(),
        ])
        .args([
            "--database-url",
            "postgres://postgres@127.0.0.1:5432/zglos_no_such_db",
        ])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("district file"));
    std::fs::remove_dir_all(&dir).ok();
}
