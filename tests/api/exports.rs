//! Exports end to end: every format opened with GDAL, counts and attributes checked against the
//! database; filters; the analysts' fields; no contact data anywhere; the `zglos export` CLI.
use std::collections::BTreeMap;

use crate::common::{offset, point_report, spawn_app, TestApp, PLAC_CENTRALNY, RYNEK};
use serde_json::{json, Value};

const FORMATS: [&str; 4] = ["geojson", "csv", "fgb", "gpkg"];

async fn seed(app: &TestApp) -> Vec<i64> {
    let mut ids = Vec::new();
    for (i, (cat, (lon, lat), east)) in [
        ("pothole", RYNEK, 0.0),
        ("pothole", RYNEK, 300.0),
        ("litter", RYNEK, 600.0),
        ("pothole", PLAC_CENTRALNY, 0.0),
    ]
    .iter()
    .enumerate()
    {
        let (lon, lat) = offset(*lon, *lat, *east, 0.0);
        let mut body = point_report(
            cat,
            lon,
            lat,
            &format!("Zgłoszenie \"{i}\", z przecinkiem; i nową\nlinią"),
        );
        body["properties"]["contact"] = json!({"name": "Anna Secret", "email": "anna.secret@example.org", "phone": "+48 600 111 222"});
        ids.push(app.report(&body).await["id"].as_i64().unwrap());
    }
    // A line and an area.
    let (a, b) = (
        offset(RYNEK.0, RYNEK.1, 0.0, 400.0),
        offset(RYNEK.0, RYNEK.1, 150.0, 450.0),
    );
    let line = json!({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[a.0, a.1], [b.0, b.1]]},
                      "properties": {"category": "pavement", "description": "Broken pavement along the street"}});
    ids.push(app.report(&line).await["id"].as_i64().unwrap());
    let c = [
        offset(PLAC_CENTRALNY.0, PLAC_CENTRALNY.1, 500.0, 0.0),
        offset(PLAC_CENTRALNY.0, PLAC_CENTRALNY.1, 560.0, 0.0),
        offset(PLAC_CENTRALNY.0, PLAC_CENTRALNY.1, 560.0, 60.0),
    ];
    let ring = json!([
        [c[0].0, c[0].1],
        [c[1].0, c[1].1],
        [c[2].0, c[2].1],
        [c[0].0, c[0].1]
    ]);
    let area = json!({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                      "properties": {"category": "illegal_dumping", "description": "Rubble dumped on the lawn"}});
    ids.push(app.report(&area).await["id"].as_i64().unwrap());
    ids
}

fn have_gdal() -> bool {
    let ok = std::process::Command::new("ogr2ogr")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        assert!(
            std::env::var_os("ZGLOS_REQUIRE_GIS_CLIENTS").is_none(),
            "ogr2ogr is required (scripts/test.sh installs gdal-bin)"
        );
        eprintln!("SKIPPED: GDAL is not installed (scripts/test.sh installs gdal-bin)");
    }
    ok
}

/// Downloads an export to a file; returns the path and the response headers.
async fn download(
    app: &TestApp,
    path: &str,
    key: Option<&str>,
    dir: &std::path::Path,
    name: &str,
) -> (std::path::PathBuf, reqwest::header::HeaderMap) {
    let mut req = app.client.get(app.url(path));
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    let r = req.send().await.unwrap();
    assert_eq!(r.status(), 200, "{path}");
    let headers = r.headers().clone();
    let bytes = r.bytes().await.unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        !text.contains("anna.secret") && !text.contains("Anna Secret") && !text.contains("600 111"),
        "contact data in {path}"
    );
    let file = dir.join(name);
    std::fs::write(&file, &bytes).unwrap();
    (file, headers)
}

/// Reads any vector file with GDAL and returns its features as GeoJSON.
async fn read_with_gdal(file: &std::path::Path) -> Value {
    let mut args = vec![
        "-preserve_fid",
        "-f",
        "GeoJSON",
        "/vsistdout/",
        file.to_str().unwrap(),
    ];
    let csv_opts = [
        "-oo",
        "GEOM_POSSIBLE_NAMES=wkt",
        "-oo",
        "KEEP_GEOM_COLUMNS=NO",
    ];
    if file.extension().is_some_and(|e| e == "csv") {
        args.extend(csv_opts);
    }
    let out = tokio::process::Command::new("ogr2ogr")
        .args(&args)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "ogr2ogr {file:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn ogrinfo(file: &std::path::Path) -> String {
    let out = tokio::process::Command::new("ogrinfo")
        .args(["-ro", "-so", "-al", file.to_str().unwrap()])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "ogrinfo {file:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs GDAL's GeoPackage validator (`validate_gpkg.py` of python3-gdal) on `file` and fails on
/// any error it reports. Without the validator the check is skipped, unless the GIS clients are
/// required (scripts/test.sh).
async fn validate_gpkg(file: &std::path::Path) {
    // Debian's python3-gdal is for Debian's Python, which need not be the first python3.
    let mut python = None;
    for candidate in ["/usr/bin/python3", "python3"] {
        let ok = tokio::process::Command::new(candidate)
            .args(["-c", "import osgeo_utils.samples.validate_gpkg"])
            .output()
            .await
            .map(|o| o.status.success())
            .unwrap_or(false);
        if ok {
            python = Some(candidate);
            break;
        }
    }
    let Some(python) = python else {
        assert!(
            std::env::var_os("ZGLOS_REQUIRE_GIS_CLIENTS").is_none(),
            "GDAL's validate_gpkg.py is required (scripts/test.sh installs python3-gdal)"
        );
        eprintln!("SKIPPED: GDAL's validate_gpkg.py is not installed (python3-gdal)");
        return;
    };
    let out = tokio::process::Command::new(python)
        .args(["-m", "osgeo_utils.samples.validate_gpkg", "-k"])
        .arg(file)
        .output()
        .await
        .unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let said = if report.trim().is_empty() {
        "no errors"
    } else {
        report.trim()
    };
    eprintln!("validate_gpkg {}: {said}", file.display());
    assert!(
        out.status.success() && !report.contains("Req "),
        "validate_gpkg {file:?} reports errors:\n{report}"
    );
}

/// id → (category, status, district_id, description, geometry type) from the database.
async fn truth(app: &TestApp) -> BTreeMap<i64, (String, String, Option<i32>, String, String)> {
    let rows: Vec<(i64, String, String, Option<i32>, String, String)> =
        sqlx::query_as("SELECT id, category, status, district_id, description, ST_GeometryType(geom) FROM reports ORDER BY id").fetch_all(&app.pool).await.unwrap();
    rows.into_iter()
        .map(|(id, c, s, d, desc, g)| (id, (c, s, d, desc, g.trim_start_matches("ST_").to_owned())))
        .collect()
}

fn feature_id(f: &Value) -> i64 {
    f["properties"]["id"]
        .as_i64()
        .or_else(|| f["properties"]["id"].as_str().and_then(|s| s.parse().ok()))
        .or_else(|| f["id"].as_i64())
        .expect("an id")
}

#[tokio::test]
async fn every_format_opens_in_gdal_with_the_database_counts_and_attributes() {
    if !have_gdal() {
        return;
    }
    let app = spawn_app().await;
    seed(&app).await;
    let db = truth(&app).await;
    let dir = tempfile::tempdir().unwrap();
    for ext in FORMATS {
        let (file, headers) = download(
            &app,
            &format!("/api/v1/exports/reports.{ext}"),
            None,
            dir.path(),
            &format!("all.{ext}"),
        )
        .await;
        assert!(
            headers["x-data-attribution"].to_str().is_err()
                || !headers["x-data-attribution"].is_empty()
        );
        assert!(
            String::from_utf8_lossy(headers["x-data-attribution"].as_bytes()).contains("ODbL"),
            "{ext}"
        );
        assert!(headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("reports.{ext}")));
        if ext == "gpkg" {
            validate_gpkg(&file).await;
        }
        let info = ogrinfo(&file).await;
        assert!(
            info.contains(&format!("Feature Count: {}", db.len())),
            "{ext}: {info}"
        );
        for field in [
            "category",
            "status",
            "district",
            "unit",
            "supporters",
            "created_at",
        ] {
            assert!(
                info.contains(&format!("{field}: ")),
                "{ext} lacks {field}: {info}"
            );
        }
        assert!(
            !info.contains("routing_rule"),
            "{ext}: internal field in a public export"
        );
        if ext != "csv" {
            assert!(
                info.contains("WGS 84") || info.contains("4326"),
                "{ext}: {info}"
            );
        }
        let fc = read_with_gdal(&file).await;
        let features = fc["features"].as_array().unwrap();
        assert_eq!(features.len(), db.len(), "{ext}");
        for f in features {
            let id = feature_id(f);
            let (cat, status, district, desc, gtype) = &db[&id];
            let p = &f["properties"];
            assert_eq!(p["category"], json!(cat), "{ext} #{id}");
            assert_eq!(p["status"], json!(status), "{ext} #{id}");
            assert_eq!(p["description"], json!(desc), "{ext} #{id}");
            let d = p["district_id"]
                .as_i64()
                .or_else(|| p["district_id"].as_str().and_then(|s| s.parse().ok()));
            assert_eq!(d, district.map(|x| x as i64), "{ext} #{id}");
            assert_eq!(f["geometry"]["type"], json!(gtype), "{ext} #{id}");
        }
    }
}

/// Ids GDAL reads from `file` within a bbox (`-spat`, which FlatGeobuf and GeoPackage answer from
/// their spatial index).
async fn ids_in_bbox(file: &std::path::Path, [w, s, e, n]: [f64; 4]) -> Vec<i64> {
    let spat = [w, s, e, n].map(|v| v.to_string());
    let out = tokio::process::Command::new("ogr2ogr")
        .args([
            "-preserve_fid",
            "-f",
            "GeoJSON",
            "/vsistdout/",
            file.to_str().unwrap(),
            "-spat",
        ])
        .args(&spat)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "ogr2ogr -spat {file:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut ids: Vec<i64> = fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(feature_id)
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn spatial_indexes_answer_bbox_queries_like_the_database() {
    if !have_gdal() {
        return;
    }
    let app = spawn_app().await;
    seed(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let (w, s) = offset(RYNEK.0, RYNEK.1, -100.0, -100.0);
    let (e, n) = offset(RYNEK.0, RYNEK.1, 700.0, 500.0);
    let (w2, s2) = offset(PLAC_CENTRALNY.0, PLAC_CENTRALNY.1, 450.0, -50.0);
    let (e2, n2) = offset(PLAC_CENTRALNY.0, PLAC_CENTRALNY.1, 700.0, 100.0);
    let bboxes = [[w, s, e, n], [w2, s2, e2, n2], [0.0, 0.0, 1.0, 1.0]];
    for ext in ["fgb", "gpkg"] {
        let (file, _) = download(
            &app,
            &format!("/api/v1/exports/reports.{ext}"),
            None,
            dir.path(),
            &format!("spat.{ext}"),
        )
        .await;
        for bbox in bboxes {
            let expected: Vec<i64> =
                sqlx::query_scalar("SELECT id FROM reports WHERE ST_Intersects(geom, ST_MakeEnvelope($1, $2, $3, $4, 4326)) ORDER BY id")
                    .bind(bbox[0])
                    .bind(bbox[1])
                    .bind(bbox[2])
                    .bind(bbox[3])
                    .fetch_all(&app.pool)
                    .await
                    .unwrap();
            assert_eq!(ids_in_bbox(&file, bbox).await, expected, "{ext} {bbox:?}");
        }
        if ext == "gpkg" {
            let conn = rusqlite::Connection::open(&file).unwrap();
            let check: String = conn
                .query_row("SELECT rtreecheck('rtree_reports_geom')", [], |r| r.get(0))
                .unwrap();
            assert_eq!(check, "ok");
            // An analyst adds a feature (as QGIS would, with the GeoPackage SQL functions): the
            // spec's trigger puts it in the R-tree, and GDAL's bbox query finds it there.
            zglos::export::gpkg::register_rtree_functions(&conn).unwrap();
            let (x, y) = offset(PLAC_CENTRALNY.0, PLAC_CENTRALNY.1, -800.0, -800.0);
            let mut blob = b"GP\0\x01".to_vec();
            blob.extend(4326i32.to_le_bytes());
            blob.push(1);
            blob.extend(1u32.to_le_bytes());
            blob.extend(x.to_le_bytes());
            blob.extend(y.to_le_bytes());
            conn.execute(
                "INSERT INTO reports (id, geom, category, status, description) VALUES (9001, ?1, 'pothole', 'new', 'added in QGIS')",
                [blob],
            )
            .unwrap();
            let (minx, maxx, miny, maxy): (f64, f64, f64, f64) = conn
                .query_row(
                    "SELECT minx, maxx, miny, maxy FROM rtree_reports_geom WHERE id = 9001",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .expect("the insert trigger indexed the new feature");
            assert!(minx <= x && x <= maxx && miny <= y && y <= maxy);
            let check: String = conn
                .query_row("SELECT rtreecheck('rtree_reports_geom')", [], |r| r.get(0))
                .unwrap();
            assert_eq!(check, "ok");
            drop(conn);
            let near = [x - 0.0005, y - 0.0005, x + 0.0005, y + 0.0005];
            assert_eq!(ids_in_bbox(&file, near).await, vec![9001]);
        }
    }
}

/// Numbers in a geometry's text (WKT or JSON), in order, and the rest of its tokens.
fn tokens(text: &str) -> (Vec<String>, Vec<f64>) {
    let mut words = Vec::new();
    let mut nums = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_digit() || c == '-' || c == '.' {
            let mut n = String::new();
            while let Some(&d) = chars.peek() {
                if d.is_ascii_digit() || "-+.eE".contains(d) {
                    n.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
            nums.push(n.parse().unwrap_or_else(|_| panic!("a number: {n:?}")));
            words.push("#".into());
        } else if c.is_alphabetic() {
            let mut w = String::new();
            while let Some(&d) = chars.peek() {
                if d.is_alphabetic() {
                    w.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
            words.push(w.to_ascii_uppercase());
        } else {
            if !c.is_whitespace() {
                words.push(c.to_string());
            }
            chars.next();
        }
    }
    (words, nums)
}

/// The largest difference between two GeoJSON coordinate trees, which must have the same shape.
fn coords_diff(a: &Value, b: &Value, what: &str) -> f64 {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{what}: {a} vs {b}");
            x.iter()
                .zip(y)
                .map(|(p, q)| coords_diff(p, q, what))
                .fold(0.0, f64::max)
        }
        (Value::Number(p), Value::Number(q)) => (p.as_f64().unwrap() - q.as_f64().unwrap()).abs(),
        _ => panic!("{what}: {a} vs {b}"),
    }
}

/// The geometry of an exported feature against PostGIS's GeoJSON of the same row.
fn assert_same_geometry(got: &Value, postgis: &Value, tolerance: f64, what: &str) {
    assert_eq!(got["type"], postgis["type"], "{what}");
    let d = coords_diff(&got["coordinates"], &postgis["coordinates"], what);
    assert!(d <= tolerance, "{what}: off by {d:e}: {got} vs {postgis}");
}

#[tokio::test]
async fn exported_coordinates_are_the_ones_postgis_stores_multi_geometries_included() {
    if !have_gdal() {
        return;
    }
    let app = spawn_app().await;
    let ids = seed(&app).await;
    // The API takes points, lines and areas; the column also holds Multi* shapes (imports, merges
    // by staff), which are set here directly, as other tests set up state.
    let at = |east: f64, north: f64| offset(RYNEK.0, RYNEK.1, east, north);
    let pos = |(x, y): (f64, f64)| format!("{x} {y}");
    let ring = |pts: &[(f64, f64)]| {
        let mut v: Vec<String> = pts.iter().map(|p| pos(*p)).collect();
        v.push(pos(pts[0]));
        format!("({})", v.join(","))
    };
    let multi_point = format!(
        "MULTIPOINT(({}),({}))",
        pos(at(600.0, 0.0)),
        pos(at(610.3, 7.7))
    );
    let multi_line = format!(
        "MULTILINESTRING(({},{},{}),({},{}))",
        pos(at(300.0, 0.0)),
        pos(at(333.3, 10.1)),
        pos(at(370.7, -5.9)),
        pos(at(300.0, 40.0)),
        pos(at(351.1, 44.4))
    );
    let square = [
        at(0.0, 200.0),
        at(100.0, 200.0),
        at(100.0, 300.0),
        at(0.0, 300.0),
    ];
    let hole = [
        at(40.0, 240.0),
        at(40.0, 260.0),
        at(60.0, 260.0),
        at(60.0, 240.0),
    ];
    let triangle = [at(150.0, 200.0), at(190.9, 210.1), at(160.6, 250.5)];
    let multi_polygon = format!(
        "MULTIPOLYGON(({},{}),({}))",
        ring(&square),
        ring(&hole),
        ring(&triangle)
    );
    for (id, wkt) in [
        (ids[2], &multi_point),
        (ids[1], &multi_line),
        (ids[0], &multi_polygon),
    ] {
        sqlx::query("UPDATE reports SET geom = ST_GeomFromText($1, 4326) WHERE id = $2")
            .bind(wkt)
            .bind(id)
            .execute(&app.pool)
            .await
            .unwrap();
    }
    // PostGIS's own text of every row (15 decimals: every double of a coordinate in degrees).
    let rows: Vec<(i64, String, String, f64, f64)> = sqlx::query_as(
        "SELECT id, ST_AsGeoJSON(geom, 15), ST_AsText(geom, 15), ST_X(anchor), ST_Y(anchor) FROM reports ORDER BY id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let types: Vec<String> = rows
        .iter()
        .map(|r| {
            serde_json::from_str::<Value>(&r.1).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    for t in [
        "Point",
        "LineString",
        "Polygon",
        "MultiPoint",
        "MultiLineString",
        "MultiPolygon",
    ] {
        assert!(types.iter().any(|x| x == t), "no {t} among {types:?}");
    }
    let postgis: BTreeMap<i64, (Value, String, f64, f64)> = rows
        .into_iter()
        .map(|(id, json, wkt, x, y)| (id, (serde_json::from_str(&json).unwrap(), wkt, x, y)))
        .collect();
    let dir = tempfile::tempdir().unwrap();

    // GeoJSON as sent: the same doubles. FlatGeobuf and GeoPackage store f64 and are read back
    // through GDAL's text, hence the (tight) tolerance.
    let fc: Value = app.get_json("/api/v1/exports/reports.geojson").await;
    let features = fc["features"].as_array().unwrap();
    assert_eq!(features.len(), postgis.len());
    for f in features {
        let id = feature_id(f);
        assert_same_geometry(
            &f["geometry"],
            &postgis[&id].0,
            0.0,
            &format!("geojson #{id}"),
        );
    }
    for ext in ["fgb", "gpkg"] {
        let (file, _) = download(
            &app,
            &format!("/api/v1/exports/reports.{ext}"),
            None,
            dir.path(),
            &format!("coords.{ext}"),
        )
        .await;
        let fc = read_with_gdal(&file).await;
        let features = fc["features"].as_array().unwrap();
        assert_eq!(features.len(), postgis.len(), "{ext}");
        for f in features {
            let id = feature_id(f);
            assert_same_geometry(
                &f["geometry"],
                &postgis[&id].0,
                1e-9,
                &format!("{ext} #{id}"),
            );
        }
    }

    // CSV: the WKT has PostGIS's structure and the very same doubles; lon/lat are the anchor's.
    let csv = app
        .get("/api/v1/exports/reports.csv")
        .await
        .text()
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (id_col, wkt_col, lon_col, lat_col) = (col("id"), col("wkt"), col("lon"), col("lat"));
    let mut seen = 0;
    for rec in reader.records() {
        let rec = rec.unwrap();
        let id: i64 = rec[id_col].parse().unwrap();
        let (_, wkt, x, y) = &postgis[&id];
        let (got_words, got_nums) = tokens(&rec[wkt_col]);
        let (want_words, want_nums) = tokens(wkt);
        assert_eq!(
            got_words, want_words,
            "csv #{id}: {} vs {wkt}",
            &rec[wkt_col]
        );
        assert_eq!(got_nums, want_nums, "csv #{id}: {} vs {wkt}", &rec[wkt_col]);
        assert_eq!(rec[lon_col].parse::<f64>().unwrap(), *x, "csv #{id} lon");
        assert_eq!(rec[lat_col].parse::<f64>().unwrap(), *y, "csv #{id} lat");
        seen += 1;
    }
    assert_eq!(seen, postgis.len());
}

#[tokio::test]
async fn filters_analyst_fields_and_errors() {
    let app = spawn_app().await;
    let ids = seed(&app).await;
    // Exports come in storage order, which a changed report leaves: compare the ids as sets.
    let geo = |v: &Value| -> Vec<i64> {
        let mut ids: Vec<i64> = v["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_i64().unwrap())
            .collect();
        ids.sort();
        ids
    };

    let fc: Value = app
        .get_json("/api/v1/exports/reports.geojson?category=pothole")
        .await;
    assert_eq!(geo(&fc), vec![ids[0], ids[1], ids[3]]);
    assert!(fc["attribution"].as_str().unwrap().contains("ODbL"));
    let (w, s) = offset(RYNEK.0, RYNEK.1, -100.0, -100.0);
    let (e, n) = offset(RYNEK.0, RYNEK.1, 700.0, 100.0);
    let fc: Value = app
        .get_json(&format!(
            "/api/v1/exports/reports.geojson?bbox={w},{s},{e},{n}&status=new"
        ))
        .await;
    assert_eq!(geo(&fc), ids[..3]);
    let fc: Value = app
        .get_json("/api/v1/exports/reports.geojson?district=18")
        .await;
    assert_eq!(geo(&fc), vec![ids[3], ids[5]]);
    let filter = serde_urlencoded::to_string([(
        "filter",
        "category IN ('pavement','illegal_dumping') OR supporters > 5",
    )])
    .unwrap();
    let fc: Value = app
        .get_json(&format!("/api/v1/exports/reports.geojson?{filter}"))
        .await;
    assert_eq!(geo(&fc), ids[4..]);
    let fc: Value = app
        .get_json("/api/v1/exports/reports.geojson?since=2100-01-01")
        .await;
    assert_eq!(geo(&fc), Vec::<i64>::new());

    // CSV: header, lon/lat and WKT.
    let csv = app
        .get("/api/v1/exports/reports.csv?category=pavement")
        .await
        .text()
        .await
        .unwrap();
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().ends_with(",lon,lat,wkt"));
    assert!(csv.contains("LINESTRING ("), "{csv}");

    // Analysts get the internal fields; contact data never.
    let key = zglos::auth::add_api_key(&app.pool, "analytics", "analyst", None)
        .await
        .unwrap();
    let r = app
        .client
        .get(app.url("/api/v1/exports/reports.geojson"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    let body = r.text().await.unwrap();
    assert!(!body.contains("anna.secret") && !body.contains("Anna Secret"));
    let fc: Value = serde_json::from_str(&body).unwrap();
    assert!(fc["features"][0]["properties"]
        .get("routing_rule")
        .is_some());
    let public: Value = app.get_json("/api/v1/exports/reports.geojson").await;
    assert!(public["features"][0]["properties"]
        .get("routing_rule")
        .is_none());

    // Errors: 404 for an unknown export, 400 for bad or unknown parameters.
    for (path, status, field) in [
        ("/api/v1/exports/reports.shp", 404, None),
        (
            "/api/v1/exports/reports.geojson?bbox=1,2",
            400,
            Some("bbox"),
        ),
        (
            "/api/v1/exports/reports.geojson?color=red",
            400,
            Some("color"),
        ),
        (
            "/api/v1/exports/reports.gpkg?filter=nope%3D1",
            400,
            Some("filter"),
        ),
        ("/api/v1/exports/reports.fgb?since=soon", 400, Some("since")),
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status(), status, "{path}");
        let v: Value = r.json().await.unwrap();
        if let Some(f) = field {
            assert_eq!(v["error"]["field"], f, "{path}");
        }
    }
}

#[tokio::test]
async fn cli_export_writes_the_same_files() {
    if !have_gdal() {
        return;
    }
    let app = spawn_app().await;
    let ids = seed(&app).await;
    let dir = tempfile::tempdir().unwrap();
    for ext in FORMATS {
        let file = dir.path().join(format!("cli.{ext}"));
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_zglos"))
            .args([
                "export",
                "--quiet",
                "--category",
                "pothole",
                "--output",
                file.to_str().unwrap(),
            ])
            .env("DATABASE_URL", &app.db.url)
            .output()
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("3 reports written"));
        if ext == "gpkg" {
            validate_gpkg(&file).await;
        }
        let info = ogrinfo(&file).await;
        assert!(info.contains("Feature Count: 3"), "{ext}: {info}");
    }
    // The GeoPackage is built beside its destination and renamed: no leftovers.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected = FORMATS.map(|ext| format!("cli.{ext}")).to_vec();
    expected.sort();
    assert_eq!(names, expected);
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_zglos"))
        .args([
            "export",
            "--output",
            dir.path().join("x.geojson").to_str().unwrap(),
            "--filter",
            "nope = 1",
        ])
        .env("DATABASE_URL", &app.db.url)
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown property"));
    assert_eq!(ids.len(), 6);
}
