//! Spatial dedup through HTTP: radius, category, time window, lines, concurrency, two processes.
use crate::common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn a_report_within_the_category_radius_becomes_a_duplicate_of_the_open_original() {
    let app = spawn_app().await;
    let first = app
        .report(&point_report("pothole", RYNEK.0, RYNEK.1, "Deep pothole"))
        .await;
    let id = first["properties"]["id"].as_i64().unwrap();
    // 20 m away: within the pothole radius (25 m).
    let (x, y) = offset(RYNEK.0, RYNEK.1, 20.0, 0.0);
    let second = app
        .report(&point_report("pothole", x, y, "Same pothole"))
        .await;
    assert_eq!(second["properties"]["duplicate_of"], id);
    assert_eq!(second["properties"]["status"], "duplicate");
    // 40 m away: a different pothole.
    let (x, y) = offset(RYNEK.0, RYNEK.1, 40.0, 0.0);
    let third = app
        .report(&point_report("pothole", x, y, "Another pothole"))
        .await;
    assert_eq!(third["properties"]["duplicate_of"], Value::Null);
    // Same place, other category: not a duplicate.
    let lamp = app
        .report(&point_report(
            "street_lighting",
            RYNEK.0,
            RYNEK.1,
            "Lamp out",
        ))
        .await;
    assert_eq!(lamp["properties"]["duplicate_of"], Value::Null);
    // A street lamp's radius is 15 m: 20 m away is another lamp.
    let (x, y) = offset(RYNEK.0, RYNEK.1, 0.0, 20.0);
    let other_lamp = app
        .report(&point_report("street_lighting", x, y, "Next lamp out"))
        .await;
    assert_eq!(other_lamp["properties"]["duplicate_of"], Value::Null);
    // The original counts its supporters; nothing was thrown away.
    let original = app.get_json(&format!("/api/v1/reports/{id}")).await;
    assert_eq!(original["properties"]["supporters"], 2);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM reports")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 5);
}

#[tokio::test]
async fn closed_and_old_reports_are_not_originals() {
    let app = spawn_app().await;
    let first = app
        .report(&point_report("litter", RYNEK.0, RYNEK.1, "Overflowing bin"))
        .await;
    let id = first["properties"]["id"].as_i64().unwrap();
    // Resolved by the city (the staff workflow writes the same way: under the category lock).
    sqlx::query("UPDATE reports SET status = 'resolved' WHERE id = $1")
        .bind(id)
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("SELECT pg_notify('zglos_reports', 'litter')")
        .execute(&app.pool)
        .await
        .unwrap();
    let again = app
        .report(&point_report(
            "litter",
            RYNEK.0,
            RYNEK.1,
            "Overflowing again",
        ))
        .await;
    assert_eq!(
        again["properties"]["duplicate_of"],
        Value::Null,
        "a resolved report is not an original"
    );
    let again_id = again["properties"]["id"].as_i64().unwrap();
    // Older than the category's window (litter: 7 days): a new problem.
    sqlx::query("UPDATE reports SET created_at = now() - interval '8 days' WHERE id = $1")
        .bind(again_id)
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("SELECT pg_notify('zglos_reports', 'litter')")
        .execute(&app.pool)
        .await
        .unwrap();
    let third = app
        .report(&point_report(
            "litter",
            RYNEK.0,
            RYNEK.1,
            "Overflowing once more",
        ))
        .await;
    assert_eq!(third["properties"]["duplicate_of"], Value::Null);
    // Ideas never dedup (radius 0).
    let idea = app
        .report(&point_report(
            "idea",
            PLAC_CENTRALNY.0,
            PLAC_CENTRALNY.1,
            "A bench here",
        ))
        .await;
    let idea2 = app
        .report(&point_report(
            "idea",
            PLAC_CENTRALNY.0,
            PLAC_CENTRALNY.1,
            "Also a bench here",
        ))
        .await;
    assert_eq!(idea["properties"]["duplicate_of"], Value::Null);
    assert_eq!(idea2["properties"]["duplicate_of"], Value::Null);
}

#[tokio::test]
async fn lines_and_areas_dedup_by_distance_between_geometries() {
    let app = spawn_app().await;
    let (a, b) = (
        offset(RYNEK.0, RYNEK.1, 0.0, -600.0),
        offset(RYNEK.0, RYNEK.1, 300.0, -600.0),
    );
    let line = json!({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[a.0, a.1], [b.0, b.1]]},
        "properties": {"category": "pavement", "description": "Broken pavement"}});
    let original = app.report(&line).await["properties"]["id"]
        .as_i64()
        .unwrap();
    // A point 15 m off the middle of the 300 m line: far from its ends, close to the line.
    let (x, y) = offset(RYNEK.0, RYNEK.1, 150.0, -585.0);
    let p = app
        .report(&point_report("pavement", x, y, "Loose slabs"))
        .await;
    assert_eq!(p["properties"]["duplicate_of"], original);
    let (x, y) = offset(RYNEK.0, RYNEK.1, 150.0, -560.0);
    let p = app
        .report(&point_report("pavement", x, y, "Other side of the street"))
        .await;
    assert_eq!(p["properties"]["duplicate_of"], Value::Null);
}

#[tokio::test]
async fn concurrent_submissions_of_one_problem_make_exactly_one_original() {
    let app = spawn_app().await;
    let requests = (0..16).map(|i| {
        let (x, y) = offset(
            PLAC_CENTRALNY.0,
            PLAC_CENTRALNY.1,
            (i % 4) as f64 * 3.0,
            (i / 4) as f64 * 3.0,
        );
        let body = point_report("illegal_dumping", x, y, &format!("Dump, report {i}"));
        let app = &app;
        async move {
            let r = app.post_json("/api/v1/reports", &body).await;
            assert_eq!(r.status(), 201);
            r.json::<Value>().await.unwrap()
        }
    });
    let results = futures::future::join_all(requests).await;
    let originals: Vec<&Value> = results
        .iter()
        .filter(|r| r["properties"]["duplicate_of"].is_null())
        .collect();
    assert_eq!(
        originals.len(),
        1,
        "exactly one original among concurrent submissions"
    );
    let original = originals[0]["properties"]["id"].clone();
    assert!(results
        .iter()
        .filter(|r| !r["properties"]["duplicate_of"].is_null())
        .all(|r| r["properties"]["duplicate_of"] == original));
    let supporters: i32 = sqlx::query_scalar("SELECT supporters FROM reports WHERE id = $1")
        .bind(original.as_i64().unwrap())
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(supporters, 16);
}

#[tokio::test]
async fn me_too_adds_a_supporter_and_nearby_lists_candidates() {
    let app = spawn_app().await;
    let first = app
        .report(&point_report(
            "street_lighting",
            RYNEK.0,
            RYNEK.1,
            "Lamp out",
        ))
        .await;
    let id = first["properties"]["id"].as_i64().unwrap();
    let (x, y) = offset(RYNEK.0, RYNEK.1, 10.0, 0.0);
    let dup = app
        .report(&point_report("street_lighting", x, y, "Dark here"))
        .await;
    let dup_id = dup["properties"]["id"].as_i64().unwrap();
    let (fx, fy) = offset(RYNEK.0, RYNEK.1, 500.0, 0.0);
    app.report(&point_report("street_lighting", fx, fy, "Far lamp"))
        .await;
    app.report(&point_report("pothole", x, y, "Pothole under the lamp"))
        .await;

    let (qx, qy) = offset(RYNEK.0, RYNEK.1, 5.0, 5.0);
    let near = app
        .get_json(&format!(
            "/api/v1/reports/nearby?lon={qx}&lat={qy}&category=street_lighting"
        ))
        .await;
    let feats = near["features"].as_array().unwrap();
    assert_eq!(
        feats.len(),
        1,
        "open originals of the category only: {near}"
    );
    assert_eq!(feats[0]["properties"]["id"], id);
    assert!(feats[0]["properties"]["distance_m"].as_f64().unwrap() < 10.0);
    let any = app
        .get_json(&format!("/api/v1/reports/nearby?lon={qx}&lat={qy}"))
        .await;
    assert_eq!(
        any["features"].as_array().unwrap().len(),
        2,
        "lamp and pothole, not the far lamp nor the duplicate"
    );

    // Me too on the original, and on the duplicate (which supports its original).
    let r = app
        .client
        .post(app.url(&format!("/api/v1/reports/{id}/support")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["properties"]["supporters"],
        3
    );
    let r = app
        .post_json(
            &format!("/api/v1/reports/{dup_id}/support"),
            &json!({"email": "jan@example.org", "lang": "en"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["properties"]["id"], id);
    assert_eq!(v["properties"]["supporters"], 4);
    let subs: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM subscriptions WHERE report_id = $1 AND email = 'jan@example.org'",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(subs, 1, "a me-too with an email subscribes to updates");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM reports")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 4, "me too creates no report");

    let r = app
        .post_json(
            &format!("/api/v1/reports/{id}/subscribe"),
            &json!({"email": "ola@example.org"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = app
        .post_json(
            &format!("/api/v1/reports/{id}/subscribe"),
            &json!({"email": "nope"}),
        )
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        app.client
            .post(app.url("/api/v1/reports/999999/support"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    sqlx::query("UPDATE reports SET status = 'closed' WHERE id = $1")
        .bind(id)
        .execute(&app.pool)
        .await
        .unwrap();
    let r = app
        .client
        .post(app.url(&format!("/api/v1/reports/{id}/support")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
}

/// Two service processes on one database: concurrent submissions spread over both still make one
/// original, and each process shows the other's reports in its tiles.
#[tokio::test]
async fn two_processes_on_one_database_agree() {
    let db = TestDb::new().await;
    let bin = env!("CARGO_BIN_EXE_zglos");
    let mut children = Vec::new();
    let mut bases = Vec::new();
    for _ in 0..2 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new(bin)
            .args([
                "serve",
                "--database-url",
                &db.url,
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--sync-seconds",
                "1",
            ])
            .env("RUST_LOG", "warn")
            .spawn()
            .expect("start zglos");
        children.push(child);
        bases.push(format!("http://127.0.0.1:{port}"));
    }
    let client = reqwest::Client::new();
    for base in &bases {
        let mut ready = false;
        for _ in 0..900 {
            if client
                .get(format!("{base}/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                ready = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(ready, "{base} did not become ready");
    }
    let requests = (0..12).map(|i| {
        let base = bases[i % 2].clone();
        let client = client.clone();
        let (x, y) = offset(RYNEK.0, RYNEK.1, (i % 3) as f64 * 4.0, 0.0);
        let body = point_report("snow_ice", x, y, &format!("Ice, report {i}"));
        async move {
            let r = client
                .post(format!("{base}/api/v1/reports"))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            r.json::<Value>().await.unwrap()
        }
    });
    let results = futures::future::join_all(requests).await;
    let originals = results
        .iter()
        .filter(|r| r["properties"]["duplicate_of"].is_null())
        .count();
    for mut c in std::mem::take(&mut children) {
        if originals != 1 {
            let _ = c.kill();
        }
        children.push(c);
    }
    assert_eq!(
        originals, 1,
        "two processes must agree on a single original"
    );

    // A report made through process A shows in process B's tiles (notification or sweep).
    let (x, y) = PLAC_CENTRALNY;
    let created: Value = client
        .post(format!("{}/api/v1/reports", bases[0]))
        .json(&point_report("graffiti", x, y, "Tags"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["properties"]["id"].as_u64().unwrap();
    let (z, tx, ty) = tile_of(16, x, y);
    let mut seen = false;
    for _ in 0..150 {
        let bytes = client
            .get(format!("{}/tiles/reports/{z}/{tx}/{ty}.mvt", bases[1]))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let layers = zglos_tiles::decode::decode(&bytes).unwrap();
        if layers
            .iter()
            .any(|l| l.name == "reports" && l.features.iter().any(|f| f.id == Some(id)))
        {
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for mut c in children {
        let _ = c.kill();
        let _ = c.wait();
    }
    assert!(seen, "process B never showed process A's report");
}
