//! Units that work in their own systems: each unit's delivery channel (webhook, Open311, email)
//! end to end with a real local receiver, a receiver killed mid-delivery, the dead-letter list
//! and its retry, and the unit's signed link to act without an account.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use zglos::auth::Role;

use crate::common::receiver::{Receiver, Request};
use crate::common::*;

/// Sets a unit's channel in the database before the service starts (it reads the units then),
/// as `zglos import-city` does from `units.csv`.
async fn set_channel(db: &TestDb, unit: &str, channel: Value) {
    let pool = zglos::storage::connect(&db.url, 1).await.unwrap();
    sqlx::query("UPDATE units SET delivery = $2 WHERE code = $1")
        .bind(unit)
        .bind(channel)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

/// A street lamp at Rynek: a ZDMK report.
async fn lamp(app: &TestApp) -> i64 {
    app.report(&point_report(
        "street_lighting",
        RYNEK.0,
        RYNEK.1,
        "Latarnia nie świeci",
    ))
    .await["properties"]["id"]
        .as_i64()
        .unwrap()
}

/// The signature as a receiver computes it, with openssl (not the service's own code).
fn openssl_hmac(secret: &str, body: &[u8]) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("openssl")
        .args(["dgst", "-sha256", "-hmac", secret, "-r"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("openssl");
    child.stdin.take().unwrap().write_all(body).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    format!("sha256={}", text.split_whitespace().next().unwrap())
}

/// The dead-letter list as an admin sees it, once it holds one letter (at most 10 s).
async fn dead_letters_once_one_died(app: &TestApp, admin: &Staff) -> Value {
    let mut list = Value::Null;
    for _ in 0..100 {
        list = app
            .staff_get(admin, "/api/v1/staff/dead-letters")
            .await
            .json()
            .await
            .unwrap();
        if list["dead"] == 1 {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no dead letter: {list}")
}

async fn wait_until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn a_webhook_unit_gets_a_signed_cloud_event_for_a_new_report_and_for_each_change() {
    let hook = Receiver::start(|_| Some((204, String::new())));
    let db = TestDb::new().await;
    set_channel(
        &db,
        "ZDMK",
        json!({"channel": "webhook", "url": hook.url("/zglos"), "secret": "s3cret"}),
    )
    .await;
    let app = spawn_app_on(db).await;
    let id = lamp(&app).await;

    let got = hook.wait_for(1).await;
    let created = &got[0];
    assert_eq!(created.method, "POST");
    assert_eq!(created.target, "/zglos");
    assert!(
        created
            .header("content-type")
            .unwrap()
            .starts_with("application/cloudevents+json"),
        "{:?}",
        created.headers
    );
    assert_eq!(
        created.header("zglos-signature").unwrap(),
        openssl_hmac("s3cret", &created.body)
    );
    let event = created.json();
    assert_eq!(event["specversion"], "1.0");
    assert_eq!(event["type"], "pl.zglos.report.created");
    assert_eq!(event["subject"], format!("reports/{id}"));
    assert_eq!(event["source"], app.address);
    assert_eq!(event["data"]["id"], id);
    assert_eq!(event["data"]["unit"], "ZDMK");
    assert_eq!(event["data"]["url"], format!("{}/r/{id}", app.address));
    assert!(event["data"]["fix_due"].is_string(), "{event}");
    assert_eq!(event["data"]["geometry"]["type"], "Point");
    // No personal data leaves the city.
    assert!(!created.text().contains("contact"), "{}", created.text());

    // A status change: one more event, with the public reply.
    let clerk = app
        .staff("clerk@zdmk.example", &[Role::UnitStaff], &["ZDMK"])
        .await;
    let r = app
        .staff_post(
            &clerk,
            &format!("/api/v1/staff/reports/{id}/status"),
            &json!({"status": "planned", "public_note": "Ekipa w drodze."}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let got = hook.wait_for(2).await;
    let changed = got[1].json();
    assert_eq!(changed["type"], "pl.zglos.report.status_changed");
    assert_eq!(changed["data"]["status"], "planned");
    assert_eq!(changed["data"]["note"], "Ekipa w drodze.");
    assert_ne!(changed["id"], event["id"]);

    // "Not ours": the report leaves ZDMK (which hears that it moved) for ZZM (an inbox unit).
    let r = app
        .staff_post(
            &clerk,
            &format!("/api/v1/staff/reports/{id}/status"),
            &json!({"status": "rejected", "public_note": "To zieleń.", "unit": "ZZM"}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let got = hook.wait_for(3).await;
    assert_eq!(got[2].json()["type"], "pl.zglos.report.moved");
    assert_eq!(got[2].json()["data"]["unit"], "ZZM");
    // Each delivery is marked delivered (the mark follows the receiver's answer), on its first
    // attempt, and nothing more went out.
    wait_until("the three deliveries to be marked", || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM deliveries WHERE report_id = $1 AND delivered_at IS NOT NULL AND attempts = 1",
        )
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
            == 3
    })
    .await;
    assert_eq!(hook.requests().len(), 3);
}

#[tokio::test]
async fn a_receiver_killed_mid_delivery_gets_the_same_event_after_it_returns() {
    // The first receiver takes the request and dies before it answers.
    let hang = Receiver::start(|_| None);
    let db = TestDb::new().await;
    set_channel(
        &db,
        "ZDMK",
        json!({"channel": "webhook", "url": hang.url("/hook"), "secret": "k"}),
    )
    .await;
    let app = spawn_app_on(db).await;
    let id = lamp(&app).await;
    let first = hang.wait_for(1).await[0].json();
    let addr = hang.kill().await;

    // The attempt failed; the event waits in the table.
    wait_until("the failed attempt to be recorded", || async {
        sqlx::query_scalar::<_, i32>("SELECT attempts FROM deliveries WHERE report_id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap()
            >= 1
    })
    .await;
    let pending: Option<String> = sqlx::query_scalar(
        "SELECT last_error FROM deliveries WHERE report_id = $1 AND delivered_at IS NULL",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(pending.is_some());

    // Back on the same port: it gets the event again, with the same id, and keeps it once.
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let kept = seen.clone();
    let back = Receiver::start_on(addr, move |r: &Request| {
        let id = r.json()["id"].as_str().unwrap().to_owned();
        let mut seen = kept.lock().unwrap();
        if !seen.contains(&id) {
            seen.push(id);
        }
        Some((200, "{}".into()))
    });
    let again = back.wait_for(1).await[0].json();
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again, first, "the same bytes on every attempt");
    wait_until("the delivery to be marked", || async {
        sqlx::query_scalar::<_, bool>(
            "SELECT delivered_at IS NOT NULL FROM deliveries WHERE report_id = $1",
        )
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
    })
    .await;
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_delivery_that_keeps_failing_lands_in_the_dead_letter_list_and_an_admin_retries_it() {
    let failing = Arc::new(Mutex::new(true));
    let state = failing.clone();
    let hook = Receiver::start(move |_| {
        if *state.lock().unwrap() {
            Some((503, "{\"error\": \"maintenance\"}".into()))
        } else {
            Some((200, "{}".into()))
        }
    });
    let db = TestDb::new().await;
    set_channel(
        &db,
        "ZDMK",
        json!({"channel": "webhook", "url": hook.url("/hook"), "secret": "k"}),
    )
    .await;
    let app = spawn_app_with(db, |url| {
        let mut c = config(url);
        c.delivery.max_attempts = 3;
        c.delivery.retry_base_ms = 100;
        c
    })
    .await;
    let id = lamp(&app).await;
    hook.wait_for(3).await;

    let admin = app.staff("admin@krakow.example", &[Role::Admin], &[]).await;
    let list = dead_letters_once_one_died(&app, &admin).await;
    let letter = &list["dead_letters"][0];
    assert_eq!(letter["kind"], "webhook", "{list}");
    assert_eq!(letter["report_id"], id);
    assert_eq!(letter["target"], "ZDMK");
    assert_eq!(letter["attempts"], 3);
    assert!(
        letter["last_error"].as_str().unwrap().contains("503"),
        "{letter}"
    );
    // Given up: no fourth attempt.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(hook.requests().len(), 3);

    // A clerk may not see or retry it; the admin needs the CSRF token.
    let clerk = app
        .staff("clerk@zdmk.example", &[Role::UnitStaff], &["ZDMK"])
        .await;
    let r = app.staff_get(&clerk, "/api/v1/staff/dead-letters").await;
    assert_eq!(r.status(), 403);
    let path = format!(
        "/api/v1/staff/dead-letters/webhook/{}/retry",
        letter["id"].as_i64().unwrap()
    );
    let r = app
        .client
        .post(app.url(&path))
        .header("cookie", &admin.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    *failing.lock().unwrap() = false;
    let r = app.staff_post(&admin, &path, &json!({})).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    hook.wait_for(4).await;
    wait_until("the list to empty", || async {
        let list: Value = app
            .staff_get(&admin, "/api/v1/staff/dead-letters")
            .await
            .json()
            .await
            .unwrap();
        list["dead"] == 0 && list["pending"] == 0
    })
    .await;
    // Retried once: a second retry finds nothing to do.
    let r = app.staff_post(&admin, &path, &json!({})).await;
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test]
async fn a_receiver_that_refuses_an_event_for_good_sends_it_to_the_dead_letters_at_once() {
    let hook = Receiver::start(|_| Some((410, "{\"error\": \"gone\"}".into())));
    let db = TestDb::new().await;
    set_channel(
        &db,
        "ZDMK",
        json!({"channel": "webhook", "url": hook.url("/old"), "secret": "k"}),
    )
    .await;
    let app = spawn_app_on(db).await;
    let id = lamp(&app).await;
    hook.wait_for(1).await;
    wait_until("the delivery to die", || async {
        sqlx::query_scalar::<_, bool>(
            "SELECT dead_at IS NOT NULL FROM deliveries WHERE report_id = $1",
        )
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(hook.requests().len(), 1);
}

#[tokio::test]
async fn mail_that_cannot_be_sent_lands_in_the_dead_letter_list_and_goes_once_retried() {
    // A port with nothing on it yet: the mail server is down.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = spawn_app_with(TestDb::new().await, |url| {
        let mut c = config(url);
        c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        c.delivery.max_attempts = 2;
        c.delivery.retry_base_ms = 100;
        c
    })
    .await;
    let id =
        crate::staff::report_with_contact(&app, "pothole", RYNEK, "ola@example.org", "pl").await;
    let admin = app.staff("admin@krakow.example", &[Role::Admin], &[]).await;
    let list = dead_letters_once_one_died(&app, &admin).await;
    let letter = &list["dead_letters"][0];
    assert_eq!(letter["kind"], "mail", "{list}");
    assert_eq!(letter["report_id"], id);
    assert_eq!(letter["target"], "ola@example.org");

    let smtp = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let inbox = crate::common::smtp::serve(smtp);
    let path = format!(
        "/api/v1/staff/dead-letters/mail/{}/retry",
        letter["id"].as_i64().unwrap()
    );
    let r = app.staff_post(&admin, &path, &json!({})).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let mails = inbox.wait_for(1).await;
    assert_eq!(mails[0].to, vec!["ola@example.org".to_owned()]);
    assert!(mails[0].text().contains(&format!("#{id}")));
}

#[tokio::test]
async fn an_email_unit_is_mailed_each_new_report_and_acts_on_it_through_the_signed_link() {
    let smtp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let smtp_url = format!("smtp://127.0.0.1:{}", smtp.local_addr().unwrap().port());
    let inbox = crate::common::smtp::serve(smtp);
    let db = TestDb::new().await;
    set_channel(
        &db,
        "ZDMK",
        json!({"channel": "email", "to": "dyspozytor@zdmk.example"}),
    )
    .await;
    let app = spawn_app_with(db, |url| zglos::config::Config {
        smtp_url: Some(smtp_url.clone()),
        ..config(url)
    })
    .await;
    let id = lamp(&app).await;
    let mails = inbox.wait_for(1).await;
    let mail = mails
        .iter()
        .find(|m| m.to == vec!["dyspozytor@zdmk.example".to_owned()])
        .expect("the unit's mail");
    let text = mail.text();
    assert!(text.contains(&format!("#{id}")), "{text}");
    assert!(text.contains("Latarnia nie świeci"), "{text}");
    assert!(text.contains("Niedziałająca latarnia"), "{text}");
    assert!(
        text.contains("Rynek Główny") || text.contains("Stare Miasto"),
        "{text}"
    );
    let link = text
        .split_whitespace()
        .find(|w| w.contains("/api/v1/unit-links/"))
        .expect("the signed link")
        .to_owned();
    let path = link.strip_prefix(&app.address).expect("an absolute link");

    // The GET changes nothing and says what the unit may do.
    let shown = app.get_json(path).await;
    assert_eq!(shown["report_id"], id);
    assert_eq!(shown["status"], "new");
    assert!(shown["allowed"]
        .as_array()
        .unwrap()
        .contains(&json!("in_progress")));
    let html = app
        .client
        .get(app.url(path))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<form method=\"post\""), "{html}");

    // A link with another signature, or for another report, does nothing.
    let forged = path.replace("&s=", "&s=00");
    let r = app
        .client
        .post(app.url(&forged))
        .json(&json!({"status": "in_progress", "public_note": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let other = path.replace(
        &format!("/unit-links/{id}?"),
        &format!("/unit-links/{}?", id + 1),
    );
    let r = app
        .client
        .post(app.url(&other))
        .json(&json!({"status": "in_progress", "public_note": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // A reply is required: the reporter is sent it.
    let r = app
        .client
        .post(app.url(path))
        .json(&json!({"status": "in_progress"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["field"], "public_note");

    // The page's form sets the status, as the unit.
    let r = app
        .client
        .post(app.url(path))
        .header("accept", "text/html")
        .form(&[
            ("status", "in_progress"),
            ("public_note", "Zlecone serwisowi."),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let public = app.get_json(&format!("/api/v1/reports/{id}")).await;
    assert_eq!(public["properties"]["status"], "in_progress");
    assert!(public["properties"]["timeline"]
        .to_string()
        .contains("Zlecone serwisowi."));
    let actor: String = sqlx::query_scalar(
        "SELECT actor FROM audit_log WHERE report_id = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(actor, "system:ZDMK (mail link)");

    // Moved to another unit, the link no longer gives a say.
    let admin = app.staff("admin@krakow.example", &[Role::Admin], &[]).await;
    let r = app
        .staff_post(
            &admin,
            &format!("/api/v1/staff/reports/{id}/reassign"),
            &json!({"unit": "ZZM", "note": "zieleń"}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = app
        .client
        .post(app.url(path))
        .json(&json!({"status": "resolved", "public_note": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

/// A unit's own Open311 endpoint: it takes requests, gives ids, and reports them back as the
/// test sets them.
struct Endpoint {
    receiver: Receiver,
    closed: Arc<Mutex<Option<String>>>,
}

fn open311_endpoint() -> Endpoint {
    let closed: Arc<Mutex<Option<String>>> = Arc::default();
    let state = closed.clone();
    let receiver = Receiver::start(move |r: &Request| {
        if r.method == "POST" && r.target == "/v2/requests.json" {
            let form = r.form();
            if !form.iter().any(|(k, v)| k == "api_key" && v == "unit-key") {
                return Some((403, r#"[{"code":403,"description":"bad api_key"}]"#.into()));
            }
            return Some((
                201,
                r#"[{"service_request_id":"ZD-1001","service_notice":""}]"#.into(),
            ));
        }
        if r.method == "GET" && r.target.starts_with("/v2/requests.json?") {
            let status = match &*state.lock().unwrap() {
                Some(notes) => {
                    json!({"service_request_id": "ZD-1001", "status": "closed", "status_notes": notes})
                }
                None => json!({"service_request_id": "ZD-1001", "status": "open"}),
            };
            return Some((200, json!([status]).to_string()));
        }
        Some((404, "[]".into()))
    });
    Endpoint { receiver, closed }
}

#[tokio::test]
async fn an_open311_unit_gets_the_report_on_its_endpoint_and_its_closing_is_read_back() {
    let endpoint = open311_endpoint();
    let db = TestDb::new().await;
    set_channel(
        &db,
        "ZDMK",
        json!({"channel": "open311", "url": endpoint.receiver.url("/v2"), "api_key": "unit-key",
               "services": {"street_lighting": "LAMP-7"}}),
    )
    .await;
    let app = spawn_app_on(db).await;
    let id =
        crate::staff::report_with_contact(&app, "street_lighting", RYNEK, "anna@example.org", "pl")
            .await;
    let posted = endpoint.receiver.wait_for(1).await;
    let form = posted[0].form();
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{k} in {form:?}"))
    };
    assert_eq!(get("service_code"), "LAMP-7");
    assert_eq!(get("attribute[zglos_id]"), id.to_string());
    assert!((get("lat").parse::<f64>().unwrap() - RYNEK.1).abs() < 1e-6);
    assert!((get("long").parse::<f64>().unwrap() - RYNEK.0).abs() < 1e-6);
    assert!(!form.iter().any(|(k, _)| k == "email"), "no personal data");

    // The id it returned is kept.
    wait_until("the id to be stored", || async {
        sqlx::query_scalar::<_, Option<String>>(
            "SELECT external_id FROM unit_requests WHERE report_id = $1",
        )
        .bind(id)
        .fetch_optional(&app.pool)
        .await
        .unwrap()
        .flatten()
            == Some("ZD-1001".into())
    })
    .await;
    // Polled while open: nothing changes.
    let polled = endpoint
        .receiver
        .wait_for(2)
        .await
        .into_iter()
        .filter(|r| r.method == "GET")
        .count();
    assert!(polled >= 1);
    let public = app.get_json(&format!("/api/v1/reports/{id}")).await;
    assert_eq!(public["properties"]["status"], "new");

    // Closed in the unit's system: resolved here, with its notes as the public reply.
    *endpoint.closed.lock().unwrap() = Some("Wymieniono oprawę.".into());
    wait_until("the report to be resolved", || async {
        app.get_json(&format!("/api/v1/reports/{id}")).await["properties"]["status"] == "resolved"
    })
    .await;
    let public = app.get_json(&format!("/api/v1/reports/{id}")).await;
    assert!(public["properties"]["timeline"]
        .to_string()
        .contains("Wymieniono oprawę."));
    // Applied once, though the endpoint keeps saying so.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let events: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM report_events WHERE report_id = $1 AND status = 'resolved'",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(events, 1);
}

#[tokio::test]
async fn a_city_pack_names_the_channels_and_a_bad_one_is_refused_naming_its_column() {
    let db = TestDb::empty().await;
    let pack = twin_city_copy("delivery-ok", |dir| {
        std::fs::write(
            dir.join("units.csv"),
            "code,name,handles,contact,sources,delivery,delivery_to,delivery_secret,delivery_services\n\
             CLEAN,Cleaning company,Streets,,,webhook,https://clean.example/hook,s3cret,\n\
             GUARD,Market guard,Market square,,,email,guard@example.org,,\n\
             EAST,East district office,Everything in the east,,,open311,http://east.example/v2,k,litter=12\n\
             DESK,City desk,Anything else,,,,,,\n",
        )
        .unwrap();
    });
    let (ok, err) = import_city(&pack, &db.url);
    assert!(ok, "{err}");
    let pool = zglos::storage::connect(&db.url, 1).await.unwrap();
    let channels: Vec<(String, Value)> =
        sqlx::query_as("SELECT code, delivery FROM units ORDER BY code")
            .fetch_all(&pool)
            .await
            .unwrap();
    let of = |c: &str| channels.iter().find(|(u, _)| u == c).unwrap().1.clone();
    assert_eq!(of("CLEAN")["channel"], "webhook");
    assert_eq!(of("GUARD")["to"], "guard@example.org");
    assert_eq!(of("EAST")["services"]["litter"], "12");
    assert_eq!(of("DESK")["channel"], "inbox");
    pool.close().await;

    let bad = twin_city_copy("delivery-bad", |dir| {
        std::fs::write(
            dir.join("units.csv"),
            "code,name,handles,contact,sources,delivery,delivery_to,delivery_secret\n\
             CLEAN,Cleaning company,Streets,,,webhook,https://clean.example/hook,env:ZGLOS_TEST_UNSET_SECRET\n\
             GUARD,Market guard,Market square,,,,,\nEAST,East,E,,,,,\nDESK,Desk,D,,,,,\n",
        )
        .unwrap();
    });
    let (ok, err) = import_city(&bad, &TestDb::empty().await.url);
    assert!(!ok);
    assert!(
        err.contains("units.csv: row 2 (CLEAN): delivery_secret")
            && err.contains("ZGLOS_TEST_UNSET_SECRET"),
        "{err}"
    );
    let bad = twin_city_copy("delivery-fax", |dir| {
        std::fs::write(
            dir.join("units.csv"),
            "code,name,handles,contact,sources,delivery\n\
             CLEAN,Cleaning company,Streets,,,fax\nGUARD,G,M,,,\nEAST,E,E,,,\nDESK,D,D,,,\n",
        )
        .unwrap();
    });
    let (ok, err) = import_city(&bad, &TestDb::empty().await.url);
    assert!(!ok);
    assert!(
        err.contains("row 2 (CLEAN): delivery: unknown delivery channel \"fax\""),
        "{err}"
    );
}
