//! How a report reaches a unit that does not work in the Zgłoś inbox, as pure rules: the unit's
//! delivery channel (data in the city pack), the CloudEvents 1.0 envelope and its HMAC-SHA256
//! signature for webhooks, the Open311 GeoReport v2 form a unit's own endpoint is sent and the
//! answers read back from it, and the pauses between attempts.
//!
//! The sending itself is the delivery worker's (`crate::delivery`): every outbound message is a
//! row of the durable `deliveries` table (mail: `outbox`), written in the transaction of the
//! change it reports, so a receiver that is down delays it but never loses it.
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::moderation::hmac_sha256;

/// A unit's delivery channel: how its new reports (and, for a webhook, every change) reach it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "channel", rename_all = "lowercase")]
pub enum Delivery {
    /// The unit's clerks work in the Zgłoś inbox: nothing leaves the service.
    #[default]
    Inbox,
    /// Each new report is mailed to `to` with its details and a signed link to act on it.
    Email { to: String },
    /// Each new report is POSTed to the unit's own Open311 GeoReport v2 endpoint (`url` is the
    /// base, `…/requests.json` is appended) with `api_key`; its status is read back by polling.
    /// `services` maps the city's category codes to the unit's service codes (a category not in
    /// it is sent under its own code).
    Open311 {
        url: String,
        api_key: String,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        services: BTreeMap<String, String>,
    },
    /// A CloudEvents 1.0 event per new report and per change, POSTed to `url`, signed with
    /// HMAC-SHA256 under `secret`.
    Webhook { url: String, secret: String },
}

/// The kinds of outbound deliveries the `deliveries` table holds (mail has its own outbox).
pub const WEBHOOK: &str = "webhook";
pub const OPEN311: &str = "open311";
/// A push to a resident's device (`app::push`).
pub const PUSH: &str = "push";

impl Delivery {
    /// Reads a unit's channel from the pack's `units.csv` columns: `delivery` (inbox, email,
    /// open311, webhook; empty is inbox), `delivery_to` (the address or URL), `delivery_secret`
    /// (the webhook's signing secret or the Open311 API key) and `delivery_services`
    /// (`CATEGORY=SERVICE` pairs separated by spaces). The error names the column.
    pub fn parse(
        kind: &str,
        to: &str,
        secret: &str,
        services: &str,
    ) -> Result<Self, (&'static str, String)> {
        let (to, secret) = (to.trim(), secret.trim());
        let need = |what: &str, value: &str, column: &'static str| {
            if value.is_empty() {
                Err((column, format!("a {kind} channel needs {what}")))
            } else {
                Ok(value.to_owned())
            }
        };
        let url = |value: &str| {
            let u = need("a URL", value, "delivery_to")?;
            if u.starts_with("http://") || u.starts_with("https://") {
                Ok(u.trim_end_matches('/').to_owned())
            } else {
                Err((
                    "delivery_to",
                    format!("{u:?} is not an http:// or https:// URL"),
                ))
            }
        };
        match kind.trim() {
            "" | "inbox" => Ok(Self::Inbox),
            "email" => {
                let to = need("an email address", to, "delivery_to")?;
                if !to.contains('@') || to.contains(char::is_whitespace) {
                    return Err(("delivery_to", format!("{to:?} is not an email address")));
                }
                Ok(Self::Email { to })
            }
            "open311" => {
                let mut map = BTreeMap::new();
                for pair in services.split_whitespace() {
                    let (category, service) = pair.split_once('=').ok_or((
                        "delivery_services",
                        format!("{pair:?} is not CATEGORY=SERVICE"),
                    ))?;
                    map.insert(category.to_owned(), service.to_owned());
                }
                Ok(Self::Open311 {
                    url: url(to)?,
                    api_key: need("an API key (delivery_secret)", secret, "delivery_secret")?,
                    services: map,
                })
            }
            "webhook" => Ok(Self::Webhook {
                url: url(to)?,
                secret: need(
                    "a signing secret (delivery_secret)",
                    secret,
                    "delivery_secret",
                )?,
            }),
            other => Err((
                "delivery",
                format!("unknown delivery channel {other:?} (inbox, email, open311 or webhook)"),
            )),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::Inbox => "inbox",
            Self::Email { .. } => "email",
            Self::Open311 { .. } => OPEN311,
            Self::Webhook { .. } => WEBHOOK,
        }
    }

    /// Whether the unit hears of a change of this kind: a webhook of every change, the other
    /// channels only of a report that became theirs (a new report, or one moved to them).
    pub fn wants(&self, event: Event) -> bool {
        match self {
            Self::Inbox => false,
            Self::Webhook { .. } => true,
            Self::Email { .. } | Self::Open311 { .. } => event == Event::Created,
        }
    }

    /// The channel as the public (and staff) see it: never the secret.
    pub fn describe(&self) -> Value {
        match self {
            Self::Inbox => json!({"channel": "inbox"}),
            Self::Email { to } => json!({"channel": "email", "to": to}),
            Self::Open311 { url, .. } => json!({"channel": "open311", "url": url}),
            Self::Webhook { url, .. } => json!({"channel": "webhook", "url": url}),
        }
    }
}

/// What happened to a report, as the unit's system hears it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A new report for the unit (or one moved to it from another unit).
    Created,
    /// Its status changed (staff, the unit's system, a resident reopening or confirming).
    StatusChanged,
    /// Moved to another unit: the last event this unit gets about it.
    Moved,
    /// Merged into another report as its duplicate.
    Merged,
    /// Its category, description or place was corrected by staff.
    Updated,
}

impl Event {
    /// The CloudEvents `type`.
    pub fn cloud_type(self) -> &'static str {
        match self {
            Self::Created => "pl.zglos.report.created",
            Self::StatusChanged => "pl.zglos.report.status_changed",
            Self::Moved => "pl.zglos.report.moved",
            Self::Merged => "pl.zglos.report.merged",
            Self::Updated => "pl.zglos.report.updated",
        }
    }
}

/// The CloudEvents 1.0 event (structured mode, JSON) of a delivery: the same bytes on every
/// attempt, so that a receiver can check the signature and drop an event id it already has.
pub fn cloud_event(
    id: &str,
    source: &str,
    kind: &str,
    subject: &str,
    time: DateTime<Utc>,
    data: &Value,
) -> String {
    json!({
        "specversion": "1.0",
        "id": id,
        "source": source,
        "type": kind,
        "subject": subject,
        "time": time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "datacontenttype": "application/json",
        "data": data,
    })
    .to_string()
}

/// The `Zglos-Signature` header of a webhook body: `sha256=` and the hex HMAC-SHA256 of the
/// exact bytes sent, under the unit's secret (as GitHub signs its webhooks).
pub fn signature(secret: &str, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(hmac_sha256(secret.as_bytes(), body))
    )
}

/// The pause before attempt `attempts + 1`: `base_ms` doubled per failed attempt, at most an
/// hour.
pub fn backoff_ms(base_ms: u64, attempts: i32) -> u64 {
    base_ms
        .saturating_mul(1 << attempts.clamp(0, 16))
        .min(3_600_000)
}

/// The fields of a report an Open311 endpoint is sent (GeoReport v2 `POST requests`).
pub struct Open311Request<'a> {
    pub api_key: &'a str,
    pub service_code: &'a str,
    pub lat: f64,
    pub lon: f64,
    pub address: Option<&'a str>,
    pub description: &'a str,
    pub media_url: Option<&'a str>,
    pub attribute_id: i64,
}

impl Open311Request<'_> {
    /// The form, as `application/x-www-form-urlencoded` pairs. The city's report number goes as
    /// the attribute `attribute[zglos_id]`, so the unit's system can name it back.
    pub fn form(&self) -> Vec<(String, String)> {
        let mut form = vec![
            ("api_key".to_owned(), self.api_key.to_owned()),
            ("service_code".to_owned(), self.service_code.to_owned()),
            ("lat".to_owned(), format!("{:.7}", self.lat)),
            ("long".to_owned(), format!("{:.7}", self.lon)),
            ("description".to_owned(), self.description.to_owned()),
            (
                "attribute[zglos_id]".to_owned(),
                self.attribute_id.to_string(),
            ),
        ];
        if let Some(a) = self.address {
            form.push(("address_string".to_owned(), a.to_owned()));
        }
        if let Some(m) = self.media_url {
            form.push(("media_url".to_owned(), m.to_owned()));
        }
        form
    }
}

/// What an Open311 endpoint answered a POST with: the request's id, or (when it assigns ids
/// later) a token to look it up by.
#[derive(Debug, PartialEq, Eq)]
pub enum Accepted {
    Id(String),
    Token(String),
}

/// Reads the answer to `POST requests.json`: a list with one object carrying
/// `service_request_id` or `token` (GeoReport v2), or that object alone.
pub fn parse_accepted(body: &str) -> Result<Accepted, String> {
    let value: Value =
        serde_json::from_str(body).map_err(|e| format!("the answer is not JSON: {e}"))?;
    let first = match &value {
        Value::Array(items) => items.first().cloned().unwrap_or(Value::Null),
        other => other.clone(),
    };
    let text = |key: &str| match first.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    if let Some(id) = text("service_request_id") {
        Ok(Accepted::Id(id))
    } else if let Some(token) = text("token") {
        Ok(Accepted::Token(token))
    } else {
        Err(format!(
            "the answer names neither service_request_id nor token: {}",
            body.chars().take(200).collect::<String>()
        ))
    }
}

/// A request as a unit's Open311 endpoint reports it back.
#[derive(Clone, Debug, PartialEq)]
pub struct Remote {
    pub id: String,
    /// `open` or `closed`.
    pub closed: bool,
    pub notes: Option<String>,
    pub expected: Option<chrono::NaiveDate>,
}

/// Reads `GET requests.json?service_request_id=…`: the requests named, with their status,
/// notes and expected date. Entries without an id are skipped.
pub fn parse_remote(body: &str) -> Result<Vec<Remote>, String> {
    let value: Value =
        serde_json::from_str(body).map_err(|e| format!("the answer is not JSON: {e}"))?;
    let items = value
        .as_array()
        .ok_or_else(|| "the answer is not a list of requests".to_owned())?;
    Ok(items
        .iter()
        .filter_map(|r| {
            let id = match r.get("service_request_id")? {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return None,
            };
            let text = |k: &str| {
                r.get(k)
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
            };
            Some(Remote {
                id,
                closed: text("status").is_some_and(|s| s.eq_ignore_ascii_case("closed")),
                notes: text("status_notes").map(str::to_owned),
                expected: text("expected_datetime").and_then(|t| {
                    DateTime::parse_from_rfc3339(t)
                        .map(|d| d.date_naive())
                        .ok()
                        .or_else(|| t.get(..10)?.parse().ok())
                }),
            })
        })
        .collect())
}

/// Reads `GET tokens/{token}.json`: the request id once the endpoint has assigned one.
pub fn parse_token(body: &str) -> Option<String> {
    match parse_accepted(body) {
        Ok(Accepted::Id(id)) => Some(id),
        _ => None,
    }
}

/// The signature (hex) of a unit's link to act on a report without an account: HMAC-SHA256
/// over the report and the unit, under the service's link key.
pub fn unit_link_signature(key: &[u8], report_id: i64, unit: &str) -> String {
    hex::encode(hmac_sha256(
        key,
        format!("zglos-unit-link-v1\n{report_id}\n{unit}").as_bytes(),
    ))
}

/// Whether `signature` is the unit link's (in constant time).
pub fn unit_link_valid(key: &[u8], report_id: i64, unit: &str, signature: &str) -> bool {
    let expected = unit_link_signature(key, report_id, unit);
    let sent = signature.trim().to_ascii_lowercase();
    expected.len() == sent.len()
        && expected
            .bytes()
            .zip(sent.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// The path of a unit's link (after the service's base URL): the page to set the status.
pub fn unit_link_path(key: &[u8], report_id: i64, unit: &str) -> String {
    format!(
        "/api/v1/unit-links/{report_id}?unit={unit}&s={}",
        unit_link_signature(key, report_id, unit)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pack_row_becomes_its_channel_and_a_bad_one_names_its_column() {
        assert_eq!(Delivery::parse("", "", "", ""), Ok(Delivery::Inbox));
        assert_eq!(
            Delivery::parse("email", " zgloszenia@zdmk.krakow.pl ", "", ""),
            Ok(Delivery::Email {
                to: "zgloszenia@zdmk.krakow.pl".into()
            })
        );
        assert_eq!(
            Delivery::parse("webhook", "https://erp.example/hook/", "s3cret", ""),
            Ok(Delivery::Webhook {
                url: "https://erp.example/hook".into(),
                secret: "s3cret".into()
            })
        );
        let Ok(Delivery::Open311 { services, url, .. }) = Delivery::parse(
            "open311",
            "http://10.0.0.5/open311/v2",
            "k",
            "pothole=101 street_lighting=LAMP",
        ) else {
            panic!("an open311 channel")
        };
        assert_eq!(url, "http://10.0.0.5/open311/v2");
        assert_eq!(services["street_lighting"], "LAMP");
        assert_eq!(
            Delivery::parse("webhook", "https://x", "", "")
                .unwrap_err()
                .0,
            "delivery_secret"
        );
        assert_eq!(
            Delivery::parse("webhook", "ftp://x", "s", "")
                .unwrap_err()
                .0,
            "delivery_to"
        );
        assert_eq!(
            Delivery::parse("email", "nobody", "", "").unwrap_err().0,
            "delivery_to"
        );
        assert_eq!(
            Delivery::parse("open311", "http://x", "k", "pothole")
                .unwrap_err()
                .0,
            "delivery_services"
        );
        assert_eq!(
            Delivery::parse("fax", "", "", "").unwrap_err().0,
            "delivery"
        );
    }

    #[test]
    fn a_channel_survives_its_trip_through_json_and_its_description_holds_no_secret() {
        let d = Delivery::parse("open311", "http://x/v2", "KEY-123", "a=b").unwrap();
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["channel"], "open311");
        assert_eq!(serde_json::from_value::<Delivery>(json).unwrap(), d);
        assert!(!d.describe().to_string().contains("KEY-123"));
        let w = Delivery::parse("webhook", "http://x", "s3cret", "").unwrap();
        assert!(!w.describe().to_string().contains("s3cret"));
        assert_eq!(
            serde_json::from_value::<Delivery>(json!({"channel": "inbox"})).unwrap(),
            Delivery::Inbox
        );
    }

    #[test]
    fn only_a_webhook_hears_of_changes_the_others_of_new_reports() {
        let email = Delivery::Email { to: "a@b.c".into() };
        let hook = Delivery::Webhook {
            url: "http://x".into(),
            secret: "s".into(),
        };
        assert!(email.wants(Event::Created) && !email.wants(Event::StatusChanged));
        assert!(hook.wants(Event::StatusChanged) && hook.wants(Event::Moved));
        assert!(!Delivery::Inbox.wants(Event::Created));
    }

    #[test]
    fn the_cloud_event_carries_the_required_attributes_and_its_signature_checks() {
        let time = DateTime::parse_from_rfc3339("2026-12-04T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let body = cloud_event(
            "0b7c",
            "http://zglos.test/krakow",
            Event::Created.cloud_type(),
            "reports/7",
            time,
            &json!({"id": 7}),
        );
        let v: Value = serde_json::from_str(&body).unwrap();
        for key in ["specversion", "id", "source", "type", "subject", "time"] {
            assert!(v.get(key).is_some(), "{key}");
        }
        assert_eq!(v["specversion"], "1.0");
        assert_eq!(v["time"], "2026-12-04T10:00:00.000Z");
        assert_eq!(v["data"]["id"], 7);
        // RFC 4231 test case 2, as a header.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn the_pause_doubles_from_the_base_and_stops_at_an_hour() {
        assert_eq!(backoff_ms(500, 0), 500);
        assert_eq!(backoff_ms(500, 3), 4000);
        assert_eq!(backoff_ms(10_000, 40), 3_600_000);
        assert_eq!(backoff_ms(10_000, -1), 10_000);
    }

    #[test]
    fn the_open311_answers_are_read_in_both_of_their_forms() {
        assert_eq!(
            parse_accepted(r#"[{"service_request_id": "ZD-77", "service_notice": ""}]"#),
            Ok(Accepted::Id("ZD-77".into()))
        );
        assert_eq!(
            parse_accepted(r#"[{"token": "t-1"}]"#),
            Ok(Accepted::Token("t-1".into()))
        );
        assert_eq!(
            parse_accepted(r#"{"service_request_id": 12}"#),
            Ok(Accepted::Id("12".into()))
        );
        assert!(parse_accepted("<html>").is_err());
        assert!(parse_accepted("[{}]").is_err());
        let remote = parse_remote(
            r#"[{"service_request_id":"ZD-77","status":"closed","status_notes":"Załatane.",
                "expected_datetime":"2026-12-10T12:00:00+01:00"},
               {"service_request_id":5,"status":"open"},{"status":"open"}]"#,
        )
        .unwrap();
        assert_eq!(remote.len(), 2);
        assert!(remote[0].closed && !remote[1].closed);
        assert_eq!(remote[0].notes.as_deref(), Some("Załatane."));
        assert_eq!(
            remote[0].expected,
            Some(chrono::NaiveDate::from_ymd_opt(2026, 12, 10).unwrap())
        );
        assert_eq!(remote[1].id, "5");
        assert!(parse_remote(r#"{"error": 1}"#).is_err());
    }

    #[test]
    fn a_unit_link_is_valid_for_its_report_and_unit_only() {
        let key = b"k";
        let s = unit_link_signature(key, 7, "ZDMK");
        assert!(unit_link_valid(key, 7, "ZDMK", &s));
        assert!(unit_link_valid(key, 7, "ZDMK", &s.to_uppercase()));
        assert!(!unit_link_valid(key, 8, "ZDMK", &s));
        assert!(!unit_link_valid(key, 7, "ZZM", &s));
        assert!(!unit_link_valid(key, 7, "ZDMK", &s[1..]));
        assert!(unit_link_path(key, 7, "ZDMK").starts_with("/api/v1/unit-links/7?unit=ZDMK&s="));
    }

    #[test]
    fn the_open311_form_names_the_city_number_and_leaves_out_what_is_missing() {
        let form = Open311Request {
            api_key: "k",
            service_code: "101",
            lat: 50.0617,
            lon: 19.9373,
            address: None,
            description: "Dziura",
            media_url: Some("http://x/p.jpg"),
            attribute_id: 42,
        }
        .form();
        let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("long"), Some("19.9373000"));
        assert_eq!(get("attribute[zglos_id]"), Some("42"));
        assert_eq!(get("address_string"), None);
        assert_eq!(get("media_url"), Some("http://x/p.jpg"));
    }
}
