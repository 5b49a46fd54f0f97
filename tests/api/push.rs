//! Push notifications end to end: a device (the test, holding its own P-256 key pair and auth
//! secret, as a browser does) subscribes with a local push endpoint; each status change of a
//! report it follows reaches that endpoint as a real Web Push request, which the test decrypts
//! with the subscription's keys (RFC 8291) and whose VAPID token it verifies (RFC 8292). On
//! "resolved" the push carries the signed "Is it fixed?" answers. A subscription the push
//! service says is gone (410) is removed; a device turns pushes off per report or for all.
use std::time::Duration;

use aes_gcm::aead::Aead;
use aes_gcm::{Aes128Gcm, KeyInit, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use hkdf::Hkdf;
use p256::ecdsa::signature::Verifier;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use serde_json::{json, Value};
use sha2::Sha256;
use zglos::auth::Role;

use crate::common::receiver::{Receiver, Request};
use crate::common::*;

/// A browser's side of a subscription: its key pair and auth secret.
struct Device {
    secret: SecretKey,
    auth: [u8; 16],
}

impl Device {
    fn new() -> Self {
        let mut auth = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut auth);
        Self {
            secret: SecretKey::random(&mut rand::rngs::OsRng),
            auth,
        }
    }

    fn public(&self) -> Vec<u8> {
        self.secret
            .public_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec()
    }

    fn subscription(&self, endpoint: &str) -> Value {
        json!({"endpoint": endpoint, "keys": {"p256dh": B64.encode(self.public()), "auth": B64.encode(self.auth)}})
    }

    /// Decrypts an `aes128gcm` push body (RFC 8188 header, RFC 8291 keys), as a browser does.
    fn decrypt(&self, body: &[u8]) -> Value {
        let salt = &body[..16];
        let rs = u32::from_be_bytes(body[16..20].try_into().unwrap());
        assert!(rs >= 18, "record size {rs}");
        let idlen = body[20] as usize;
        let as_public = &body[21..21 + idlen];
        let sealed = &body[21 + idlen..];
        let server = PublicKey::from_sec1_bytes(as_public).expect("the server's key in keyid");
        let shared =
            p256::ecdh::diffie_hellman(self.secret.to_nonzero_scalar(), server.as_affine());
        let mut info = b"WebPush: info\0".to_vec();
        info.extend(self.public());
        info.extend(as_public);
        let mut ikm = [0u8; 32];
        Hkdf::<Sha256>::new(Some(&self.auth), shared.raw_secret_bytes())
            .expand(&info, &mut ikm)
            .unwrap();
        let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
        let (mut cek, mut nonce) = ([0u8; 16], [0u8; 12]);
        prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek)
            .unwrap();
        prk.expand(b"Content-Encoding: nonce\0", &mut nonce)
            .unwrap();
        let mut plain = Aes128Gcm::new(&cek.into())
            .decrypt(Nonce::from_slice(&nonce), sealed)
            .expect("the push decrypts with the subscription's keys");
        // The last record ends with the delimiter 2, then any padding zeros.
        while plain.last() == Some(&0) {
            plain.pop();
        }
        assert_eq!(plain.pop(), Some(2), "the last record's delimiter");
        serde_json::from_slice(&plain).expect("a JSON payload")
    }
}

/// Checks the VAPID authorisation of a push request: the token is signed by the key it names,
/// for the endpoint's origin, not expired. Returns the key.
fn check_vapid(r: &Request, origin: &str) -> String {
    let header = r.header("authorization").expect("an Authorization header");
    let (t, k) = header
        .strip_prefix("vapid t=")
        .and_then(|h| h.split_once(", k="))
        .unwrap_or_else(|| panic!("vapid t=…, k=…: {header}"));
    let (input, signature) = t.rsplit_once('.').unwrap();
    let claims: Value =
        serde_json::from_slice(&B64.decode(input.split('.').nth(1).unwrap()).unwrap()).unwrap();
    assert_eq!(claims["aud"], origin);
    assert!(claims["exp"].as_i64().unwrap() > chrono::Utc::now().timestamp());
    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&B64.decode(k).unwrap()).unwrap();
    let signature = p256::ecdsa::Signature::from_slice(&B64.decode(signature).unwrap()).unwrap();
    key.verify(input.as_bytes(), &signature)
        .expect("the VAPID token's signature");
    k.to_owned()
}

async fn set_status(app: &TestApp, clerk: &Staff, id: i64, status: &str, note: &str) {
    let r = app
        .staff_post(
            clerk,
            &format!("/api/v1/staff/reports/{id}/status"),
            &json!({"status": status, "public_note": note}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

#[tokio::test]
async fn a_device_that_follows_a_report_gets_each_status_change_as_an_encrypted_push() {
    let endpoint = Receiver::start(|_| Some((201, String::new())));
    let app = spawn_app().await;
    let id = app
        .report(&point_report("street_lighting", RYNEK.0, RYNEK.1, "Ciemno"))
        .await["properties"]["id"]
        .as_i64()
        .unwrap();
    let key: Value = app.get_json("/api/v1/push/key").await;
    let device = Device::new();
    let push_url = endpoint.url("/push/device-1");
    let r = app
        .post_json(
            "/api/v1/push/subscriptions",
            &json!({"subscription": device.subscription(&push_url), "reports": [id], "lang": "uk"}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    assert_eq!(r.json::<Value>().await.unwrap()["reports"], json!([id]));

    let clerk = app
        .staff("clerk@zdmk.example", &[Role::UnitStaff], &["ZDMK"])
        .await;
    set_status(&app, &clerk, id, "in_progress", "Ремонтна бригада їде.").await;
    let got = endpoint.wait_for(1).await;
    let push = &got[0];
    assert_eq!(push.target, "/push/device-1");
    assert_eq!(push.header("content-encoding"), Some("aes128gcm"));
    assert!(push.header("ttl").is_some());
    let vapid = check_vapid(push, &format!("http://{}", endpoint.addr));
    assert_eq!(
        vapid,
        key["public_key"].as_str().unwrap(),
        "the key /push/key gives"
    );
    let payload = device.decrypt(&push.body);
    assert_eq!(payload["report_id"], id);
    assert_eq!(payload["url"], format!("{}/r/{id}", app.address));
    assert!(
        payload["title"].as_str().unwrap().contains("Виконується"),
        "in the device's language: {payload}"
    );
    assert_eq!(payload["body"], "Ремонтна бригада їде.");
    assert!(payload.get("fixed_url").is_none());

    // Resolved: "Is it fixed?" with the two signed answers; the yes closes the report.
    set_status(&app, &clerk, id, "resolved", "Лампу замінено.").await;
    let got = endpoint.wait_for(2).await;
    let payload = device.decrypt(&got[1].body);
    assert!(
        payload["body"]
            .as_str()
            .unwrap()
            .contains("Чи усунено проблему?"),
        "{payload}"
    );
    let fixed = payload["fixed_url"].as_str().unwrap();
    assert!(payload["not_fixed_url"]
        .as_str()
        .unwrap()
        .contains("/api/v1/links/not_fixed/"));
    let r = app.client.post(fixed).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let public = app.get_json(&format!("/api/v1/reports/{id}")).await;
    assert_eq!(public["properties"]["status"], "closed");
}

#[tokio::test]
async fn pushes_are_turned_off_per_report_or_for_all_and_a_gone_subscription_is_removed() {
    let gone = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = gone.clone();
    let endpoint = Receiver::start(move |_| {
        if flag.load(std::sync::atomic::Ordering::SeqCst) {
            Some((410, "{\"reason\": \"unsubscribed\"}".into()))
        } else {
            Some((201, String::new()))
        }
    });
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for i in 0..2 {
        let v = app
            .report(&point_report(
                "street_lighting",
                RYNEK.0 + 0.004 * i as f64,
                RYNEK.1,
                "Ciemno",
            ))
            .await;
        ids.push(v["properties"]["id"].as_i64().unwrap());
    }
    let device = Device::new();
    let push_url = endpoint.url("/push/d2");
    let r = app
        .post_json(
            "/api/v1/push/subscriptions",
            &json!({"subscription": device.subscription(&push_url), "reports": ids}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let clerk = app
        .staff("clerk@zdmk.example", &[Role::UnitStaff], &["ZDMK"])
        .await;

    // Off for the first report: only the second is pushed.
    let query = serde_urlencoded::to_string([
        ("endpoint", push_url.as_str()),
        ("report", &ids[0].to_string()),
    ])
    .unwrap();
    let r = app
        .client
        .delete(app.url(&format!("/api/v1/push/subscriptions?{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["removed"], 1);
    set_status(&app, &clerk, ids[0], "planned", "a").await;
    set_status(&app, &clerk, ids[1], "planned", "b").await;
    let got = endpoint.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(endpoint.requests().len(), 1);
    assert_eq!(device.decrypt(&got[0].body)["report_id"], ids[1]);

    // The push service says the subscription is gone: it is removed, and nothing more is sent.
    gone.store(true, std::sync::atomic::Ordering::SeqCst);
    set_status(&app, &clerk, ids[1], "in_progress", "c").await;
    endpoint.wait_for(2).await;
    let mut left = 1;
    for _ in 0..50 {
        left = sqlx::query_scalar::<_, i64>("SELECT count(*) FROM push_subscriptions")
            .fetch_one(&app.pool)
            .await
            .unwrap();
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(left, 0);
    let followed = app
        .get_json(&format!(
            "/api/v1/push/subscriptions?{}",
            serde_urlencoded::to_string([("endpoint", push_url.as_str())]).unwrap()
        ))
        .await;
    assert_eq!(followed["reports"], json!([]));
}

#[tokio::test]
async fn a_subscription_that_is_not_one_is_refused_naming_the_member() {
    let app = spawn_app().await;
    let device = Device::new();
    let cases = [
        (json!({"reports": []}), 400, "subscription.endpoint"),
        (
            json!({"subscription": device.subscription("http://push.example.org/x")}),
            422,
            "subscription.endpoint",
        ),
        (
            json!({"subscription": {"endpoint": "https://push.example.org/x", "keys": {"p256dh": "AAAA", "auth": "AAAAAAAAAAAAAAAAAAAAAA"}}}),
            422,
            "subscription.keys.p256dh",
        ),
        (
            json!({"subscription": device.subscription("https://push.example.org/x"), "reports": ["7"]}),
            400,
            "reports[0]",
        ),
        (
            json!({"subscription": device.subscription("https://push.example.org/x"), "reports": [999999]}),
            422,
            "reports[0]",
        ),
    ];
    for (body, status, field) in cases {
        let r = app.post_json("/api/v1/push/subscriptions", &body).await;
        assert_eq!(r.status(), status, "{body}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["field"], field, "{e}");
    }
    let r = app
        .client
        .delete(app.url("/api/v1/push/subscriptions"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // A NUL (which PostgreSQL text cannot hold) is refused, not a server error.
    let r = app
        .client
        .delete(app.url("/api/v1/push/subscriptions?report=1&endpoint=a%00b"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["field"],
        "endpoint"
    );
    let r = app
        .post_json(
            "/api/v1/push/subscriptions",
            &json!({"subscription": device.subscription("https://push.example.org/a\u{0}b")}),
        )
        .await;
    assert_eq!(r.status(), 422);
}

#[tokio::test]
async fn a_push_that_gave_up_is_listed_and_an_admin_retries_it() {
    let down = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let flag = down.clone();
    let endpoint = Receiver::start(move |_| {
        if flag.load(std::sync::atomic::Ordering::SeqCst) {
            Some((503, String::new()))
        } else {
            Some((201, String::new()))
        }
    });
    let app = spawn_app_with(TestDb::new().await, |url| {
        let mut c = config(url);
        c.delivery.max_attempts = 1;
        c
    })
    .await;
    let id = app
        .report(&point_report("street_lighting", RYNEK.0, RYNEK.1, "Ciemno"))
        .await["properties"]["id"]
        .as_i64()
        .unwrap();
    let device = Device::new();
    let r = app
        .post_json(
            "/api/v1/push/subscriptions",
            &json!({"subscription": device.subscription(&endpoint.url("/push/d3")), "reports": [id]}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let clerk = app
        .staff("clerk@zdmk.example", &[Role::UnitStaff], &["ZDMK"])
        .await;
    set_status(&app, &clerk, id, "planned", "Wkrótce.").await;
    endpoint.wait_for(1).await;
    let admin = app.staff("admin@city.example", &[Role::Admin], &[]).await;
    let mut letter = Value::Null;
    for _ in 0..100 {
        let list: Value = app
            .staff_get(&admin, "/api/v1/staff/dead-letters")
            .await
            .json()
            .await
            .unwrap();
        if list["dead"] == 1 {
            letter = list["dead_letters"][0].clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(letter["kind"], "push", "{letter}");
    down.store(false, std::sync::atomic::Ordering::SeqCst);
    let path = format!(
        "/api/v1/staff/dead-letters/push/{}/retry",
        letter["id"].as_i64().unwrap()
    );
    let r = app.staff_post(&admin, &path, &json!({})).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let got = endpoint.wait_for(2).await;
    assert_eq!(device.decrypt(&got[1].body)["report_id"], id);
}
