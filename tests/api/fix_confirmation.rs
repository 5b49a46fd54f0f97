//! "Is it fixed?": the message that a report was resolved asks its reporter and subscribers,
//! with a signed one-tap link for yes and one for no. No reopens it with the resident's note,
//! back in the unit's inbox; yes closes it; no answer in 14 days closes it too.
use std::sync::Arc;

use crate::common::*;
use crate::moderation::{link_in, mail_app};
use serde_json::{json, Value};
use zglos::auth::Role;

async fn status_of(app: &TestApp, id: i64) -> Value {
    app.get_json(&format!("/api/v1/reports/{id}")).await["properties"].clone()
}

#[tokio::test]
async fn the_reporter_answers_is_it_fixed_with_one_tap_no_reopens_yes_closes() {
    let (app, inbox) = mail_app().await;
    let id =
        crate::staff::report_with_contact(&app, "street_lighting", RYNEK, "anna@example.org", "pl")
            .await;
    let clerk = app
        .staff("clerk@zdmk.example", &[Role::UnitStaff], &["ZDMK"])
        .await;
    let resolve = || async {
        let r = app
            .staff_post(
                &clerk,
                &format!("/api/v1/staff/reports/{id}/status"),
                &json!({"status": "resolved", "public_note": "Naprawione."}),
            )
            .await;
        assert_eq!(r.status(), 200);
    };
    resolve().await;
    // The confirmation, then the resolved message with the question.
    let mails = inbox.wait_for(2).await;
    let resolved = mails
        .iter()
        .map(|m| m.text())
        .find(|t| t.contains("Czy problem został usunięty?"))
        .unwrap_or_else(|| panic!("{:?}", mails.iter().map(|m| m.text()).collect::<Vec<_>>()));
    let fixed = link_in(&resolved, "fixed").expect("a yes link");
    let not_fixed = link_in(&resolved, "not_fixed").expect("a no link");

    // No: the page asks what is wrong; without a note nothing happens.
    let page = app
        .client
        .get(&not_fixed)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<textarea") && page.contains("name=\"note\""),
        "{page}"
    );
    // The form takes a photo too (multipart, the camera on a phone).
    assert!(
        page.contains("enctype=\"multipart/form-data\"")
            && page.contains("name=\"photo\" type=\"file\""),
        "{page}"
    );
    let r = app
        .client
        .post(&not_fixed)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["field"], "note");
    assert_eq!(status_of(&app, id).await["status"], "resolved");
    // With a note and a photo (from the page's form) it is open again, the note on its
    // timeline, the photo with the report's own, back in the inbox.
    let photos_before = status_of(&app, id).await["photos"]
        .as_array()
        .unwrap()
        .len();
    let form = reqwest::multipart::Form::new()
        .text("note", "Latarnia znowu nie świeci.")
        .part(
            "photo",
            reqwest::multipart::Part::bytes(crate::moderation::test_jpeg())
                .file_name("still-dark.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        );
    let r = app
        .client
        .post(&not_fixed)
        .header("accept", "text/html")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let p = status_of(&app, id).await;
    assert_eq!(p["status"], "acknowledged");
    assert_eq!(
        p["photos"].as_array().unwrap().len(),
        photos_before + 1,
        "{p}"
    );
    assert!(
        p["timeline"]
            .to_string()
            .contains("Latarnia znowu nie świeci."),
        "{p}"
    );
    let inbox_json: Value = app
        .staff_get(&clerk, "/api/v1/staff/inbox")
        .await
        .json()
        .await
        .unwrap();
    assert!(inbox_json["features"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["id"] == id && f["properties"]["status"] == "acknowledged"));

    // Resolved again; yes closes it, with the confirmation on the timeline.
    resolve().await;
    let r = app.client.post(&fixed).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["changed"], true);
    let p = status_of(&app, id).await;
    assert_eq!(p["status"], "closed");
    assert!(
        p["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "confirmed_fixed"),
        "{p}"
    );
    // Tapping yes again changes nothing.
    let again: Value = app
        .client
        .post(&fixed)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["changed"], false);
}

#[tokio::test]
async fn a_resolved_report_nobody_answers_for_closes_after_fourteen_days() {
    let app = spawn_app().await;
    let clerk = app
        .staff("clerk@zdmk.example", &[Role::UnitStaff], &["ZDMK"])
        .await;
    let mut ids = Vec::new();
    for i in 0..2 {
        let id = app
            .report(&point_report(
                "pothole",
                RYNEK.0 + 0.003 * i as f64,
                RYNEK.1,
                "x",
            ))
            .await["id"]
            .as_i64()
            .unwrap();
        let r = app
            .staff_post(
                &clerk,
                &format!("/api/v1/staff/reports/{id}/status"),
                &json!({"status": "resolved", "public_note": "ok"}),
            )
            .await;
        assert_eq!(r.status(), 200);
        ids.push(id);
    }
    // The first was resolved 15 days ago, the second today.
    sqlx::query("UPDATE reports SET resolved_at = now() - interval '15 days' WHERE id = $1")
        .bind(ids[0])
        .execute(&app.pool)
        .await
        .unwrap();
    let catalogue = zglos::storage::city::load(&app.pool).await.unwrap();
    let engine = Arc::new(zglos::engine::Engine::new(Arc::new(catalogue)));
    zglos::app::sync::load(&app.pool, &engine).await.unwrap();
    let closed = zglos::app::staff::close_unanswered(&app.pool, &engine, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(closed, 1);
    assert_eq!(status_of(&app, ids[0]).await["status"], "closed");
    assert_eq!(status_of(&app, ids[1]).await["status"], "resolved");
    assert_eq!(
        zglos::app::staff::close_unanswered(&app.pool, &engine, chrono::Utc::now())
            .await
            .unwrap(),
        0,
        "once"
    );
}

#[tokio::test]
async fn the_manage_page_stops_and_resumes_updates_and_offers_forgetting_and_withdrawal() {
    let (app, inbox) = mail_app().await;
    let id =
        crate::staff::report_with_contact(&app, "street_lighting", RYNEK, "ewa@example.org", "en")
            .await;
    let confirmation = inbox.wait_for(1).await[0].text();
    let manage = link_in(&confirmation, "manage").expect("a manage link in the confirmation");

    // JSON: what the reporter may do, each a signed link of its own.
    let page = app.get_json_at(&manage).await;
    assert_eq!(page["report_id"], id);
    assert_eq!(
        (page["reporter"].clone(), page["updates"].clone()),
        (json!(true), json!(true))
    );
    for action in ["stop", "forget", "withdraw"] {
        assert!(
            page["actions"][action]
                .as_str()
                .is_some_and(|p| p.starts_with(&format!("/api/v1/links/{action}/{id}?"))),
            "{page}"
        );
    }
    // The HTML page: one form per action, in the browser's language.
    let html = app
        .client
        .get(&manage)
        .header("accept", "text/html")
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for class in ["manage-stop", "manage-forget", "manage-withdraw"] {
        assert!(html.contains(class), "{class} in {html}");
    }
    assert!(html.contains("Stop updates"), "{html}");
    // A forged manage link shows nothing.
    let r = app
        .client
        .get(manage.replace("&s=", "&s=0"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // Stop: the next status change mails nobody; the contact stays.
    let stop = app.url(page["actions"]["stop"].as_str().unwrap());
    let r: Value = app
        .client
        .post(&stop)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (r["changed"].clone(), r["updates"].clone()),
        (json!(true), json!(false))
    );
    let clerk = app
        .staff("clerk@zdmk.example", &[Role::UnitStaff], &["ZDMK"])
        .await;
    let set = |status: &'static str| {
        let (app, clerk) = (&app, &clerk);
        async move {
            let r = app
                .staff_post(
                    clerk,
                    &format!("/api/v1/staff/reports/{id}/status"),
                    &json!({"status": status, "public_note": status}),
                )
                .await;
            assert_eq!(r.status(), 200);
        }
    };
    set("acknowledged").await;
    let queued: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE report_id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(queued, 1, "only the confirmation");
    let contact: Option<String> =
        sqlx::query_scalar("SELECT contact_email FROM reports WHERE id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(contact.as_deref(), Some("ewa@example.org"));

    // The page now offers to resume; resumed, the next change is mailed again.
    let page = app.get_json_at(&manage).await;
    assert_eq!(page["updates"], false);
    assert!(page["actions"].get("stop").is_none());
    let follow = app.url(page["actions"]["follow"].as_str().unwrap());
    let r = app.client.post(&follow).send().await.unwrap();
    assert_eq!(r.status(), 200);
    set("in_progress").await;
    let mails = inbox.wait_for(2).await;
    assert!(mails[1].text().contains("in_progress") || mails[1].text().contains("In progress"));
}
