//! Retention on a real database: contacts of reports closed longer ago than the city keeps them
//! are erased, old photos' full-size images are dropped (the thumbnail stays), `--dry-run`
//! changes nothing, and what was done is audited and counted in /metrics.
use crate::common::*;
use serde_json::{json, Value};

async fn upload_photo(app: &TestApp) -> String {
    let img = image::RgbImage::from_fn(800, 600, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 40])
    });
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode_image(&img)
        .unwrap();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(jpeg)
            .file_name("p.jpg")
            .mime_str("image/jpeg")
            .unwrap(),
    );
    let r = app
        .client
        .post(app.url("/api/v1/photos"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A report with a contact and a photo, closed (`status`) `months_ago` (None: still open).
async fn report(app: &TestApp, east: f64, status: &str, months_ago: Option<i32>) -> (i64, String) {
    let photo = upload_photo(app).await;
    let at = offset(RYNEK.0, RYNEK.1, east, 0.0);
    let mut body = point_report("pothole", at.0, at.1, "Hole");
    body["properties"]["contact"] =
        json!({"name": "Jan", "email": format!("jan{east}@example.org"), "phone": "600100200"});
    body["properties"]["photos"] = json!([photo]);
    let id = app.report(&body).await["properties"]["id"]
        .as_i64()
        .unwrap();
    if let Some(m) = months_ago {
        sqlx::query("UPDATE reports SET status = $2 WHERE id = $1")
            .bind(id)
            .bind(status)
            .execute(&app.pool)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO report_events (report_id, at, kind, status, actor)
             VALUES ($1, now() - make_interval(months => $2), 'status', $3, 'test')",
        )
        .bind(id)
        .bind(m)
        .bind(status)
        .execute(&app.pool)
        .await
        .unwrap();
    }
    (id, photo)
}

async fn contact_of(app: &TestApp, id: i64) -> Option<String> {
    sqlx::query_scalar("SELECT contact_email FROM reports WHERE id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn photo_width(app: &TestApp, photo: &str) -> u32 {
    let bytes = app
        .get(&format!("/api/v1/photos/{photo}"))
        .await
        .bytes()
        .await
        .unwrap();
    image::load_from_memory(&bytes).unwrap().width()
}

#[tokio::test]
async fn retention_erases_old_closed_contacts_and_photo_originals_and_a_dry_run_changes_nothing() {
    let app = spawn_app().await;
    let (resolved_13, photo_13) = report(&app, 0.0, "resolved", Some(13)).await;
    let (closed_25, photo_25) = report(&app, 100.0, "closed", Some(25)).await;
    let (resolved_2, _) = report(&app, 200.0, "resolved", Some(2)).await;
    let (open, photo_open) = report(&app, 300.0, "new", None).await;
    sqlx::query("UPDATE reports SET created_at = now() - interval '5 years' WHERE id = $1")
        .bind(open)
        .execute(&app.pool)
        .await
        .unwrap();
    app.post_json(
        &format!("/api/v1/reports/{resolved_13}/subscribe"),
        &json!({"email": "tom@example.org"}),
    )
    .await;

    // Kraków keeps contacts 12 months and photo originals 24 months after a report closed.
    let db = zglos::config::DatabaseArgs {
        database_url: app.db.url.clone(),
    };
    let out = zglos::commands::retention::run(zglos::commands::retention::RetentionArgs {
        db: db.clone(),
        dry_run: true,
    })
    .await
    .unwrap();
    assert!(
        out.contains("would erase the contacts of 2 reports"),
        "{out}"
    );
    assert!(out.contains("would drop 1 photo originals"), "{out}");
    for id in [resolved_13, closed_25, resolved_2, open] {
        assert!(contact_of(&app, id).await.is_some(), "dry run erased {id}");
    }
    assert_eq!(photo_width(&app, &photo_25).await, 800);

    let out = zglos::commands::retention::run(zglos::commands::retention::RetentionArgs {
        db,
        dry_run: false,
    })
    .await
    .unwrap();
    assert!(out.contains("erased the contacts of 2 reports"), "{out}");
    assert_eq!(contact_of(&app, resolved_13).await, None);
    assert_eq!(contact_of(&app, closed_25).await, None);
    assert!(contact_of(&app, resolved_2).await.is_some());
    assert!(
        contact_of(&app, open).await.is_some(),
        "open reports keep their contact"
    );
    let row: (Option<String>, Option<String>, bool) = sqlx::query_as(
        "SELECT contact_phone, contact_name, contact_erased_at IS NOT NULL FROM reports WHERE id = $1",
    )
    .bind(resolved_13)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(row, (None, None, true));
    let subscribers: i64 =
        sqlx::query_scalar("SELECT count(*) FROM subscriptions WHERE report_id = $1")
            .bind(resolved_13)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(subscribers, 0);
    // The 25-month-old photo keeps only its thumbnail; the others are whole.
    assert_eq!(photo_width(&app, &photo_25).await, 320);
    assert_eq!(photo_width(&app, &photo_13).await, 800);
    assert_eq!(photo_width(&app, &photo_open).await, 800);
    // No acknowledged report disappears.
    let reports: i64 = sqlx::query_scalar("SELECT count(*) FROM reports")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(reports, 4);

    // A second run finds nothing left; the runs are audited.
    let again = zglos::app::retention::run(&app.pool, chrono::Utc::now(), false)
        .await
        .unwrap();
    assert_eq!((again.contacts_erased, again.photos_dropped), (0, 0));
    let audit: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE action LIKE 'retention:%' ORDER BY id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(audit, ["retention:contacts", "retention:photos"]);
}

#[tokio::test]
async fn retention_is_counted_in_metrics_and_follows_the_citys_settings() {
    let app = spawn_app().await;
    let (id, _) = report(&app, 0.0, "rejected", Some(7)).await;
    // Not due under Kraków's 12 months…
    let r = zglos::app::retention::run(&app.pool, chrono::Utc::now(), false)
        .await
        .unwrap();
    assert_eq!(r.contacts_erased, 0);
    // …due when the city keeps contacts for 6.
    sqlx::query("UPDATE city SET retention = '{\"contact_months\": 6}'")
        .execute(&app.pool)
        .await
        .unwrap();
    let r = zglos::app::retention::run(&app.pool, chrono::Utc::now(), false)
        .await
        .unwrap();
    assert_eq!(
        (r.contacts_erased, r.drop_photo_originals_months),
        (1, None)
    );
    assert_eq!(contact_of(&app, id).await, None);
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("zglos_retention_contacts_erased_total"),
        "{metrics}"
    );
}
