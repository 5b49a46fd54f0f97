//! Inputs found by fuzzing the service against its OpenAPI document: each is a 4xx with the JSON
//! error body, never a 500.
use crate::common::*;
use serde_json::{json, Value};
use zglos::auth::Role;

async fn assert_4xx(r: reqwest::Response, what: &str) -> Value {
    let status = r.status();
    assert!(status.is_client_error(), "{what}: {status}");
    let e: Value = r.json().await.unwrap();
    assert!(e["error"]["code"].is_string(), "{what}: {e}");
    e
}

#[tokio::test]
async fn text_with_a_nul_character_is_refused_not_a_server_error() {
    let app = spawn_app().await;
    let admin = app.staff("admin@x.example", &[Role::Admin], &[]).await;
    let id = app
        .report(&point_report("pothole", RYNEK.0, RYNEK.1, "Hole"))
        .await["properties"]["id"]
        .as_i64()
        .unwrap();
    let r = app
        .staff_post(
            &admin,
            &format!("/api/v1/staff/reports/{id}/status"),
            &json!({"status": "acknowledged", "public_note": "Seen\u{0}here"}),
        )
        .await;
    let e = assert_4xx(r, "public_note").await;
    assert_eq!(e["error"]["code"], "invalid_character");
    assert_eq!(e["error"]["field"], "public_note");
    let r = app
        .post_json(
            "/api/v1/reports",
            &point_report("pothole", RYNEK.0, RYNEK.1, "Hole\u{0}"),
        )
        .await;
    let e = assert_4xx(r, "description").await;
    assert_eq!(e["error"]["field"], "properties.description");
    let mut body = point_report("pothole", RYNEK.0, RYNEK.1, "Hole");
    body["properties"]["contact"] = json!({"name": "A\u{0}B"});
    assert_4xx(app.post_json("/api/v1/reports", &body).await, "name").await;
    for email in ["a\u{0}b@example.org", "a@exa\u{0}mple.org"] {
        let r = app
            .post_json(
                &format!("/api/v1/reports/{id}/subscribe"),
                &json!({ "email": email }),
            )
            .await;
        assert_4xx(r, "subscribe email").await;
    }
    let key = zglos::auth::add_api_key(&app.pool, "app", "open311", None)
        .await
        .unwrap();
    let r = app
        .client
        .post(app.url("/open311/v2/requests.json"))
        .form(&[
            ("api_key", key.as_str()),
            ("service_code", "pothole"),
            ("lat", "50.0617"),
            ("long", "19.9373"),
            ("description", "Hole\u{0}"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM reports")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
}
