//! The service's edge: rate limits on anonymous writes, trusted proxies, security headers, CORS,
//! request timeouts, body limits, the sweeper, and XML that stays valid.
use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::{json, Value};
use zglos::auth::Role;
use zglos::config::EdgeArgs;

use crate::common::{
    config, offset, point_report, spawn_app, spawn_app_with, TestApp, TestDb, RYNEK,
};

async fn spawn_with(change: impl FnOnce(&mut EdgeArgs) + Send + 'static) -> TestApp {
    spawn_app_with(TestDb::new().await, move |url| {
        let mut c = config(url);
        change(&mut c.edge);
        c
    })
    .await
}

/// Small limits: `burst` writes at once from an address, then one an hour.
fn small(burst: u32) -> impl FnOnce(&mut EdgeArgs) + Send + 'static {
    move |e: &mut EdgeArgs| {
        e.write_burst = burst;
        e.write_per_hour = 1;
    }
}

fn report_at(i: usize) -> Value {
    let (lon, lat) = offset(RYNEK.0, RYNEK.1, 200.0 * i as f64, 0.0);
    point_report("pothole", lon, lat, &format!("Pothole number {i}"))
}

fn with_email(mut report: Value, email: &str) -> Value {
    report["properties"]["contact"] = json!({ "email": email });
    report
}

async fn post_from(
    app: &TestApp,
    path: &str,
    body: &Value,
    forwarded: Option<&str>,
) -> reqwest::Response {
    let mut r = app.client.post(app.url(path)).json(body);
    if let Some(f) = forwarded {
        r = r.header("x-forwarded-for", f);
    }
    r.send().await.unwrap()
}

async fn assert_limited(r: reqwest::Response, what: &str) -> (HeaderMap, Value) {
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    assert_eq!(status, 429, "{what}: {text}");
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry >= 1, "{what}: Retry-After {retry}");
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    (headers, body)
}

#[tokio::test]
async fn a_script_filing_reports_is_stopped_after_the_burst_with_429_and_retry_after() {
    let app = spawn_with(small(3)).await;
    for i in 0..3 {
        app.report(&report_at(i)).await;
    }
    let r = app.post_json("/api/v1/reports", &report_at(3)).await;
    let (headers, body) = assert_limited(r, "the fourth report").await;
    // One token an hour: the next one is about an hour away.
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((3500..=3600).contains(&retry), "{retry}");
    assert_eq!(body["error"]["code"], "rate_limited");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("address") && message.contains(&format!("{retry} s")),
        "{message}"
    );
    assert_eq!(body["error"]["detail"]["limit"], "address");
    // Reads and tiles are never limited.
    for path in [
        "/api/v1/reports",
        "/tiles/reports/14/9100/5556.mvt",
        "/tiles/reports.json",
    ] {
        assert_eq!(app.get(path).await.status(), 200, "{path}");
    }
}

#[tokio::test]
async fn every_kind_of_anonymous_write_counts_against_the_address() {
    let app = spawn_with(small(1)).await;
    let report = app.report(&report_at(0)).await;
    let id = report["id"].as_i64().unwrap();
    let email = json!({"email": "ewa@example.org"});
    for (path, body) in [
        ("/api/v1/reports".to_owned(), report_at(1)),
        (format!("/api/v1/reports/{id}/support"), json!({})),
        (format!("/api/v1/reports/{id}/subscribe"), email.clone()),
        (
            format!("/api/v1/reports/{id}/reopen"),
            json!({"email": "ewa@example.org", "note": "still there"}),
        ),
    ] {
        let (_, body) = assert_limited(app.post_json(&path, &body).await, &path).await;
        assert_eq!(body["error"]["code"], "rate_limited", "{path}");
    }
    let photo = app
        .client
        .post(app.url("/api/v1/photos"))
        .header("content-type", "image/jpeg")
        .body(vec![0xffu8, 0xd8, 0xff])
        .send()
        .await
        .unwrap();
    let (_, body) = assert_limited(photo, "a photo").await;
    assert_eq!(body["error"]["code"], "rate_limited");

    // Open311 answers with its own error list, in the format asked for.
    let key = zglos::auth::add_api_key(&app.pool, "app", "open311", None)
        .await
        .unwrap();
    let (lat, lon) = (RYNEK.1.to_string(), RYNEK.0.to_string());
    let form = [
        ("api_key", key.as_str()),
        ("service_code", "pothole"),
        ("lat", lat.as_str()),
        ("long", lon.as_str()),
    ];
    let r = app
        .client
        .post(app.url("/open311/v2/requests.json"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let (_, body) = assert_limited(r, "Open311 JSON").await;
    assert_eq!(body[0]["code"], 429);
    assert!(
        body[0]["description"]
            .as_str()
            .unwrap()
            .contains("try again in"),
        "{body}"
    );
    let r = app
        .client
        .post(app.url("/open311/v2/requests.xml"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    let xml = r.text().await.unwrap();
    assert!(xml.contains("<code>429</code>"), "{xml}");
}

#[tokio::test]
async fn one_contact_is_limited_whatever_address_it_writes_from() {
    let app = spawn_with(|e| {
        e.trusted_proxies = zglos::domain::net::parse_cidrs("127.0.0.0/8").unwrap();
        e.contact_per_hour = 2;
    })
    .await;
    for (i, client) in ["198.51.100.1", "198.51.100.2"].iter().enumerate() {
        let r = post_from(
            &app,
            "/api/v1/reports",
            &with_email(report_at(i), "anna@example.org"),
            Some(client),
        )
        .await;
        assert_eq!(r.status(), 201);
    }
    let r = post_from(
        &app,
        "/api/v1/reports",
        &with_email(report_at(2), "Anna@Example.org"),
        Some("198.51.100.3"),
    )
    .await;
    let (_, body) = assert_limited(r, "a third report for the same e-mail").await;
    assert_eq!(body["error"]["detail"]["limit"], "contact");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("e-mail"));
    // Another contact from the same address is fine.
    let r = post_from(
        &app,
        "/api/v1/reports",
        &with_email(report_at(3), "jan@example.org"),
        Some("198.51.100.3"),
    )
    .await;
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn staff_with_a_session_or_an_api_key_are_not_limited() {
    let app = spawn_with(small(1)).await;
    let clerk = app
        .staff("clerk@zdmk.example", &[Role::UnitStaff], &["ZDMK"])
        .await;
    for i in 0..3 {
        let r = app
            .client
            .post(app.url("/api/v1/reports"))
            .header("cookie", &clerk.cookie)
            .json(&report_at(i))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "staff report {i}");
    }
    let key = zglos::auth::add_api_key(&app.pool, "tool", "analyst", None)
        .await
        .unwrap();
    for i in 3..6 {
        let r = app
            .client
            .post(app.url("/api/v1/reports"))
            .bearer_auth(&key)
            .json(&report_at(i))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "API key report {i}");
    }
    // A resident from the same address still has their own allowance, then is stopped.
    app.report(&report_at(6)).await;
    assert_limited(
        app.post_json("/api/v1/reports", &report_at(7)).await,
        "resident",
    )
    .await;
    // A cookie that is no session counts as anonymous.
    let r = app
        .client
        .post(app.url("/api/v1/reports"))
        .header("cookie", "zglos_session=forged")
        .json(&report_at(8))
        .send()
        .await
        .unwrap();
    assert_limited(r, "forged cookie").await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_allowance() {
    let app = spawn_with(|e| {
        small(1)(e);
        e.trusted_proxies = zglos::domain::net::parse_cidrs("127.0.0.0/8, ::1").unwrap();
    })
    .await;
    let r = post_from(&app, "/api/v1/reports", &report_at(0), Some("198.51.100.7")).await;
    assert_eq!(r.status(), 201);
    // A client that forges the left of the header is still the address the proxy saw.
    let r = post_from(
        &app,
        "/api/v1/reports",
        &report_at(1),
        Some("203.0.113.50, 198.51.100.7"),
    )
    .await;
    assert_limited(r, "the same client, forged entry").await;
    let r = post_from(&app, "/api/v1/reports", &report_at(2), Some("198.51.100.8")).await;
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn without_trusted_proxies_x_forwarded_for_is_ignored() {
    let app = spawn_with(small(1)).await;
    let r = post_from(&app, "/api/v1/reports", &report_at(0), Some("198.51.100.7")).await;
    assert_eq!(r.status(), 201);
    let r = post_from(&app, "/api/v1/reports", &report_at(1), Some("198.51.100.8")).await;
    assert_limited(r, "a forged X-Forwarded-For").await;
}

#[tokio::test]
async fn the_login_throttle_counts_failures_by_the_forwarded_client_address() {
    let app = spawn_with(|e| {
        e.trusted_proxies = zglos::domain::net::parse_cidrs("127.0.0.0/8").unwrap();
    })
    .await;
    let login = |who: String, from: &'static str| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/api/v1/staff/login"))
                .header("x-forwarded-for", from)
                .json(&json!({"login": who, "password": "wrong password"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // 20 failures from one client address (over several accounts) lock that address only.
    for i in 0..20 {
        assert_eq!(
            login(format!("nobody{}@example.org", i / 4), "198.51.100.20").await,
            401
        );
    }
    assert_eq!(
        login("someone@example.org".into(), "198.51.100.20").await,
        429
    );
    assert_eq!(
        login("someone@example.org".into(), "198.51.100.21").await,
        401
    );
    let ips: Vec<String> = sqlx::query_scalar("SELECT DISTINCT ip FROM login_failures ORDER BY ip")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(ips, ["198.51.100.20", "198.51.100.21"]);
}

#[tokio::test]
async fn web_pages_carry_the_security_headers_and_api_answers_nosniff() {
    let app = spawn_app().await;
    let id = app.report(&report_at(0)).await["id"].as_i64().unwrap();
    for path in [
        "/".to_owned(),
        "/staff".into(),
        "/stats".into(),
        format!("/r/{id}"),
    ] {
        let r = app.get(&path).await;
        assert_eq!(r.status(), 200, "{path}");
        let h = r.headers();
        assert!(
            h["content-type"].to_str().unwrap().starts_with("text/html"),
            "{path}"
        );
        let csp = h["content-security-policy"].to_str().unwrap();
        for part in [
            "default-src 'self'",
            "script-src 'self';",
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "connect-src 'self'",
        ] {
            assert!(csp.contains(part), "{path}: {part} not in {csp}");
        }
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{csp}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(
            h["referrer-policy"], "strict-origin-when-cross-origin",
            "{path}"
        );
        let pp = h["permissions-policy"].to_str().unwrap();
        assert!(
            pp.contains("geolocation=(self)") && pp.contains("microphone=()"),
            "{pp}"
        );
    }
    for path in [
        "/api/v1/reports",
        "/api/v1/nothing",
        "/tiles/reports.json",
        "/js/app.js",
    ] {
        let r = app.get(path).await;
        assert_eq!(r.headers()["x-content-type-options"], "nosniff", "{path}");
        assert!(
            !r.headers().contains_key("content-security-policy"),
            "{path}"
        );
    }
    let r = app.post_json("/api/v1/reports", &json!({})).await;
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
}

async fn preflight(app: &TestApp, path: &str, method: &str) -> reqwest::Response {
    app.client
        .request(reqwest::Method::OPTIONS, app.url(path))
        .header("origin", "https://elsewhere.example")
        .header("access-control-request-method", method)
        .header("access-control-request-headers", "accept")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn public_reads_allow_any_origin_and_writes_and_staff_routes_never_do() {
    let app = spawn_app().await;
    let id = app.report(&report_at(0)).await["id"].as_i64().unwrap();
    let get = |path: String| {
        let app = &app;
        async move {
            app.client
                .get(app.url(&path))
                .header("origin", "https://elsewhere.example")
                .send()
                .await
                .unwrap()
        }
    };
    for path in [
        "/api/v1/reports".to_owned(),
        format!("/api/v1/reports/{id}"),
        "/tiles/reports.json".into(),
        "/tiles/reports/14/9100/5556.mvt".into(),
        "/tiles/districts.json".into(),
        "/ogc/collections".into(),
        "/open311/v2/services.json".into(),
        format!("/open311/v2/requests/{id}.xml"),
        "/api/v1/photos/00000000000000000000000000000000".into(),
        "/api/v1/categories".into(),
    ] {
        let r = get(path.clone()).await;
        assert_eq!(
            r.headers()
                .get("access-control-allow-origin")
                .map(|v| v.to_str().unwrap()),
            Some("*"),
            "{path}: {}",
            r.status()
        );
        let p = preflight(&app, &path, "GET").await;
        assert_eq!(p.status(), 204, "preflight {path}");
        assert_eq!(
            p.headers()["access-control-allow-origin"],
            "*",
            "preflight {path}"
        );
        assert!(p.headers()["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("GET"));
    }
    // Staff routes and the heatmap: no CORS headers, on the answer or the preflight.
    for path in [
        "/api/v1/staff/me",
        "/api/v1/staff/inbox",
        "/tiles/heatmap/14/9100/5556.mvt",
        "/api/v1/stats",
    ] {
        let r = get(path.to_owned()).await;
        assert!(
            !r.headers().contains_key("access-control-allow-origin"),
            "{path}"
        );
        let p = preflight(&app, path, "GET").await;
        assert!(
            !p.headers()
                .keys()
                .any(|k| k.as_str().starts_with("access-control-")),
            "preflight {path}"
        );
    }
    // Writes: not on the answer, and a preflight for them allows nothing.
    for path in [
        "/api/v1/reports".to_owned(),
        format!("/api/v1/reports/{id}/support"),
        "/api/v1/photos".into(),
        "/open311/v2/requests.json".into(),
        "/api/v1/staff/login".into(),
    ] {
        let p = preflight(&app, &path, "POST").await;
        assert!(
            !p.headers()
                .keys()
                .any(|k| k.as_str().starts_with("access-control-")),
            "preflight POST {path}"
        );
    }
    let r = app
        .client
        .post(app.url("/api/v1/reports"))
        .header("origin", "https://elsewhere.example")
        .json(&report_at(1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert!(!r.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn a_request_over_the_timeout_gets_503_with_the_json_body_but_exports_are_not_cut() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_with(|e| e.request_timeout = 1.0).await;
    // A write whose body trickles in: the handler is still waiting for it when the limit hits.
    let body = serde_json::to_vec(&report_at(1)).unwrap();
    let host = app.address.trim_start_matches("http://").to_owned();
    let mut socket = tokio::net::TcpStream::connect(&host).await.unwrap();
    let head = format!(
        "POST /api/v1/reports HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(&body[..10]).await.unwrap();
    let started = std::time::Instant::now();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), socket.read_to_end(&mut answer)).await;
    assert!(
        read.is_ok(),
        "the service answered before the body was complete"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    let answer = String::from_utf8_lossy(&answer).to_string();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after:"),
        "{answer}"
    );
    let json = &answer[answer.find("\r\n\r\n").unwrap() + 4..];
    let json = json.trim_start_matches(|c: char| c.is_ascii_hexdigit() || c.is_whitespace());
    assert!(json.contains("\"code\":\"timeout\""), "{answer}");
    // Nothing half-stored: the request never got a 201, and no report exists.
    let list = app.get_json("/api/v1/reports").await;
    assert_eq!(list["features"].as_array().map(Vec::len), Some(0), "{list}");
    // An export of more reports than fit in the limit still streams to its end.
    for i in 0..3 {
        app.report(&report_at(i + 2)).await;
    }
    let r = app.get("/api/v1/exports/reports.geojson").await;
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let parsed: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(parsed["features"].as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn bodies_over_their_limit_get_413_with_the_error_body() {
    let app = spawn_app().await;
    let id = app.report(&report_at(0)).await["id"].as_i64().unwrap();
    // JSON writes: 256 KB.
    let big = "x".repeat(300 * 1024);
    for path in [
        "/api/v1/reports".to_owned(),
        format!("/api/v1/reports/{id}/support"),
        format!("/api/v1/reports/{id}/subscribe"),
    ] {
        let r = app
            .client
            .post(app.url(&path))
            .header("content-type", "application/json")
            .body(format!("{{\"description\": \"{big}\"}}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 413, "{path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "payload_too_large", "{path}");
    }
    // Photos: 10 MB.
    let r = app
        .client
        .post(app.url("/api/v1/photos"))
        .header("content-type", "image/jpeg")
        .body(vec![0u8; 11 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large");
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(vec![0u8; 11 * 1024 * 1024]).file_name("big.jpg"),
    );
    let r = app
        .client
        .post(app.url("/api/v1/photos"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large");
    // Open311 forms: 64 KB, answered as Open311 errors.
    let key = zglos::auth::add_api_key(&app.pool, "app", "open311", None)
        .await
        .unwrap();
    for size in [100 * 1024, 400 * 1024] {
        let description = "y".repeat(size);
        let form = [
            ("api_key", key.as_str()),
            ("service_code", "pothole"),
            ("description", description.as_str()),
        ];
        let r = app
            .client
            .post(app.url("/open311/v2/requests.json"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 413, "{size}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body[0]["code"], 413, "{size}");
    }
}

#[tokio::test]
async fn the_sweep_deletes_expired_sessions_old_login_failures_and_old_idempotency_keys() {
    let app = spawn_app().await;
    let user = zglos::auth::add_user(
        &app.pool,
        "ewa@example.org",
        "Ewa",
        "a long enough password",
        &[Role::Admin],
        &[],
    )
    .await
    .unwrap();
    for (token, expires) in [
        ("old", "now() - interval '1 minute'"),
        ("live", "now() + interval '1 hour'"),
    ] {
        sqlx::query(&format!("INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at) VALUES ($1, $2, 'c', {expires})"))
            .bind(token)
            .bind(user)
            .execute(&app.pool)
            .await
            .unwrap();
    }
    for (login, at) in [("old", "now() - interval '1 hour'"), ("fresh", "now()")] {
        sqlx::query(&format!(
            "INSERT INTO login_failures (login, ip, at) VALUES ($1, '192.0.2.1', {at})"
        ))
        .bind(login)
        .execute(&app.pool)
        .await
        .unwrap();
    }
    for (i, key) in ["old-key", "fresh-key"].iter().enumerate() {
        let r = app
            .client
            .post(app.url("/api/v1/reports"))
            .header("idempotency-key", *key)
            .json(&report_at(i))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    sqlx::query(
        "UPDATE idempotency_keys SET created_at = now() - interval '2 days' WHERE key = 'old-key'",
    )
    .execute(&app.pool)
    .await
    .unwrap();

    let swept = zglos::app::sweep::sweep(&app.pool).await.unwrap();
    assert_eq!(
        (swept.sessions, swept.login_failures, swept.idempotency_keys),
        (1, 1, 1)
    );
    let left = |sql: &'static str| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>(sql)
                .fetch_all(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(left("SELECT token_hash FROM sessions").await, ["live"]);
    assert_eq!(left("SELECT login FROM login_failures").await, ["fresh"]);
    assert_eq!(
        left("SELECT key FROM idempotency_keys").await,
        ["fresh-key"]
    );
    // A second sweep finds nothing more.
    assert_eq!(
        zglos::app::sweep::sweep(&app.pool).await.unwrap(),
        Default::default()
    );
}

fn xml_parses(xml: &str) -> Result<(), String> {
    use std::io::Write;
    let mut child = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, xml.dom.minidom; xml.dom.minidom.parseString(sys.stdin.buffer.read())",
        ])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(xml.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[tokio::test]
async fn open311_xml_stays_valid_when_a_description_has_control_characters() {
    let app = spawn_app().await;
    let (lon, lat) = RYNEK;
    let report = app
        .report(&point_report(
            "pothole",
            lon,
            lat,
            "hole\u{1} with \u{1b}[31mcolour & <tags> \u{7f}\u{fffe}end\ttab",
        ))
        .await;
    let id = report["id"].as_i64().unwrap();
    for path in [
        format!("/open311/v2/requests/{id}.xml"),
        "/open311/v2/requests.xml".to_owned(),
    ] {
        let r = app.get(&path).await;
        assert_eq!(r.status(), 200, "{path}");
        let xml = r.text().await.unwrap();
        assert!(
            !xml.contains('\u{1}') && !xml.contains('\u{1b}') && !xml.contains('\u{fffe}'),
            "{path}"
        );
        assert!(xml.contains("colour &amp; &lt;tags&gt;"), "{xml}");
        xml_parses(&xml).unwrap_or_else(|e| panic!("{path} does not parse: {e}\n{xml}"));
    }
    // The JSON keeps the text as it was given.
    let r = app.get(&format!("/open311/v2/requests/{id}.json")).await;
    let v: Value = r.json().await.unwrap();
    assert!(v[0]["description"].as_str().unwrap().contains('\u{1b}'));
}

#[test]
fn the_xml_check_itself_refuses_a_control_character() {
    assert!(xml_parses("<a>\u{1}</a>").is_err());
    assert!(xml_parses("<a>ok</a>").is_ok());
}
