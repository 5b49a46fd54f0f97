//! Moderation and privacy through HTTP: the abuse list (API and command line), held reports out
//! of every public output, the moderation queue (release, reject), redaction, the signed links in
//! mail to residents, and the audit log of every action.
use crate::common::*;
use serde_json::{json, Value};
use zglos::auth::Role;

async fn report_from(app: &TestApp, at: (f64, f64), email: &str, description: &str) -> i64 {
    let mut body = point_report("pothole", at.0, at.1, description);
    body["properties"]["contact"] =
        json!({"name": "Jan", "email": email, "phone": "+48 600 100 200"});
    app.report(&body).await["properties"]["id"]
        .as_i64()
        .unwrap()
}

fn ids_of(fc: &Value) -> Vec<i64> {
    fc["features"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["id"].as_i64()).collect())
        .unwrap_or_default()
}

/// Where the public can see `id`: every public output, by name.
async fn public_sightings(app: &TestApp, id: i64, at: (f64, f64)) -> Vec<&'static str> {
    let mut seen = vec![];
    if app.get(&format!("/api/v1/reports/{id}")).await.status() == 200 {
        seen.push("report page");
    }
    if ids_of(&app.get_json("/api/v1/reports?limit=100").await).contains(&id) {
        seen.push("list");
    }
    if ids_of(
        &app.get_json("/ogc/collections/reports/items?limit=100")
            .await,
    )
    .contains(&id)
    {
        seen.push("ogc");
    }
    if ids_of(&app.get_json("/api/v1/exports/reports.geojson").await).contains(&id) {
        seen.push("export");
    }
    let open311 = app.get_json("/open311/v2/requests.json").await;
    if open311
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["service_request_id"].as_str() == Some(&id.to_string()))
    {
        seen.push("open311");
    }
    let (z, x, y) = tile_of(16, at.0, at.1);
    let tile = app.tile(&format!("/tiles/reports/{z}/{x}/{y}.mvt")).await;
    if tile
        .iter()
        .filter(|l| l.name == "reports")
        .flat_map(|l| l.features.iter())
        .any(|f| f.id == Some(id as u64))
    {
        seen.push("tile");
    }
    seen
}

async fn inbox_ids(app: &TestApp, who: &Staff) -> Vec<i64> {
    let inbox: Value = app
        .staff_get(who, "/api/v1/staff/inbox?status=all")
        .await
        .json()
        .await
        .unwrap();
    ids_of(&inbox)
}

async fn queue(app: &TestApp, who: &Staff, state: &str) -> Value {
    let r = app
        .staff_get(who, &format!("/api/v1/staff/moderation?state={state}"))
        .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn error_of(r: reqwest::Response) -> (u16, String, Option<String>) {
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    (
        status,
        body["error"]["code"].as_str().unwrap_or("").to_owned(),
        body["error"]["field"].as_str().map(str::to_owned),
    )
}

async fn staff_delete(app: &TestApp, who: &Staff, path: &str) -> reqwest::Response {
    app.client
        .delete(app.url(path))
        .header("cookie", &who.cookie)
        .header("x-csrf-token", &who.csrf)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_report_from_a_listed_email_is_stored_but_held_out_of_every_public_output() {
    let app = spawn_app().await;
    let admin = app.staff("admin@krakow.example", &[Role::Admin], &[]).await;
    let r = app
        .staff_post(
            &admin,
            "/api/v1/staff/abuse",
            &json!({"kind": "email", "value": "Troll@Example.org", "note": "floods the map"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let entry: Value = r.json().await.unwrap();
    assert_eq!(entry["value"], "troll@example.org");

    let spot = offset(RYNEK.0, RYNEK.1, 300.0, 0.0);
    let held = report_from(&app, spot, "troll@example.org", "Fake hole").await;
    let public = report_from(
        &app,
        offset(spot.0, spot.1, 0.0, 200.0),
        "anna@example.org",
        "Real hole",
    )
    .await;

    assert_eq!(public_sightings(&app, held, spot).await, Vec::<&str>::new());
    assert_eq!(
        public_sightings(&app, public, offset(spot.0, spot.1, 0.0, 200.0))
            .await
            .len(),
        6
    );
    // Stored, not routed: no unit inbox shows it; the moderation queue does.
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM reports WHERE id = $1 AND held")
        .bind(held)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, 1);
    let clerk = app
        .staff("clerk@zdmk.example", &[Role::UnitStaff], &["ZDMK"])
        .await;
    assert!(!inbox_ids(&app, &clerk).await.contains(&held));
    assert!(inbox_ids(&app, &clerk).await.contains(&public));
    let q = queue(&app, &admin, "held").await;
    assert_eq!(ids_of(&q), vec![held]);
    assert_eq!(
        q["features"][0]["properties"]["moderation"]["hold_reason"],
        "abuse_list"
    );
    assert_eq!(
        q["features"][0]["properties"]["contact"]["email"],
        "troll@example.org"
    );

    // A held report is no dedup original: the same hole reported by someone else is a new report.
    let mut again = point_report("pothole", spot.0, spot.1, "Hole here");
    again["properties"]["contact"] = json!({"email": "piotr@example.org"});
    let again = app.report(&again).await;
    assert_eq!(again["properties"]["duplicate_of"], Value::Null);
    assert_eq!(again["properties"]["status"], "new");

    // The hold is in the audit log, with the entry that matched.
    let audit: Value = app
        .staff_get(&admin, "/api/v1/staff/moderation/audit")
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["moderation:hold", "abuse:add"]);
    assert_eq!(audit["entries"][0]["after"]["abuse_entry"], entry["id"]);
    assert_eq!(audit["entries"][1]["actor"], "admin@krakow.example");
}

#[tokio::test]
async fn reports_from_a_listed_phone_or_address_range_are_held_too() {
    let app = spawn_app().await;
    let admin = app.staff("admin@krakow.example", &[Role::Admin], &[]).await;
    for (kind, value) in [("phone", "+48 600-100-200"), ("cidr", "127.0.0.0/8")] {
        let r = app
            .staff_post(
                &admin,
                "/api/v1/staff/abuse",
                &json!({"kind": kind, "value": value}),
            )
            .await;
        assert_eq!(r.status(), 201, "{kind}");
    }
    // The test client connects from 127.0.0.1, inside the listed range: even without a contact.
    let created = app
        .report(&point_report("pothole", RYNEK.0, RYNEK.1, "Anonymous"))
        .await;
    let id = created["properties"]["id"].as_i64().unwrap();
    assert_eq!(
        app.get(&format!("/api/v1/reports/{id}")).await.status(),
        404
    );
    let list: Value = app
        .staff_get(&admin, "/api/v1/staff/abuse")
        .await
        .json()
        .await
        .unwrap();
    let cidr = list["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "cidr")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        staff_delete(&app, &admin, &format!("/api/v1/staff/abuse/{cidr}"))
            .await
            .status(),
        204
    );
    // The phone entry still holds a report with that phone, written another way.
    let mut body = point_report("pothole", RYNEK.0, RYNEK.1, "With phone");
    body["properties"]["contact"] = json!({"phone": "48600100200"});
    let by_phone = app.report(&body).await["properties"]["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        app.get(&format!("/api/v1/reports/{by_phone}"))
            .await
            .status(),
        200,
        "no + is another number"
    );
    let mut body = point_report("pothole", RYNEK.0, RYNEK.1, "With phone");
    body["properties"]["contact"] = json!({"phone": "+48600100200"});
    let by_phone = app.report(&body).await["properties"]["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        app.get(&format!("/api/v1/reports/{by_phone}"))
            .await
            .status(),
        404
    );
    // Without the range, an anonymous report is public again.
    let open = app
        .report(&point_report(
            "pothole",
            PLAC_CENTRALNY.0,
            PLAC_CENTRALNY.1,
            "Open",
        ))
        .await;
    let open = open["properties"]["id"].as_i64().unwrap();
    assert_eq!(
        app.get(&format!("/api/v1/reports/{open}")).await.status(),
        200
    );
}

#[tokio::test]
async fn the_abuse_list_is_for_admins_and_says_what_is_wrong_with_an_entry() {
    let app = spawn_app().await;
    let admin = app.staff("admin@krakow.example", &[Role::Admin], &[]).await;
    let clerk = app
        .staff("clerk@zdmk.example", &[Role::UnitStaff], &["ZDMK"])
        .await;
    let entry = json!({"kind": "email", "value": "x@example.org"});
    assert_eq!(app.get("/api/v1/staff/abuse").await.status(), 401);
    assert_eq!(
        app.staff_get(&clerk, "/api/v1/staff/abuse").await.status(),
        403
    );
    assert_eq!(
        app.staff_post(&clerk, "/api/v1/staff/abuse", &entry)
            .await
            .status(),
        403
    );
    let no_csrf = app
        .client
        .post(app.url("/api/v1/staff/abuse"))
        .header("cookie", &admin.cookie)
        .json(&entry)
        .send()
        .await
        .unwrap();
    assert_eq!(no_csrf.status(), 403);
    for (body, status, code, field) in [
        (
            json!({"kind": "cidr", "value": "10.0.0.0/33"}),
            400,
            "invalid_cidr",
            "value",
        ),
        (
            json!({"kind": "ip", "value": "10.0.0.1"}),
            400,
            "unknown_kind",
            "kind",
        ),
        (
            json!({"kind": "email", "value": "nope"}),
            400,
            "invalid_email",
            "value",
        ),
        (json!({"kind": "email"}), 422, "missing_field", "value"),
        (
            json!({"kind": 5, "value": "a@b.cz"}),
            400,
            "invalid_type",
            "kind",
        ),
    ] {
        let (s, c, f) = error_of(app.staff_post(&admin, "/api/v1/staff/abuse", &body).await).await;
        assert_eq!(
            (s, c.as_str(), f.as_deref()),
            (status, code, Some(field)),
            "{body}"
        );
    }
    assert_eq!(
        app.staff_post(&admin, "/api/v1/staff/abuse", &entry)
            .await
            .status(),
        201
    );
    let (s, c, _) = error_of(app.staff_post(&admin, "/api/v1/staff/abuse", &entry).await).await;
    assert_eq!((s, c.as_str()), (409, "already_listed"));
    let (s, _, _) = error_of(staff_delete(&app, &admin, "/api/v1/staff/abuse/999999").await).await;
    assert_eq!(s, 404);
    let (s, _, f) = error_of(staff_delete(&app, &admin, "/api/v1/staff/abuse/abc").await).await;
    assert_eq!((s, f.as_deref()), (400, Some("id")));
}

#[tokio::test]
async fn the_abuse_command_adds_lists_and_removes_entries_with_an_audit_trail() {
    use zglos::commands::abuse::{run, AbuseCommand};
    let app = spawn_app().await;
    let db = zglos::config::DatabaseArgs {
        database_url: app.db.url.clone(),
    };
    let out = run(AbuseCommand::Add {
        db: db.clone(),
        email: None,
        phone: None,
        cidr: Some("203.0.113.9/24".into()),
        note: Some("botnet".into()),
    })
    .await
    .unwrap();
    assert!(out.contains("cidr 203.0.113.0/24"), "{out}");
    let err = run(AbuseCommand::Add {
        db: db.clone(),
        email: Some("not an email".into()),
        phone: None,
        cidr: None,
        note: None,
    })
    .await
    .unwrap_err();
    assert!(err.to_string().contains("not an email address"), "{err}");
    let list = run(AbuseCommand::List { db: db.clone() }).await.unwrap();
    assert!(
        list.contains("203.0.113.0/24") && list.contains("botnet"),
        "{list}"
    );
    let id: i64 = sqlx::query_scalar("SELECT id FROM abuse_list")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    run(AbuseCommand::Remove { db: db.clone(), id })
        .await
        .unwrap();
    assert!(run(AbuseCommand::Remove { db: db.clone(), id })
        .await
        .is_err());
    let actions: Vec<(String, String)> =
        sqlx::query_as("SELECT action, actor FROM audit_log ORDER BY id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(actions.len(), 2);
    assert_eq!(actions[0].0, "abuse:add");
    assert_eq!(actions[1].0, "abuse:remove");
    assert!(actions[0].1.starts_with("cli:"));
}

#[tokio::test]
async fn a_released_report_becomes_public_routed_and_deduplicated_and_a_rejected_one_never_does() {
    let app = spawn_app().await;
    let admin = app.staff("admin@krakow.example", &[Role::Admin], &[]).await;
    app.staff_post(
        &admin,
        "/api/v1/staff/abuse",
        &json!({"kind": "email", "value": "maybe@example.org"}),
    )
    .await;
    let a = offset(RYNEK.0, RYNEK.1, 400.0, 0.0);
    let b = offset(RYNEK.0, RYNEK.1, -400.0, 0.0);
    let held_a = report_from(&app, a, "maybe@example.org", "Hole A").await;
    let held_b = report_from(&app, b, "maybe@example.org", "Hole B").await;
    let held_c = report_from(&app, b, "maybe@example.org", "Hole C").await;
    // While B and C wait, someone else reports the same hole as C: C will be its duplicate.
    let original = report_from(&app, b, "ewa@example.org", "Hole at B").await;

    let clerk = app
        .staff("clerk@zdmk.example", &[Role::UnitStaff], &["ZDMK"])
        .await;
    let other = app
        .staff("green@zzm.example", &[Role::UnitStaff], &["ZZM"])
        .await;
    let consultant = app
        .staff("desk@krakow.example", &[Role::Consultant], &[])
        .await;
    // Unit staff see their units' held reports; other units' staff see none of them.
    assert_eq!(
        ids_of(&queue(&app, &clerk, "held").await),
        vec![held_a, held_b, held_c]
    );
    assert!(ids_of(&queue(&app, &other, "held").await).is_empty());
    assert_eq!(
        app.staff_get(&consultant, "/api/v1/staff/moderation")
            .await
            .status(),
        403
    );
    let r = app
        .staff_post(
            &other,
            &format!("/api/v1/staff/moderation/{held_a}/release"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 403);

    let r = app
        .staff_post(
            &clerk,
            &format!("/api/v1/staff/moderation/{held_a}/release"),
            &json!({"reason": "checked: a real hole"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let released: Value = r.json().await.unwrap();
    assert_eq!(released["status"], "new");
    assert_eq!(released["duplicate_of"], Value::Null);
    assert_eq!(public_sightings(&app, held_a, a).await.len(), 6);
    assert!(inbox_ids(&app, &clerk).await.contains(&held_a));

    let r = app
        .staff_post(
            &clerk,
            &format!("/api/v1/staff/moderation/{held_c}/release"),
            &json!({}),
        )
        .await;
    let released: Value = r.json().await.unwrap();
    assert_eq!(released["duplicate_of"], original);
    assert_eq!(released["status"], "duplicate");
    let orig = app.get_json(&format!("/api/v1/reports/{original}")).await;
    assert_eq!(orig["properties"]["supporters"], 2);

    // Rejecting needs a reason; a rejected report stays stored and is never public.
    let (s, c, f) = error_of(
        app.staff_post(
            &clerk,
            &format!("/api/v1/staff/moderation/{held_b}/reject"),
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (s, c.as_str(), f.as_deref()),
        (422, "missing_field", Some("reason"))
    );
    let r = app
        .staff_post(
            &clerk,
            &format!("/api/v1/staff/moderation/{held_b}/reject"),
            &json!({"reason": "invented"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(public_sightings(&app, held_b, b).await.is_empty());
    assert!(ids_of(&queue(&app, &clerk, "held").await).is_empty());
    assert_eq!(ids_of(&queue(&app, &clerk, "rejected").await), vec![held_b]);
    // Decided is decided: no second release or rejection.
    for (id, verb) in [
        (held_b, "release"),
        (held_a, "reject"),
        (original, "release"),
    ] {
        let (s, c, _) = error_of(
            app.staff_post(
                &clerk,
                &format!("/api/v1/staff/moderation/{id}/{verb}"),
                &json!({"reason": "again"}),
            )
            .await,
        )
        .await;
        assert_eq!((s, c.as_str()), (409, "not_held"), "{verb} {id}");
    }
    let audit: Vec<(String, String, Option<String>, Option<i64>)> = sqlx::query_as(
        "SELECT action, actor, reason, report_id FROM audit_log
         WHERE action LIKE 'moderation:re%' ORDER BY id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        audit,
        vec![
            (
                "moderation:release".into(),
                "clerk@zdmk.example".into(),
                Some("checked: a real hole".into()),
                Some(held_a)
            ),
            (
                "moderation:release".into(),
                "clerk@zdmk.example".into(),
                None,
                Some(held_c)
            ),
            (
                "moderation:reject".into(),
                "clerk@zdmk.example".into(),
                Some("invented".into()),
                Some(held_b)
            ),
        ]
    );
}

/// A 640×480 JPEG.
pub(crate) fn test_jpeg() -> Vec<u8> {
    let img = image::RgbImage::from_fn(640, 480, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    });
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode_image(&img)
        .unwrap();
    jpeg
}

async fn upload_photo(app: &TestApp) -> String {
    let jpeg = test_jpeg();
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
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn staff_hide_a_description_or_a_photo_from_the_public_and_still_see_the_original() {
    let app = spawn_app().await;
    let keep = upload_photo(&app).await;
    let hide = upload_photo(&app).await;
    let mut body = point_report(
        "pothole",
        RYNEK.0,
        RYNEK.1,
        "Call Jan Kowalski at 600 100 200",
    );
    body["properties"]["photos"] = json!([keep, hide]);
    let id = app.report(&body).await["properties"]["id"]
        .as_i64()
        .unwrap();
    let clerk = app
        .staff("clerk@zdmk.example", &[Role::UnitStaff], &["ZDMK"])
        .await;
    let path = format!("/api/v1/staff/reports/{id}/redact");
    for (body, status, field) in [
        (json!({"field": "title", "reason": "x"}), 400, "field"),
        (json!({"field": "photo", "reason": "x"}), 422, "photo_id"),
        (
            json!({"field": "photo", "photo_id": "nope", "reason": "x"}),
            422,
            "photo_id",
        ),
        (json!({"field": "description"}), 422, "reason"),
    ] {
        let (s, _, f) = error_of(app.staff_post(&clerk, &path, &body).await).await;
        assert_eq!((s, f.as_deref()), (status, Some(field)), "{body}");
    }
    let r = app
        .staff_post(
            &clerk,
            &path,
            &json!({"field": "description", "reason": "personal data"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = app
        .staff_post(
            &clerk,
            &path,
            &json!({"field": "photo", "photo_id": hide, "reason": "a face"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let seen: Value = r.json().await.unwrap();
    assert_eq!(seen["description"], "Call Jan Kowalski at 600 100 200");
    assert_eq!(seen["description_hidden"], "personal data");
    assert_eq!(seen["photos"][1]["hidden"], "a face");

    let public = app.get_json(&format!("/api/v1/reports/{id}")).await;
    assert_eq!(public["properties"]["description"], "");
    let photos: Vec<&str> = public["properties"]["photos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(photos, [keep.as_str()]);
    assert_eq!(
        app.get(&format!("/api/v1/photos/{hide}")).await.status(),
        404
    );
    assert_eq!(
        app.get(&format!("/api/v1/photos/{hide}/thumbnail"))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.get(&format!("/api/v1/photos/{keep}")).await.status(),
        200
    );
    let export = app
        .get("/api/v1/exports/reports.csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(!export.contains("Kowalski"), "{export}");
    let searched = app
        .get_json("/ogc/collections/reports/items?filter=description%20LIKE%20%27%25Kowalski%25%27")
        .await;
    assert!(
        ids_of(&searched).is_empty(),
        "a hidden description cannot be searched for"
    );
    // Staff still see both, and the photo.
    let staff: Value = app
        .staff_get(&clerk, &format!("/api/v1/staff/reports/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        staff["report"]["properties"]["description"]
            .as_str()
            .or(staff["properties"]["description"].as_str()),
        Some("Call Jan Kowalski at 600 100 200")
    );
    let r = app
        .staff_get(&clerk, &format!("/api/v1/staff/photos/{hide}"))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert_eq!(
        app.get(&format!("/api/v1/staff/photos/{hide}"))
            .await
            .status(),
        401
    );
    let audit: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT action, reason FROM audit_log WHERE action LIKE 'redact:%' ORDER BY id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        audit,
        vec![
            ("redact:description".into(), Some("personal data".into())),
            ("redact:photo".into(), Some("a face".into())),
        ]
    );
}

pub(crate) fn link_in(text: &str, purpose: &str) -> Option<String> {
    let start = text.find(&format!("/api/v1/links/{purpose}/"))?;
    let begin = text[..start].rfind("http://")?;
    let end = text[start..]
        .find(|c: char| c.is_whitespace())
        .map(|e| start + e)
        .unwrap_or(text.len());
    Some(text[begin..end].to_owned())
}

pub(crate) async fn mail_app() -> (TestApp, crate::common::smtp::Inbox) {
    let smtp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let smtp_url = format!("smtp://127.0.0.1:{}", smtp.local_addr().unwrap().port());
    let inbox = crate::common::smtp::serve(smtp);
    let app = spawn_app_with(TestDb::new().await, |url| zglos::config::Config {
        smtp_url: Some(smtp_url.clone()),
        ..config(url)
    })
    .await;
    (app, inbox)
}

#[tokio::test]
async fn every_mail_carries_a_signed_link_that_erases_the_reporters_contact_and_stops_mail() {
    let (app, inbox) = mail_app().await;
    let id = report_from(&app, RYNEK, "anna@example.org", "Hole").await;
    app.post_json(
        &format!("/api/v1/reports/{id}/subscribe"),
        &json!({"email": "tom@example.org", "lang": "en"}),
    )
    .await;
    let clerk = app
        .staff("clerk@zdmk.example", &[Role::UnitStaff], &["ZDMK"])
        .await;
    let r = app
        .staff_post(
            &clerk,
            &format!("/api/v1/staff/reports/{id}/status"),
            &json!({"status": "acknowledged", "public_note": "Przyjęte."}),
        )
        .await;
    assert_eq!(r.status(), 200);
    // Anna's confirmation, then the change to both.
    let mails = inbox.wait_for(3).await;
    let to_anna = mails
        .iter()
        .rfind(|m| m.to.iter().any(|t| t.contains("anna")))
        .unwrap()
        .text();
    let to_tom = mails
        .iter()
        .find(|m| m.to.iter().any(|t| t.contains("tom")))
        .unwrap()
        .text();
    let forget = link_in(&to_anna, "forget").expect("a forget link for the reporter");
    assert!(
        link_in(&to_anna, "withdraw").is_some(),
        "the reporter may withdraw"
    );
    assert!(link_in(&to_tom, "forget").is_some());
    assert!(
        link_in(&to_tom, "withdraw").is_none(),
        "a subscriber may not withdraw"
    );
    assert!(!forget.contains("anna"), "the address is not in the link");

    // A GET (what a mail scanner prefetches) shows what the link does and changes nothing.
    for _ in 0..2 {
        let r = app.client.get(&forget).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let shown: Value = r.json().await.unwrap();
        assert_eq!(shown["confirm"]["method"], "POST");
    }
    let html = app
        .client
        .get(&forget)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert!(html.text().await.unwrap().contains("<form method=\"post\""));
    // Opened in a Ukrainian browser, the page speaks Ukrainian.
    let html = app
        .client
        .get(&forget)
        .header("accept", "text/html")
        .header("accept-language", "uk-UA,uk;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("<html lang=\"uk\"") && html.contains("Більше не надсилати повідомлень"),
        "{html}"
    );
    let email: Option<String> =
        sqlx::query_scalar("SELECT contact_email FROM reports WHERE id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(email.as_deref(), Some("anna@example.org"));

    // A forged or cut link is refused.
    let forged = format!("{}0", &forget[..forget.len() - 1]).replace("s=", "s=f");
    let (s, c, f) = error_of(app.client.post(&forged).send().await.unwrap()).await;
    assert_eq!(
        (s, c.as_str(), f.as_deref()),
        (403, "bad_signature", Some("s"))
    );
    let other_report = forget.replace(&format!("/forget/{id}?"), &format!("/forget/{}?", id + 1));
    assert!(app
        .client
        .post(&other_report)
        .send()
        .await
        .unwrap()
        .status()
        .is_client_error());
    let cut = &forget[..forget.find("&s=").unwrap()];
    let (s, c, f) = error_of(app.client.post(cut).send().await.unwrap()).await;
    assert_eq!(
        (s, c.as_str(), f.as_deref()),
        (400, "missing_parameter", Some("s"))
    );

    let r = app.client.post(&forget).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let done: Value = r.json().await.unwrap();
    assert_eq!(done["changed"], true);
    let row: (Option<String>, Option<String>, Option<String>, bool) = sqlx::query_as(
        "SELECT contact_email, contact_phone, contact_name, contact_erased_at IS NOT NULL FROM reports WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(row, (None, None, None, true));
    // Following it again is harmless.
    let again: Value = app
        .client
        .post(&forget)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["changed"], false);

    // The next change reaches the subscriber only.
    app.staff_post(
        &clerk,
        &format!("/api/v1/staff/reports/{id}/status"),
        &json!({"status": "resolved", "public_note": "Załatane."}),
    )
    .await;
    let mails = inbox.wait_for(4).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let mails_after = inbox.all();
    assert_eq!(
        mails_after.len(),
        4,
        "{:?}",
        mails.iter().map(|m| &m.to).collect::<Vec<_>>()
    );
    assert!(mails_after[3].to.iter().any(|t| t.contains("tom")));
    let audit: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'privacy:forget' AND report_id = $1",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(audit, 1);
}

#[tokio::test]
async fn the_withdraw_link_takes_the_report_off_the_map_into_the_moderation_queue() {
    let (app, inbox) = mail_app().await;
    let id = report_from(&app, RYNEK, "anna@example.org", "Hole").await;
    assert_eq!(public_sightings(&app, id, RYNEK).await.len(), 6);
    let clerk = app
        .staff("clerk@zdmk.example", &[Role::UnitStaff], &["ZDMK"])
        .await;
    app.staff_post(
        &clerk,
        &format!("/api/v1/staff/reports/{id}/status"),
        &json!({"status": "acknowledged", "public_note": "Przyjęte."}),
    )
    .await;
    let mail = inbox.wait_for(1).await[0].text();
    let withdraw = link_in(&mail, "withdraw").unwrap();
    assert_eq!(
        app.client.get(&withdraw).send().await.unwrap().status(),
        200
    );
    assert_eq!(
        public_sightings(&app, id, RYNEK).await.len(),
        6,
        "a GET changes nothing"
    );
    let r = app.client.post(&withdraw).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(public_sightings(&app, id, RYNEK).await.is_empty());
    let q = queue(&app, &clerk, "held").await;
    assert_eq!(ids_of(&q), vec![id]);
    assert_eq!(
        q["features"][0]["properties"]["moderation"]["withdrawal_requested"],
        true
    );
    // Staff grant the withdrawal by rejecting it: stored, never public again.
    let r = app
        .staff_post(
            &clerk,
            &format!("/api/v1/staff/moderation/{id}/reject"),
            &json!({"reason": "withdrawn by the reporter"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(public_sightings(&app, id, RYNEK).await.is_empty());
    let exists: i64 = sqlx::query_scalar("SELECT count(*) FROM reports WHERE id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(exists, 1);
}
