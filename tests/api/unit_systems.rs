//! Units that work in their own systems push status back with an API key of the role
//! `unit_system`, scoped to one unit: their unit's reports only, no session, no CSRF token.
use crate::common::*;
use serde_json::{json, Value};

async fn post_with_key(app: &TestApp, key: &str, path: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_units_system_changes_the_status_of_its_units_reports_and_of_no_others() {
    let app = spawn_app().await;
    let key = zglos::auth::add_api_key(&app.pool, "ZDMK ERP", "unit_system", Some("ZDMK"))
        .await
        .unwrap();
    let lamp =
        crate::staff::report_with_contact(&app, "street_lighting", RYNEK, "anna@example.org", "uk")
            .await;
    let litter = app
        .report(&point_report(
            "litter",
            RYNEK.0 + 0.004,
            RYNEK.1,
            "Kosz pełny",
        ))
        .await;
    assert_ne!(litter["properties"]["unit"]["code"], "ZDMK");

    let r = post_with_key(
        &app,
        &key,
        &format!("/api/v1/staff/reports/{lamp}/status"),
        &json!({"status": "in_progress", "public_note": "Ekipa w drodze.", "internal_note": "WO-4411"}),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let public = app.get_json(&format!("/api/v1/reports/{lamp}")).await;
    assert_eq!(public["properties"]["status"], "in_progress");
    let timeline = public["properties"]["timeline"].to_string();
    assert!(
        timeline.contains("Ekipa w drodze.") && !timeline.contains("WO-4411"),
        "{timeline}"
    );
    // The reporter is told, in her language, as for any status change.
    let queued: Vec<String> = sqlx::query_scalar("SELECT body FROM outbox WHERE report_id = $1")
        .bind(lamp)
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert!(
        queued
            .iter()
            .any(|b| b.contains("Ekipa w drodze.") && b.contains("Виконується")),
        "{queued:?}"
    );
    // The audit log names the system.
    let actor: String = sqlx::query_scalar(
        "SELECT actor FROM audit_log WHERE report_id = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(lamp)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(actor, "system:ZDMK ERP");

    // Another unit's report: 403, and nothing changes.
    let other = litter["id"].as_i64().unwrap();
    let r = post_with_key(
        &app,
        &key,
        &format!("/api/v1/staff/reports/{other}/status"),
        &json!({"status": "resolved", "public_note": "x"}),
    )
    .await;
    assert_eq!(r.status(), 403);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "forbidden");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("another unit"),
        "{e}"
    );
    assert_eq!(
        app.get_json(&format!("/api/v1/reports/{other}")).await["properties"]["status"],
        "new"
    );
    // The key does nothing else a clerk does: no inbox, no merging.
    let r = app
        .client
        .get(app.url("/api/v1/staff/inbox"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = post_with_key(
        &app,
        &key,
        &format!("/api/v1/staff/reports/{lamp}/merge"),
        &json!({"into": other}),
    )
    .await;
    assert_eq!(r.status(), 403);
    // A wrong key is nobody.
    let r = post_with_key(
        &app,
        "not-a-key",
        &format!("/api/v1/staff/reports/{lamp}/status"),
        &json!({"status": "resolved", "public_note": "x"}),
    )
    .await;
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn a_unit_system_key_is_issued_for_one_existing_unit() {
    let app = spawn_app().await;
    let e = zglos::auth::add_api_key(&app.pool, "x", "unit_system", None)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("--unit"), "{e}");
    let e = zglos::auth::add_api_key(&app.pool, "x", "unit_system", Some("NOPE"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("NOPE"), "{e}");
    let e = zglos::auth::add_api_key(&app.pool, "x", "open311", Some("ZDMK"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("unit_system"), "{e}");
}

#[tokio::test]
async fn a_units_system_sets_status_through_the_open311_extension() {
    let app = spawn_app().await;
    let key = zglos::auth::add_api_key(&app.pool, "ZDMK ERP", "unit_system", Some("ZDMK"))
        .await
        .unwrap();
    let app_key = zglos::auth::add_api_key(&app.pool, "An app", "open311", None)
        .await
        .unwrap();
    let pothole = app
        .report(&point_report("pothole", RYNEK.0, RYNEK.1, "Dziura"))
        .await["id"]
        .as_i64()
        .unwrap();
    let litter = app
        .report(&point_report("litter", RYNEK.0 + 0.004, RYNEK.1, "Kosz"))
        .await["id"]
        .as_i64()
        .unwrap();
    let post = |id: i64, fmt: &'static str, form: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let r = app
                .client
                .post(app.url(&format!("/open311/v2/requests/{id}/status.{fmt}")))
                .form(&form)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, body) = post(
        pothole,
        "json",
        vec![
            ("api_key", key.clone()),
            ("status", "planned".into()),
            ("status_notes", "Naprawa w przyszłym tygodniu.".into()),
            ("expected_datetime", "2030-01-20".into()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v[0]["service_request_id"], pothole.to_string());
    assert_eq!(v[0]["status"], "open");
    assert!(
        v[0]["status_notes"]
            .as_str()
            .unwrap()
            .contains("Naprawa w przyszłym tygodniu."),
        "{v}"
    );
    let public = app.get_json(&format!("/api/v1/reports/{pothole}")).await;
    assert_eq!(public["properties"]["status"], "planned");
    assert_eq!(public["properties"]["expected_at"], "2030-01-20");
    // XML works the same; resolving closes the request.
    let (status, body) = post(
        pothole,
        "xml",
        vec![
            ("api_key", key.clone()),
            ("status", "resolved".into()),
            ("status_notes", "Załatane.".into()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<status>closed</status>"), "{body}");

    // Refused: another unit's request, an app's key, no key, a missing note, an unknown request.
    for (id, form, want) in [
        (
            litter,
            vec![
                ("api_key", key.clone()),
                ("status", "resolved".into()),
                ("status_notes", "x".into()),
            ],
            403,
        ),
        (
            litter,
            vec![
                ("api_key", app_key.clone()),
                ("status", "resolved".into()),
                ("status_notes", "x".into()),
            ],
            403,
        ),
        (
            litter,
            vec![("status", "resolved".into()), ("status_notes", "x".into())],
            403,
        ),
        (
            pothole,
            vec![("api_key", key.clone()), ("status", "acknowledged".into())],
            400,
        ),
        (
            999_999,
            vec![
                ("api_key", key.clone()),
                ("status", "resolved".into()),
                ("status_notes", "x".into()),
            ],
            404,
        ),
    ] {
        let (status, body) = post(id, "json", form).await;
        assert_eq!(status, want, "{body}");
        let e: Value = serde_json::from_str(&body).unwrap();
        assert!(
            e[0]["description"].as_str().is_some_and(|d| !d.is_empty()),
            "{body}"
        );
    }
    assert_eq!(
        app.get_json(&format!("/api/v1/reports/{litter}")).await["properties"]["status"],
        "new"
    );
}
