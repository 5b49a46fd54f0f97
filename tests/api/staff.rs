//! City staff through HTTP: login and roles, the inbox, the workflow with notes and mail to the
//! reporter on a real SMTP listener, merging, rerouting, heatmaps and accountability figures.
use crate::common::*;
use serde_json::{json, Value};
use zglos::auth::Role;

pub(crate) async fn report_with_contact(
    app: &TestApp,
    category: &str,
    at: (f64, f64),
    email: &str,
    lang: &str,
) -> i64 {
    let mut body = point_report(category, at.0, at.1, "Lamp is dark at night");
    body["properties"]["contact"] = json!({"name": "Anna", "email": email});
    body["properties"]["lang"] = json!(lang);
    app.report(&body).await["properties"]["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn a_clerk_works_a_report_and_the_reporter_hears_back_by_mail() {
    let smtp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let smtp_url = format!("smtp://127.0.0.1:{}", smtp.local_addr().unwrap().port());
    let inbox_mail = crate::common::smtp::serve(smtp);
    let app = spawn_app_with(TestDb::new().await, |url| zglos::config::Config {
        smtp_url: Some(smtp_url.clone()),
        ..config(url)
    })
    .await;

    let id = report_with_contact(&app, "street_lighting", RYNEK, "anna@example.org", "pl").await;
    app.post_json(
        &format!("/api/v1/reports/{id}/subscribe"),
        &json!({"email": "tom@example.org", "lang": "en"}),
    )
    .await;
    // Olena says no language: her browser's Accept-Language chooses Ukrainian.
    let r = app
        .client
        .post(app.url(&format!("/api/v1/reports/{id}/subscribe")))
        .header("Accept-Language", "uk-UA,uk;q=0.9,pl;q=0.5")
        .json(&json!({"email": "olena@example.org"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let clerk = app
        .staff("clerk@zdmk.example", &[Role::UnitStaff], &["ZDMK"])
        .await;

    // The new report is in the ZDMK inbox, with the reporter's contact for staff.
    let inbox: Value = app
        .staff_get(&clerk, "/api/v1/staff/inbox")
        .await
        .json()
        .await
        .unwrap();
    let item = inbox["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .expect("in the inbox")
        .clone();
    assert_eq!(item["properties"]["contact"]["email"], "anna@example.org");
    assert_eq!(item["properties"]["routing_rule"], "roads-lighting");
    assert_eq!(inbox["counts"]["new"], 1);

    // new → acknowledged → planned (with an expected date) → resolved.
    let step = |status: &'static str,
                public: &'static str,
                internal: Option<&'static str>,
                extra: Value| {
        let app = &app;
        let clerk = &clerk;
        async move {
            let mut body =
                json!({"status": status, "public_note": public, "internal_note": internal});
            if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
                b.extend(e.clone());
            }
            app.staff_post(clerk, &format!("/api/v1/staff/reports/{id}/status"), &body)
                .await
        }
    };
    let r = step(
        "acknowledged",
        "Przyjęliśmy zgłoszenie.",
        Some("Crew B, not urgent"),
        json!({}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = step(
        "planned",
        "Naprawa zaplanowana.",
        None,
        json!({"expected_at": "2030-01-15"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["properties"]["expected_at"],
        "2030-01-15"
    );
    // A forbidden move gets a 409 naming the allowed ones.
    let r = step("duplicate", "x", None, json!({})).await;
    assert_eq!(r.status(), 409);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "transition_not_allowed");
    assert!(e["error"]["detail"]["allowed"]
        .as_array()
        .unwrap()
        .contains(&json!("resolved")));
    let r = step(
        "resolved",
        "Latarnia naprawiona <b>dziś</b>.",
        Some("Replaced the ballast"),
        json!({}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let staff_view: Value = r.json().await.unwrap();
    assert_eq!(staff_view["properties"]["status"], "resolved");
    assert!(
        staff_view["properties"]["audit"].as_array().unwrap().len() >= 3,
        "every change is audited"
    );

    // The public timeline shows the public notes, never the internal ones.
    let public = app
        .get(&format!("/api/v1/reports/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(public.contains("Przyjęliśmy zgłoszenie.") && public.contains("Naprawa zaplanowana."));
    assert!(
        !public.contains("Crew B") && !public.contains("ballast") && !public.contains("internal")
    );

    // Mail: the reporter's confirmation, then three changes to three recipients, each in their
    // language, with a link to the report.
    let mails = inbox_mail.wait_for(10).await;
    assert_eq!(mails.len(), 10, "{mails:?}");
    let to_anna: Vec<_> = mails
        .iter()
        .filter(|m| m.to == vec!["anna@example.org".to_string()])
        .collect();
    let to_tom: Vec<_> = mails
        .iter()
        .filter(|m| m.to == vec!["tom@example.org".to_string()])
        .collect();
    let to_olena: Vec<_> = mails
        .iter()
        .filter(|m| m.to == vec!["olena@example.org".to_string()])
        .collect();
    assert_eq!((to_anna.len(), to_tom.len(), to_olena.len()), (4, 3, 3));
    let confirmation = to_anna[0].text();
    assert!(
        confirmation.contains(&format!("numer #{id}"))
            && confirmation.contains("Odpowiada: Zarząd Dróg Miasta Krakowa")
            && confirmation.contains("Przewidywany termin:")
            && confirmation.contains("/api/v1/links/withdraw/"),
        "the confirmation names the number, the unit and the date, with the links: {confirmation}"
    );
    // Beside the text, an HTML version shows the category's icon (never an emoji) and name.
    assert!(
        confirmation.contains("Content-Type: text/plain")
            && confirmation.contains("Content-Type: text/html")
            && confirmation.contains("/icons/street_lighting.svg")
            && confirmation.contains("Niedziałająca latarnia"),
        "{confirmation}"
    );
    assert!(
        to_anna.iter().all(|m| !m.text().contains('💡')),
        "no emoji in any mail"
    );
    assert!(
        to_olena
            .iter()
            .any(|m| m.text().contains("Статус звернення")
                && m.text().contains("змінився на: Вирішене")
                && !m.text().contains("Відкликати")
                && m.text().contains("Більше не надсилати повідомлень")),
        "Ukrainian for Olena, the status named as the city pack names it: {:?}",
        to_olena.iter().map(|m| m.text()).collect::<Vec<_>>()
    );
    assert!(
        to_tom
            .iter()
            .any(|m| m.text().contains("changed to: Resolved")),
        "English for Tom"
    );
    assert!(
        to_anna
            .iter()
            .any(|m| m.text().contains("status zgłoszenia") && m.text().contains("Rozwiązane")),
        "Polish for Anna"
    );
    assert!(
        to_anna
            .iter()
            .any(|m| m.text().contains("Latarnia naprawiona <b>dziś</b>.")),
        "the public note, as written"
    );
    assert!(mails.iter().all(|m| m.text().contains(&format!("/r/{id}"))));
    assert!(
        mails
            .iter()
            .all(|m| !m.text().contains("ballast") && !m.text().contains("Crew B")),
        "internal notes stay inside"
    );
    // The mail server has the messages; the worker marks each sent right after handing it over.
    let mut pending: i64 = -1;
    for _ in 0..100 {
        pending = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
            .fetch_one(&app.pool)
            .await
            .unwrap();
        if pending == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(pending, 0);
}

#[tokio::test]
async fn a_mail_server_outage_delays_but_never_loses_a_message() {
    // A port with nothing listening yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let smtp_url = format!("smtp://127.0.0.1:{port}");
    let app = spawn_app_with(TestDb::new().await, |url| zglos::config::Config {
        smtp_url: Some(smtp_url.clone()),
        ..config(url)
    })
    .await;
    let id = report_with_contact(&app, "pothole", RYNEK, "anna@example.org", "en").await;
    let clerk = app
        .staff("clerk@zdmk.example", &[Role::UnitStaff], &["ZDMK"])
        .await;
    let r = app
        .staff_post(
            &clerk,
            &format!("/api/v1/staff/reports/{id}/status"),
            &json!({"status": "acknowledged", "public_note": "Seen"}),
        )
        .await;
    assert_eq!(
        r.status(),
        200,
        "the change succeeds even though mail cannot go out"
    );
    let mut attempts = 0;
    for _ in 0..150 {
        attempts = sqlx::query_scalar("SELECT attempts FROM outbox")
            .fetch_one(&app.pool)
            .await
            .unwrap();
        if attempts > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(attempts > 0, "a delivery was tried and failed");
    // The server comes back; the message goes out on the next attempt.
    let inbox = crate::common::smtp::serve(
        tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap(),
    );
    sqlx::query("UPDATE outbox SET next_attempt_at = now()")
        .execute(&app.pool)
        .await
        .unwrap();
    // The confirmation and the status change, both held back by the outage.
    let mails = inbox.wait_for(2).await;
    assert_eq!(mails.len(), 2);
    assert!(mails
        .iter()
        .all(|m| m.to == vec!["anna@example.org".to_string()]));
}

#[tokio::test]
async fn rejected_reports_are_rerouted_and_duplicates_merge_by_hand() {
    let app = spawn_app().await;
    let clerk = app
        .staff("clerk@zdmk.example", &[Role::UnitStaff], &["ZDMK"])
        .await;
    let greens = app
        .staff("clerk@zzm.example", &[Role::UnitStaff], &["ZZM"])
        .await;
    let id = app
        .report(&point_report(
            "pothole",
            RYNEK.0,
            RYNEK.1,
            "Hole in the park path",
        ))
        .await["properties"]["id"]
        .as_i64()
        .unwrap();
    // "Not ours" must name the unit.
    let r = app
        .staff_post(
            &clerk,
            &format!("/api/v1/staff/reports/{id}/status"),
            &json!({"status": "rejected", "public_note": "Path in a park"}),
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["field"], "unit");
    let r = app.staff_post(&clerk, &format!("/api/v1/staff/reports/{id}/status"), &json!({"status": "rejected", "public_note": "Path in a park: forwarded to ZZM", "unit": "ZZM"})).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["properties"]["unit"]["code"], "ZZM");
    assert_eq!(v["properties"]["status"], "new");
    // Now it is ZZM's: ZDMK can no longer act on it, ZZM sees it.
    let r = app
        .staff_post(
            &clerk,
            &format!("/api/v1/staff/reports/{id}/status"),
            &json!({"status": "acknowledged", "public_note": "x"}),
        )
        .await;
    assert_eq!(r.status(), 403);
    let inbox: Value = app
        .staff_get(&greens, "/api/v1/staff/inbox")
        .await
        .json()
        .await
        .unwrap();
    assert!(inbox["features"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["id"] == id));

    // Merge two reports 200 m apart that turn out to be one problem, then undo it.
    let (x, y) = offset(RYNEK.0, RYNEK.1, 200.0, 0.0);
    let a = app.report(&point_report("pothole", x, y, "Hole A")).await["properties"]["id"]
        .as_i64()
        .unwrap();
    let (x, y) = offset(RYNEK.0, RYNEK.1, 400.0, 0.0);
    let b = app.report(&point_report("pothole", x, y, "Hole B")).await["properties"]["id"]
        .as_i64()
        .unwrap();
    let r = app
        .staff_post(
            &clerk,
            &format!("/api/v1/staff/reports/{b}/merge"),
            &json!({"into": a}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let merged = app.get_json(&format!("/api/v1/reports/{b}")).await;
    assert_eq!(merged["properties"]["duplicate_of"], a);
    assert_eq!(
        app.get_json(&format!("/api/v1/reports/{a}")).await["properties"]["supporters"],
        2
    );
    let r = app
        .staff_post(
            &clerk,
            &format!("/api/v1/staff/reports/{b}/unmerge"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        app.get_json(&format!("/api/v1/reports/{b}")).await["properties"]["duplicate_of"],
        Value::Null
    );
    assert_eq!(
        app.get_json(&format!("/api/v1/reports/{a}")).await["properties"]["supporters"],
        1
    );

    // Reassign and edit keep the reason in the audit log.
    let r = app
        .staff_post(
            &clerk,
            &format!("/api/v1/staff/reports/{a}/reassign"),
            &json!({"unit": "ZIM", "note": "Part of the tram works"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let admin = app.staff("admin@city.example", &[Role::Admin], &[]).await;
    let r = app
        .staff_post(
            &admin,
            &format!("/api/v1/staff/reports/{b}/edit"),
            &json!({"category": "pavement", "reason": "It is the pavement"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["properties"]["category"], "pavement");
    assert!(v["properties"]["audit"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["action"] == "edit" && a["before"]["category"] == "pothole"));
    let r = app
        .staff_post(
            &admin,
            &format!("/api/v1/staff/reports/{b}/edit"),
            &json!({"geometry": {"type": "Point", "coordinates": [19.5, 50.0]}, "reason": "moved"}),
        )
        .await;
    assert_eq!(r.status(), 422, "cannot move a report out of the city");
}

#[tokio::test]
async fn every_staff_endpoint_refuses_anonymous_and_wrong_role_requests() {
    let app = spawn_app().await;
    let id = app
        .report(&point_report("pothole", RYNEK.0, RYNEK.1, "Hole"))
        .await["properties"]["id"]
        .as_i64()
        .unwrap();
    let other = app
        .report(&point_report(
            "pothole",
            PLAC_CENTRALNY.0,
            PLAC_CENTRALNY.1,
            "Other hole",
        ))
        .await["properties"]["id"]
        .as_i64()
        .unwrap();
    let roles = [
        (
            "admin",
            app.staff("admin@x.example", &[Role::Admin], &[]).await,
        ),
        (
            "unit_staff",
            app.staff("staff@x.example", &[Role::UnitStaff], &["ZDMK"])
                .await,
        ),
        (
            "other_unit",
            app.staff("zzm@x.example", &[Role::UnitStaff], &["ZZM"])
                .await,
        ),
        (
            "consultant",
            app.staff("cc@x.example", &[Role::Consultant], &[]).await,
        ),
        (
            "analyst",
            app.staff("an@x.example", &[Role::Analyst], &[]).await,
        ),
    ];
    let (z, x, y) = tile_of(14, RYNEK.0, RYNEK.1);
    let reads = [
        "/api/v1/staff/me".to_string(),
        "/api/v1/staff/inbox".into(),
        format!("/api/v1/staff/reports/{id}"),
        "/api/v1/staff/hotspots".into(),
        format!("/tiles/heatmap/{z}/{x}/{y}.mvt"),
    ];
    for path in &reads {
        assert_eq!(app.get(path).await.status(), 401, "anonymous GET {path}");
        for (name, who) in &roles {
            assert_eq!(
                app.staff_get(who, path).await.status(),
                200,
                "{name} GET {path}"
            );
        }
    }
    // Writes: (path, body, roles allowed)
    let writes: Vec<(String, Value, &[&str])> = vec![
        (
            format!("/api/v1/staff/reports/{id}/status"),
            json!({"status": "acknowledged", "public_note": "ok"}),
            &["admin", "unit_staff"],
        ),
        (
            format!("/api/v1/staff/reports/{id}/reassign"),
            json!({"unit": "ZDMK", "note": "stays"}),
            &["admin", "unit_staff"],
        ),
        (
            format!("/api/v1/staff/reports/{id}/edit"),
            json!({"category": "pothole", "reason": "check"}),
            &["admin", "unit_staff"],
        ),
        (
            format!("/api/v1/staff/reports/{other}/merge"),
            json!({"into": id}),
            &["admin", "unit_staff"],
        ),
        (
            format!("/api/v1/staff/reports/{other}/unmerge"),
            json!({}),
            &["admin", "unit_staff"],
        ),
    ];
    for (path, body, allowed) in &writes {
        let r = app
            .client
            .post(app.url(path))
            .json(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "anonymous POST {path}");
        for (name, who) in &roles {
            // Without the CSRF token, nobody gets through.
            let r = app
                .client
                .post(app.url(path))
                .header("cookie", &who.cookie)
                .json(body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 403, "{name} POST {path} without CSRF token");
            let status = app.staff_post(who, path, body).await.status().as_u16();
            if allowed.contains(name) {
                assert!(
                    status < 400 || status == 409,
                    "{name} POST {path}: {status}"
                );
            } else {
                assert_eq!(status, 403, "{name} POST {path}");
            }
        }
    }
    // Logging out kills the session.
    let (_, analyst) = &roles[4];
    let r = app
        .staff_post(analyst, "/api/v1/staff/logout", &json!({}))
        .await;
    assert_eq!(r.status(), 204);
    assert_eq!(
        app.staff_get(analyst, "/api/v1/staff/me").await.status(),
        401
    );
}

#[tokio::test]
async fn wrong_passwords_are_rate_limited_and_disabled_accounts_lose_their_session() {
    let app = spawn_app().await;
    let clerk = app
        .staff("clerk@x.example", &[Role::UnitStaff], &["ZDMK"])
        .await;
    for _ in 0..5 {
        let r = app
            .post_json(
                "/api/v1/staff/login",
                &json!({"login": "clerk@x.example", "password": "wrong password!"}),
            )
            .await;
        assert_eq!(r.status(), 401);
        assert_eq!(
            r.json::<Value>().await.unwrap()["error"]["code"],
            "invalid_credentials"
        );
    }
    let r = app
        .post_json(
            "/api/v1/staff/login",
            &json!({"login": "clerk@x.example", "password": "a long enough password"}),
        )
        .await;
    assert_eq!(
        r.status(),
        429,
        "locked for a while even with the right password"
    );
    let r = app
        .post_json("/api/v1/staff/login", &json!({"login": "clerk@x.example"}))
        .await;
    assert_eq!(r.status(), 422);
    // An open session dies the moment the account is disabled.
    assert_eq!(
        app.staff_get(&clerk, "/api/v1/staff/me").await.status(),
        200
    );
    sqlx::query("UPDATE users SET disabled = true WHERE login = 'clerk@x.example'")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        app.staff_get(&clerk, "/api/v1/staff/me").await.status(),
        401
    );
    // The cookie is HttpOnly and SameSite.
    zglos::auth::add_user(
        &app.pool,
        "b@x.example",
        "B",
        "a long enough password",
        &[Role::Analyst],
        &[],
    )
    .await
    .unwrap();
    let r = app
        .post_json(
            "/api/v1/staff/login",
            &json!({"login": "b@x.example", "password": "a long enough password"}),
        )
        .await;
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
}

#[tokio::test]
async fn heatmap_tiles_aggregate_follow_filters_and_status_changes() {
    let app = spawn_app().await;
    let clerk = app
        .staff("clerk@x.example", &[Role::UnitStaff], &["ZDMK", "MPO"])
        .await;
    let mut ids = Vec::new();
    for i in 0..12 {
        let (x, y) = offset(
            RYNEK.0,
            RYNEK.1,
            (i % 4) as f64 * 60.0,
            (i / 4) as f64 * 60.0,
        );
        let cat = if i % 3 == 0 { "litter" } else { "pothole" };
        ids.push(
            app.report(&point_report(cat, x, y, "x")).await["properties"]["id"]
                .as_i64()
                .unwrap(),
        );
    }
    // Two old reports, outside a 30-day window.
    sqlx::query("UPDATE reports SET created_at = now() - interval '100 days' WHERE id = ANY($1)")
        .bind(&ids[..2])
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query(
        "SELECT pg_notify('zglos_reports', 'litter'), pg_notify('zglos_reports', 'pothole')",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let (z, x, y) = tile_of(12, RYNEK.0, RYNEK.1);
    let count = |query: String| {
        let app = &app;
        let clerk = &clerk;
        async move {
            let r = app
                .staff_get(clerk, &format!("/tiles/heatmap/{z}/{x}/{y}.mvt{query}"))
                .await;
            assert_eq!(r.status(), 200);
            let layers = zglos_tiles::decode::decode(&r.bytes().await.unwrap()).unwrap();
            layers
                .iter()
                .find(|l| l.name == "heatmap")
                .map(|l| {
                    l.features
                        .iter()
                        .map(|f| f.properties["count"].as_u64().unwrap())
                        .sum::<u64>()
                })
                .unwrap_or(0)
        }
    };
    assert_eq!(count(String::new()).await, 12);
    assert_eq!(count("?category=litter".into()).await, 4);
    // The back-dating reaches the service through the notification (or the periodic sweep).
    let since = (chrono::Utc::now() - chrono::Duration::days(30))
        .format("%Y-%m-%d")
        .to_string();
    for _ in 0..100 {
        if count(format!("?from={since}")).await == 10 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let since = (chrono::Utc::now() - chrono::Duration::days(30))
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(count(format!("?from={since}")).await, 10);
    // A status change shows in the next heatmap tile.
    let r = app
        .staff_post(
            &clerk,
            &format!("/api/v1/staff/reports/{}/status", ids[5]),
            &json!({"status": "resolved", "public_note": "Fixed"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(count(String::new()).await, 11);
    assert_eq!(count("?status=all".into()).await, 12);
    let r = app
        .staff_get(
            &clerk,
            &format!("/tiles/heatmap/{z}/{x}/{y}.mvt?from=yesterday"),
        )
        .await;
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn hotspots_and_accountability_figures() {
    let app = spawn_app().await;
    let admin = app.staff("admin@x.example", &[Role::Admin], &[]).await;
    // A burst of 6 illegal dumps in one place this week, against none before.
    for i in 0..6 {
        let (x, y) = offset(PLAC_CENTRALNY.0, PLAC_CENTRALNY.1, i as f64 * 60.0, 0.0);
        app.report(&point_report("illegal_dumping", x, y, "Dump"))
            .await;
    }
    let id = app
        .report(&point_report("pothole", RYNEK.0, RYNEK.1, "Hole"))
        .await["properties"]["id"]
        .as_i64()
        .unwrap();
    let spots: Value = app
        .staff_get(&admin, "/api/v1/staff/hotspots")
        .await
        .json()
        .await
        .unwrap();
    let first = &spots["hotspots"][0];
    assert_eq!(first["category"], "illegal_dumping");
    assert_eq!(first["unit"], "MPO");
    assert!(first["recent"].as_u64().unwrap() >= 3);
    let mpo: Value = app
        .staff_get(&admin, "/api/v1/staff/hotspots?unit=ZZM")
        .await
        .json()
        .await
        .unwrap();
    assert!(mpo["hotspots"].as_array().unwrap().is_empty());

    app.staff_post(
        &admin,
        &format!("/api/v1/staff/reports/{id}/status"),
        &json!({"status": "resolved", "public_note": "Filled"}),
    )
    .await;
    let stats = app.get_json("/api/v1/stats").await;
    let old_town = stats["districts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == 1)
        .unwrap();
    assert_eq!(
        (
            old_town["reported"].as_i64(),
            old_town["resolved"].as_i64(),
            old_town["open"].as_i64()
        ),
        (Some(1), Some(1), Some(0))
    );
    assert!(old_town["median_days_to_resolve"].as_f64().unwrap() < 0.1);
    let mpo = stats["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["code"] == "MPO")
        .unwrap();
    assert_eq!(mpo["open"], 6);
    assert_eq!(stats["districts"].as_array().unwrap().len(), 18);
}

#[tokio::test]
async fn the_reporter_can_reopen_a_resolved_report_within_the_window() {
    let app = spawn_app().await;
    let clerk = app
        .staff("clerk@zdmk.example", &[Role::UnitStaff], &["ZDMK"])
        .await;
    let id = report_with_contact(&app, "pothole", RYNEK, "anna@example.org", "pl").await;
    let path = format!("/api/v1/reports/{id}/reopen");
    // Still open: nothing to reopen.
    let r = app
        .post_json(
            &path,
            &json!({"email": "anna@example.org", "note": "Still there"}),
        )
        .await;
    assert_eq!(r.status(), 409);
    app.staff_post(
        &clerk,
        &format!("/api/v1/staff/reports/{id}/status"),
        &json!({"status": "resolved", "public_note": "Filled"}),
    )
    .await;
    let r = app
        .post_json(
            &path,
            &json!({"email": "someone@else.org", "note": "Still there"}),
        )
        .await;
    assert_eq!(r.status(), 403, "only the reporter or a subscriber");
    let r = app
        .post_json(&path, &json!({"email": "Anna@Example.org"}))
        .await;
    assert_eq!(r.status(), 422);
    let r = app
        .post_json(
            &path,
            &json!({"email": "Anna@Example.org", "note": "The hole opened again after rain"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["properties"]["status"], "acknowledged");
    assert!(v["properties"]["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "reopened" && e["note"] == "The hole opened again after rain"));
    // After the window, a new report is the way.
    app.staff_post(
        &clerk,
        &format!("/api/v1/staff/reports/{id}/status"),
        &json!({"status": "resolved", "public_note": "Filled again"}),
    )
    .await;
    sqlx::query("ALTER TABLE reports DISABLE TRIGGER reports_bump_rev")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE reports SET updated_at = now() - interval '40 days' WHERE id = $1")
        .bind(id)
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("ALTER TABLE reports ENABLE TRIGGER reports_bump_rev")
        .execute(&app.pool)
        .await
        .unwrap();
    let r = app
        .post_json(
            &path,
            &json!({"email": "anna@example.org", "note": "Again"}),
        )
        .await;
    assert_eq!(r.status(), 409);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "reopen_window_passed"
    );
}

/// An error answer: status, code, message and field.
type Expected<'a> = (u16, &'a str, &'a str, Option<&'a str>);

/// The status, code, message and field of an error answer.
async fn error_of(r: reqwest::Response) -> (u16, String, String, Option<String>) {
    let status = r.status().as_u16();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    let e = &v["error"];
    (
        status,
        e["code"].as_str().unwrap_or("").to_owned(),
        e["message"].as_str().unwrap_or("").to_owned(),
        e["field"].as_str().map(str::to_owned),
    )
}

#[tokio::test]
async fn staff_bodies_are_checked_field_by_field_after_the_caller() {
    let app = spawn_app().await;
    let clerk = app
        .staff("clerk@zdmk.example", &[Role::UnitStaff], &["ZDMK"])
        .await;
    let id = app
        .report(&point_report("pothole", RYNEK.0, RYNEK.1, "Hole"))
        .await["properties"]["id"]
        .as_i64()
        .unwrap();
    let long = "x".repeat(5001);
    let at = |action: &str| format!("/api/v1/staff/reports/{id}/{action}");
    let cases: Vec<(String, Value, Expected)> = vec![
        (
            at("status"),
            json!({}),
            (422, "missing_field", "status is required", Some("status")),
        ),
        (
            at("status"),
            json!(null),
            (422, "missing_field", "status is required", Some("status")),
        ),
        (
            at("status"),
            json!([1, 2]),
            (422, "missing_field", "status is required", Some("status")),
        ),
        (
            at("status"),
            json!({"status": "  "}),
            (422, "missing_field", "status is required", Some("status")),
        ),
        (
            at("status"),
            json!({"status": 5}),
            (
                400,
                "invalid_type",
                "status must be a string",
                Some("status"),
            ),
        ),
        // The first field in the handler's order is reported, whatever the body's order.
        (
            at("status"),
            json!({"public_note": 5, "status": 5}),
            (
                400,
                "invalid_type",
                "status must be a string",
                Some("status"),
            ),
        ),
        (
            at("status"),
            json!({"status": "lost", "public_note": 5}),
            (
                422,
                "unknown_status",
                "unknown status \"lost\"",
                Some("status"),
            ),
        ),
        (
            at("status"),
            json!({"status": "acknowledged"}),
            (
                422,
                "missing_field",
                "public_note is required",
                Some("public_note"),
            ),
        ),
        (
            at("status"),
            json!({"status": "acknowledged", "public_note": long}),
            (
                400,
                "too_long",
                "at most 5000 characters",
                Some("public_note"),
            ),
        ),
        (
            at("status"),
            json!({"status": "acknowledged", "public_note": "ok", "expected_at": "tomorrow"}),
            (
                400,
                "invalid_date",
                "expected_at must be YYYY-MM-DD",
                Some("expected_at"),
            ),
        ),
        (
            at("status"),
            json!({"status": "acknowledged", "public_note": "ok", "expected_at": 20260101}),
            (
                400,
                "invalid_type",
                "expected_at must be a string",
                Some("expected_at"),
            ),
        ),
        (
            at("status"),
            json!({"status": "acknowledged", "public_note": "ok", "photos": "p"}),
            (
                400,
                "invalid_type",
                "photos must be an array of photo ids",
                Some("photos"),
            ),
        ),
        (
            at("status"),
            json!({"status": "acknowledged", "public_note": "ok", "photos": ["p", 3]}),
            (400, "invalid_type", "a photo id", Some("photos[1]")),
        ),
        (
            at("status"),
            json!({"status": "acknowledged", "public_note": "ok", "internal_note": {}}),
            (
                400,
                "invalid_type",
                "internal_note must be a string",
                Some("internal_note"),
            ),
        ),
        (
            at("status"),
            json!({"status": "acknowledged", "public_note": "ok", "unit": true}),
            (400, "invalid_type", "unit must be a string", Some("unit")),
        ),
        (
            at("merge"),
            json!({}),
            (
                422,
                "missing_field",
                "into must be a report id",
                Some("into"),
            ),
        ),
        (
            at("merge"),
            json!({"into": "7"}),
            (
                422,
                "missing_field",
                "into must be a report id",
                Some("into"),
            ),
        ),
        (
            at("merge"),
            json!({"into": 0}),
            (
                422,
                "missing_field",
                "into must be a report id",
                Some("into"),
            ),
        ),
        (
            at("merge"),
            json!({"into": 1.5}),
            (
                422,
                "missing_field",
                "into must be a report id",
                Some("into"),
            ),
        ),
        (
            at("merge"),
            json!({"into": id, "note": 5}),
            (400, "invalid_type", "note must be a string", Some("note")),
        ),
        (
            at("reassign"),
            json!({}),
            (422, "missing_field", "unit is required", Some("unit")),
        ),
        (
            at("reassign"),
            json!({"unit": ["ZZM"], "note": "n"}),
            (400, "invalid_type", "unit must be a string", Some("unit")),
        ),
        (
            at("reassign"),
            json!({"unit": "ZZM"}),
            (422, "missing_field", "note is required", Some("note")),
        ),
        (
            at("reassign"),
            json!({"unit": "ZZM", "note": long}),
            (400, "too_long", "at most 5000 characters", Some("note")),
        ),
        (
            at("edit"),
            json!({"category": "pavement"}),
            (422, "missing_field", "reason is required", Some("reason")),
        ),
        (
            at("edit"),
            json!({"reason": "r"}),
            (
                422,
                "nothing_to_change",
                "give a new category, a new geometry, or both",
                None,
            ),
        ),
        (
            at("edit"),
            json!({"reason": "r", "category": " ", "geometry": null}),
            (
                422,
                "nothing_to_change",
                "give a new category, a new geometry, or both",
                None,
            ),
        ),
        (
            at("edit"),
            json!({"reason": "r", "category": 5}),
            (
                400,
                "invalid_type",
                "category must be a string",
                Some("category"),
            ),
        ),
        (
            at("edit"),
            json!({"reason": "r", "geometry": "here"}),
            (
                400,
                "invalid_geometry",
                "geometry must be a GeoJSON geometry object",
                Some("geometry"),
            ),
        ),
        (
            at("edit"),
            json!({"reason": "r", "geometry": {"coordinates": [19.9, 50.0]}}),
            (
                400,
                "invalid_geometry",
                "geometry.type is required",
                Some("geometry.type"),
            ),
        ),
    ];
    for (path, body, (status, code, message, field)) in &cases {
        let got = error_of(app.staff_post(&clerk, path, body).await).await;
        assert_eq!(
            (got.0, got.1.as_str(), got.2.as_str(), got.3.as_deref()),
            (*status, *code, *message, *field),
            "POST {path} {body}"
        );
    }
    let post = |path: String, content_type: &'static str, body: &'static str| {
        app.client
            .post(app.url(&path))
            .header("cookie", &clerk.cookie)
            .header("x-csrf-token", &clerk.csrf)
            .header("content-type", content_type)
            .body(body)
    };
    // The caller first, then the id, then the body, then the report, then the fields.
    let r = app
        .client
        .post(app.url(&at("status")))
        .header("content-type", "application/json")
        .body("{x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = app
        .client
        .post(app.url(&at("status")))
        .header("cookie", &clerk.cookie)
        .header("content-type", "application/json")
        .body("{x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let got = error_of(
        post(
            "/api/v1/staff/reports/abc/status".into(),
            "application/json",
            "{x",
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!((got.0, got.1.as_str()), (400, "invalid_id"));
    let got = error_of(
        post(
            "/api/v1/staff/reports/999999/status".into(),
            "application/json",
            "{x",
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!((got.0, got.1.as_str()), (400, "invalid_json"));
    let got = error_of(
        post(
            "/api/v1/staff/reports/999999/status".into(),
            "text/plain",
            "{}",
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!((got.0, got.1.as_str()), (415, "unsupported_media_type"));
    let got = error_of(
        post(
            "/api/v1/staff/reports/999999/status".into(),
            "application/json",
            "{}",
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!((got.0, got.1.as_str()), (404, "not_found"));
    // Of a member given twice, the last one counts.
    let got = error_of(
        post(
            at("status"),
            "application/json",
            r#"{"status": "acknowledged", "status": 5}"#,
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(
        (got.0, got.1.as_str(), got.2.as_str()),
        (400, "invalid_type", "status must be a string")
    );
    // An empty body is an empty object; unmerge reads nothing from it.
    let got = error_of(
        post(at("status"), "application/json", "")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (got.0, got.1.as_str(), got.3.as_deref()),
        (422, "missing_field", Some("status"))
    );
    let got = error_of(
        post(at("unmerge"), "application/json", "5")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((got.0, got.1.as_str()), (409, "not_merged"));
    let got = error_of(
        post(at("unmerge"), "application/json", "{x")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((got.0, got.1.as_str()), (400, "invalid_json"));

    // Login: missing, blank, mistyped.
    let login_cases: Vec<(Value, Expected)> = vec![
        (
            json!({}),
            (422, "missing_field", "login is required", Some("login")),
        ),
        (
            json!([]),
            (422, "missing_field", "login is required", Some("login")),
        ),
        (
            json!({"login": " ", "password": "p"}),
            (422, "missing_field", "login is required", Some("login")),
        ),
        (
            json!({"login": 5, "password": "p"}),
            (400, "invalid_type", "login must be a string", Some("login")),
        ),
        (
            json!({"login": "clerk@zdmk.example"}),
            (
                422,
                "missing_field",
                "password is required",
                Some("password"),
            ),
        ),
        (
            json!({"login": "clerk@zdmk.example", "password": ""}),
            (
                422,
                "missing_field",
                "password is required",
                Some("password"),
            ),
        ),
        (
            json!({"login": "clerk@zdmk.example", "password": 5}),
            (
                422,
                "missing_field",
                "password is required",
                Some("password"),
            ),
        ),
    ];
    for (body, (status, code, message, field)) in &login_cases {
        let got = error_of(app.post_json("/api/v1/staff/login", body).await).await;
        assert_eq!(
            (got.0, got.1.as_str(), got.2.as_str(), got.3.as_deref()),
            (*status, *code, *message, *field),
            "POST /api/v1/staff/login {body}"
        );
    }
    let got = error_of(
        app.client
            .post(app.url("/api/v1/staff/login"))
            .header("content-type", "application/json")
            .body("")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((got.0, got.1.as_str()), (400, "empty_body"));
    // The login is trimmed.
    let r = app
        .post_json(
            "/api/v1/staff/login",
            &json!({"login": " clerk@zdmk.example ", "password": "a long enough password"}),
        )
        .await;
    assert_eq!(r.status(), 200);
}
