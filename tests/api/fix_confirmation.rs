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
    // With a note (from the page's form) it is open again, the note on its timeline, back in the inbox.
    let r = app
        .client
        .post(&not_fixed)
        .header("accept", "text/html")
        .form(&[("note", "Latarnia znowu nie świeci.")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let p = status_of(&app, id).await;
    assert_eq!(p["status"], "acknowledged");
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
