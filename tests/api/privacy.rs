//! Privacy: contact details (a reporter's name, email and phone, a supporter's or subscriber's
//! email, a staff member's name, the text of internal notes) never reach a public output. The test
//! plants unique strings in every input that takes them and scans the bytes of every public
//! resource: JSON, XML, vector tiles, exports, HTML pages.
use crate::common::*;
use serde_json::{json, Value};
use zglos::auth::Role;

const FIRST_NAME: &str = "Xaverina";
const LAST_NAME: &str = "Qwertyleakowska";
const EMAIL: &str = "zq7xpriv.Reporter@leakmail.example";
const OTHER_EMAIL: &str = "zq7xpriv.supporter@leakmail.example";
const PHONE: &str = "+48 697 135 246";
const STAFF_NAME: &str = "Bronisława Stafftokenowa";
const INTERNAL: &str = "Internal: caller Xaverina Qwertyleakowska, zq7xpriv.Reporter@leakmail.example, +48 697 135 246";

/// The forms a planted string could take in an output: as written, lower case, and with every
/// byte that is not a letter or digit dropped (which also undoes URL- and JSON-escaping of
/// spaces, `@`, `+` and `.`, except the hex digits those escapes leave).
fn needles() -> Vec<String> {
    vec![
        "xaverina".into(),
        "qwertyleak".into(),
        "zq7xpriv".into(),
        "leakmail".into(),
        "697135246".into(),
        "stafftoken".into(),
    ]
}

fn normalise(bytes: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let lower: Vec<u8> = bytes.iter().map(u8::to_ascii_lowercase).collect();
    let alnum = lower
        .iter()
        .copied()
        .filter(u8::is_ascii_alphanumeric)
        .collect();
    (lower, alnum)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The planted strings found in `bytes` (empty: none).
fn hits(bytes: &[u8]) -> Vec<String> {
    let (lower, alnum) = normalise(bytes);
    let mut found: Vec<String> = needles()
        .into_iter()
        .filter(|n| contains(&lower, n.as_bytes()) || contains(&alnum, n.as_bytes()))
        .collect();
    // The phone number with its spaces URL-encoded or as separate groups.
    for phone in [
        "697%20135%20246",
        "697+135+246",
        "697 135 246",
        "697-135-246",
    ] {
        if contains(&lower, phone.as_bytes()) {
            found.push(phone.into());
        }
    }
    found
}

struct Scan<'a> {
    app: &'a TestApp,
    scanned: Vec<String>,
    leaks: Vec<String>,
}

impl Scan<'_> {
    /// GETs `path` without a session, expects 200, and records any planted string in the body.
    async fn public(&mut self, path: &str) -> Vec<u8> {
        let r = self.app.get(path).await;
        assert_eq!(r.status(), 200, "GET {path}");
        let bytes = r.bytes().await.unwrap().to_vec();
        assert!(
            !bytes.is_empty() || path.contains(".mvt"),
            "GET {path} is empty"
        );
        let found = hits(&bytes);
        if !found.is_empty() {
            self.leaks.push(format!("{path}: {found:?}"));
        }
        self.scanned.push(path.to_owned());
        bytes
    }

    async fn json(&mut self, path: &str) -> Value {
        serde_json::from_slice(&self.public(path).await).unwrap()
    }
}

#[test]
fn the_scanner_finds_each_planted_string_in_its_escaped_forms() {
    for text in [
        FIRST_NAME.to_owned(),
        LAST_NAME.to_uppercase(),
        EMAIL.to_owned(),
        EMAIL.replace('@', "%40").replace('.', "%2E"),
        serde_json::to_string(&json!({ "e": OTHER_EMAIL.replace('@', "\\u0040") })).unwrap(),
        PHONE.to_owned(),
        PHONE.replace(' ', "%20").replace('+', "%2B"),
        PHONE.replace(' ', "+"),
        "Bronis\\u0142awa STAFFTOKENOWA".to_owned(),
    ] {
        assert!(!hits(text.as_bytes()).is_empty(), "{text}");
    }
    assert!(hits(b"Deep pothole by the Cloth Hall, +48 600 000 000").is_empty());
}

#[tokio::test]
async fn planted_names_emails_and_phones_appear_in_no_public_output() {
    let app = spawn_app().await;
    let admin_id = zglos::auth::add_user(
        &app.pool,
        "privacy-admin",
        STAFF_NAME,
        "a long enough password",
        &[Role::Admin],
        &[],
    )
    .await
    .unwrap();
    assert!(admin_id > 0);
    let r = app
        .post_json(
            "/api/v1/staff/login",
            &json!({"login": "privacy-admin", "password": "a long enough password"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = r.json::<Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin = Staff { cookie, csrf };

    // 1. A report through the JSON API with full contact details.
    let mut body = point_report(
        "pothole",
        RYNEK.0,
        RYNEK.1,
        "Deep pothole by the Cloth Hall",
    );
    body["properties"]["contact"] =
        json!({"name": format!("{FIRST_NAME} {LAST_NAME}"), "email": EMAIL, "phone": PHONE});
    let a = app.report(&body).await["properties"]["id"]
        .as_i64()
        .unwrap();
    // 2. A phone report filed by a consultant for a caller.
    let (px, py) = offset(RYNEK.0, RYNEK.1, 0.0, 400.0);
    let mut body = point_report("street_lighting", px, py, "Lamp out on the corner");
    body["properties"]["channel"] = json!("phone");
    body["properties"]["contact"] = json!({"name": LAST_NAME, "phone": PHONE});
    let phone_report = app.report(&body).await["properties"]["id"]
        .as_i64()
        .unwrap();
    // 3. An Open311 request with first_name, last_name, email and phone.
    let key = zglos::auth::add_api_key(&app.pool, "A city app", "open311", None)
        .await
        .unwrap();
    let (ox, oy) = offset(PLAC_CENTRALNY.0, PLAC_CENTRALNY.1, 0.0, 0.0);
    let form = [
        ("api_key", key.as_str()),
        ("service_code", "pothole"),
        ("lat", &oy.to_string()),
        ("long", &ox.to_string()),
        ("email", EMAIL),
        ("first_name", FIRST_NAME),
        ("last_name", LAST_NAME),
        ("phone", PHONE),
        ("device_id", "device-1"),
        ("description", "Hole in the square"),
    ];
    let r = app
        .client
        .post(app.url("/open311/v2/requests.json"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let o311: i64 = created[0]["service_request_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let token = created[0]["token"].as_str().unwrap().to_owned();
    // 4. "Me too" and a subscription with another email.
    let r = app
        .post_json(
            &format!("/api/v1/reports/{a}/support"),
            &json!({"email": OTHER_EMAIL}),
        )
        .await;
    assert!(r.status().is_success(), "support: {}", r.status());
    let r = app
        .post_json(
            &format!("/api/v1/reports/{o311}/subscribe"),
            &json!({"email": OTHER_EMAIL}),
        )
        .await;
    assert!(r.status().is_success(), "subscribe: {}", r.status());
    // 5. Staff work with internal notes that name the caller: a status change, a reassignment,
    // an edit, a merge. Public notes carry nothing personal.
    let (dx, dy) = offset(RYNEK.0, RYNEK.1, 300.0, 0.0);
    let dup = app
        .report(&point_report("pothole", dx, dy, "Another hole"))
        .await["properties"]["id"]
        .as_i64()
        .unwrap();
    for (path, body) in [
        (
            format!("/api/v1/staff/reports/{phone_report}/reassign"),
            json!({"unit": "ZDMK", "note": INTERNAL}),
        ),
        (
            format!("/api/v1/staff/reports/{phone_report}/edit"),
            json!({"category": "street_lighting", "reason": INTERNAL}),
        ),
        (
            format!("/api/v1/staff/reports/{dup}/merge"),
            json!({"into": a, "note": INTERNAL}),
        ),
        (
            format!("/api/v1/staff/reports/{a}/status"),
            json!({"status": "resolved", "public_note": "Filled", "internal_note": INTERNAL}),
        ),
    ] {
        let r = app.staff_post(&admin, &path, &body).await;
        let status = r.status();
        assert!(
            status.is_success(),
            "{path}: {status} {}",
            r.text().await.unwrap()
        );
    }
    // 6. The reporter reopens the resolved report, naming themself by email.
    let r = app
        .post_json(
            &format!("/api/v1/reports/{a}/reopen"),
            &json!({"email": EMAIL, "note": "Still there after the rain"}),
        )
        .await;
    assert!(r.status().is_success(), "reopen: {}", r.status());

    // The planted data is stored (the city needs it): the scan below would prove nothing if not.
    let stored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM reports WHERE contact_email ILIKE '%zq7xpriv%' OR contact_phone LIKE '%697 135 246%'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(stored >= 2, "contact data was stored ({stored} reports)");

    let mut scan = Scan {
        app: &app,
        scanned: Vec::new(),
        leaks: Vec::new(),
    };
    let ids = [a, phone_report, o311, dup];
    // GeoJSON API.
    for q in ["", "?status=all", "?limit=1000"] {
        let _ = scan.public(&format!("/api/v1/reports{q}")).await;
    }
    for id in ids {
        scan.json(&format!("/api/v1/reports/{id}")).await;
    }
    for (x, y) in [RYNEK, PLAC_CENTRALNY] {
        scan.public(&format!("/api/v1/reports/nearby?lon={x}&lat={y}"))
            .await;
    }
    for path in [
        "/api/v1/stats",
        "/api/v1/config",
        "/api/v1/categories",
        "/api/v1/units",
        "/api/v1/statuses",
        "/api/v1/districts",
    ] {
        scan.public(path).await;
    }
    // Vector tiles at every zoom the map asks for, covering each report; TileJSON.
    let tilejson = scan.json("/tiles/reports.json").await;
    scan.public("/tiles/districts.json").await;
    let minzoom = tilejson["minzoom"].as_u64().unwrap_or(0) as u8;
    let maxzoom = tilejson["maxzoom"].as_u64().unwrap_or(18) as u8;
    assert!(maxzoom >= 14, "the map reaches detail zooms: {tilejson}");
    for z in minzoom..=maxzoom {
        for (lon, lat) in [RYNEK, (px, py), (ox, oy), (dx, dy)] {
            let (z, x, y) = tile_of(z, lon, lat);
            let path = format!("/tiles/reports/{z}/{x}/{y}.mvt");
            let r = app.get(&path).await;
            assert_eq!(r.status(), 200, "{path}");
            let bytes = r.bytes().await.unwrap();
            let found = hits(&bytes);
            if !found.is_empty() {
                scan.leaks.push(format!("{path}: {found:?}"));
            }
            scan.scanned.push(path);
            for q in ["?status=all", "?category=pothole"] {
                scan.public(&format!("/tiles/reports/{z}/{x}/{y}.mvt{q}"))
                    .await;
            }
        }
    }
    // Heatmap tiles, where the public may read them.
    let (z, x, y) = tile_of(12, RYNEK.0, RYNEK.1);
    let heat = app.get(&format!("/tiles/heatmap/{z}/{x}/{y}.mvt")).await;
    if heat.status() == 200 {
        scan.public(&format!("/tiles/heatmap/{z}/{x}/{y}.mvt"))
            .await;
    } else {
        assert!(heat.status().is_client_error());
    }
    // Open311 JSON and XML.
    for fmt in ["json", "xml"] {
        scan.public(&format!("/open311/v2/requests.{fmt}")).await;
        scan.public(&format!("/open311/v2/requests.{fmt}?status=closed"))
            .await;
        for id in ids {
            scan.public(&format!("/open311/v2/requests/{id}.{fmt}"))
                .await;
        }
        scan.public(&format!("/open311/v2/tokens/{token}.{fmt}"))
            .await;
        scan.public(&format!("/open311/v2/services.{fmt}")).await;
        scan.public(&format!("/open311/v2/discovery.{fmt}")).await;
    }
    // OGC API Features.
    scan.public("/ogc/collections/reports/items?limit=1000")
        .await;
    scan.public("/ogc/collections/reports/items?limit=1000&f=json")
        .await;
    for id in ids {
        scan.public(&format!("/ogc/collections/reports/items/{id}"))
            .await;
    }
    scan.public("/ogc/collections/reports/queryables").await;
    scan.public("/ogc/collections/reports").await;
    scan.public("/ogc/collections").await;
    // Every export format, for the public audience.
    for ext in ["geojson", "csv", "fgb", "gpkg"] {
        scan.public(&format!("/api/v1/exports/reports.{ext}")).await;
        scan.public(&format!("/api/v1/exports/reports.{ext}?status=all"))
            .await;
    }
    // The HTML pages and the staff page shell without a session.
    for page in ["/", "/stats", "/staff"] {
        scan.public(page).await;
    }
    for id in ids {
        scan.public(&format!("/r/{id}")).await;
    }

    assert!(scan.scanned.len() > 100, "{} outputs", scan.scanned.len());
    assert!(
        scan.leaks.is_empty(),
        "personal data in public outputs:\n{}",
        scan.leaks.join("\n")
    );

    // The staff view, by contrast, shows the contact to the city (so the data was there to leak).
    let staff_view = app
        .staff_get(&admin, &format!("/api/v1/staff/reports/{a}"))
        .await
        .bytes()
        .await
        .unwrap();
    assert!(
        !hits(&staff_view).is_empty(),
        "the staff view shows the contact"
    );
}
