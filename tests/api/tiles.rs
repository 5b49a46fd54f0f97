//! Vector tiles through HTTP: content, freshness, clustering, filters, districts and TileJSON.
use crate::common::*;
use serde_json::Value;
use zglos_tiles::decode::Layer;

fn layer<'a>(layers: &'a [Layer], name: &str) -> Option<&'a Layer> {
    layers.iter().find(|l| l.name == name)
}

#[tokio::test]
async fn a_new_report_shows_up_in_the_next_tile_request() {
    let app = spawn_app().await;
    let (z, x, y) = tile_of(16, RYNEK.0, RYNEK.1);
    let path = format!("/tiles/reports/{z}/{x}/{y}.mvt");
    let before = app.tile(&path).await;
    assert!(layer(&before, "reports").is_none());
    let created = app
        .report(&point_report("pothole", RYNEK.0, RYNEK.1, "Hole"))
        .await;
    let id = created["properties"]["id"].as_u64().unwrap();
    let after = app.tile(&path).await;
    let reports = layer(&after, "reports").expect("reports layer");
    assert_eq!(reports.version, 2);
    assert_eq!(reports.extent, 4096);
    let f = reports
        .features
        .iter()
        .find(|f| f.id == Some(id))
        .expect("the new report");
    assert_eq!(f.properties["category"].as_str(), Some("pothole"));
    assert_eq!(f.properties["status"].as_str(), Some("new"));
    assert_eq!(f.properties["supporters"].as_u64(), Some(1));
    assert_eq!(f.properties["id"].as_u64(), Some(id));
    for key in f.properties.keys() {
        assert!(
            !key.contains("contact") && !key.contains("email"),
            "tiles carry public fields only"
        );
    }
    // Served gzipped to clients that ask for it, as MVT.
    let r = app
        .client
        .get(app.url(&path))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["content-type"],
        "application/vnd.mapbox-vector-tile"
    );
    assert_eq!(r.headers()["content-encoding"], "gzip");
    // Status filters: closed reports are hidden by default, shown with status=all.
    sqlx::query("UPDATE reports SET status = 'resolved' WHERE id = $1")
        .bind(id as i64)
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("SELECT pg_notify('zglos_reports', 'pothole')")
        .execute(&app.pool)
        .await
        .unwrap();
    let mut hidden = false;
    for _ in 0..150 {
        if layer(&app.tile(&path).await, "reports").is_none() {
            hidden = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(hidden, "a resolved report leaves the default (open) tiles");
    let all = app.tile(&format!("{path}?status=all")).await;
    assert_eq!(
        layer(&all, "reports").unwrap().features[0].properties["status"].as_str(),
        Some("resolved")
    );
    assert!(layer(
        &app.tile(&format!("{path}?status=all&category=litter"))
            .await,
        "reports"
    )
    .is_none());
}

#[tokio::test]
async fn low_zoom_tiles_cluster_and_the_counts_add_up() {
    let app = spawn_app().await;
    // 60 reports in a 300 m × 300 m block (bulk-inserted as a city import would) plus 1 far away.
    sqlx::query(
        "INSERT INTO reports (category, status, description, geom, anchor, district_id, unit_code)
         SELECT 'litter', 'new', 'bin ' || i, p, p, 1, 'MPO'
         FROM generate_series(0, 59) AS i,
              LATERAL (SELECT ST_SetSRID(ST_MakePoint(19.935 + (i % 10) * 0.0004, 50.060 + (i / 10) * 0.0004), 4326) AS p) AS pt",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query("SELECT pg_notify('zglos_reports', 'litter')")
        .execute(&app.pool)
        .await
        .unwrap();
    app.report(&point_report(
        "pothole",
        PLAC_CENTRALNY.0,
        PLAC_CENTRALNY.1,
        "Far away",
    ))
    .await;
    let (z, x, y) = tile_of(9, 19.937, 50.061);
    let mut total = 0;
    for _ in 0..150 {
        let layers = app.tile(&format!("/tiles/reports/{z}/{x}/{y}.mvt")).await;
        let clusters = layer(&layers, "clusters")
            .map(|l| l.features.clone())
            .unwrap_or_default();
        let singles = layer(&layers, "reports")
            .map(|l| l.features.len())
            .unwrap_or(0);
        total = clusters
            .iter()
            .map(|f| f.properties["count"].as_u64().unwrap())
            .sum::<u64>()
            + singles as u64;
        if total == 61 {
            assert!(!clusters.is_empty(), "z9 is clustered");
            assert!(
                clusters.len() + singles < 61,
                "clusters reduce the feature count"
            );
            assert!(clusters.iter().all(
                |c| c.properties.contains_key("category") && c.properties.contains_key("color")
            ));
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(total, 61, "every report is counted once at z9");
    // At z16 the same reports are single features again.
    let (z, x, y) = tile_of(16, 19.9368, 50.0610);
    let layers = app.tile(&format!("/tiles/reports/{z}/{x}/{y}.mvt")).await;
    assert!(layer(&layers, "clusters").is_none());
    assert!(!layer(&layers, "reports").unwrap().features.is_empty());
}

#[tokio::test]
async fn district_tiles_and_tilejson() {
    let app = spawn_app().await;
    let (z, x, y) = tile_of(11, RYNEK.0, RYNEK.1);
    let layers = app.tile(&format!("/tiles/districts/{z}/{x}/{y}.mvt")).await;
    let districts = layer(&layers, "districts").unwrap();
    assert!(districts
        .features
        .iter()
        .any(|f| f.properties["name"].as_str() == Some("Stare Miasto")));
    assert!(districts.features.iter().all(|f| f.geom_type == 3));
    for f in &districts.features {
        for ring in &f.parts {
            assert!(
                ring.iter()
                    .all(|&(px, py)| (-64..=4160).contains(&px) && (-64..=4160).contains(&py)),
                "clipped to the buffer"
            );
        }
    }
    let tj: Value = app.get_json("/tiles/reports.json").await;
    assert_eq!(tj["tilejson"], "3.0.0");
    let url = tj["tiles"][0].as_str().unwrap();
    assert!(url.ends_with("/tiles/reports/{z}/{x}/{y}.mvt"), "{url}");
    let layers: Vec<&str> = tj["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(layers, vec!["reports", "clusters"]);
    assert!(tj["attribution"]
        .as_str()
        .unwrap()
        .contains("OpenStreetMap"));
    let bounds = tj["bounds"].as_array().unwrap();
    assert!((bounds[0].as_f64().unwrap() - 19.792).abs() < 0.01);
    let filtered: Value = app.get_json("/tiles/reports.json?status=all").await;
    assert!(filtered["tiles"][0]
        .as_str()
        .unwrap()
        .ends_with(".mvt?status=all"));
    assert_eq!(
        app.get_json("/tiles/districts.json").await["vector_layers"][0]["id"],
        "districts"
    );
}
