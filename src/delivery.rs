//! The delivery worker: sends what `app::delivery` queued for units' own systems (webhook
//! events, Open311 requests), one per transaction, and polls the units' Open311 endpoints for the
//! status of their reports.
//!
//! A delivery's row is locked while it is sent (SKIP LOCKED: several service processes run
//! workers without sending twice) and marked in the same transaction, so a crash can send again
//! at most the one in flight; receivers drop a repeat by the event's id, which stays the same on
//! every attempt. A failed attempt is retried after a growing pause; a receiver that refuses the
//! event for good (a 4xx other than 408 and 429), or the last of the set attempts, leaves it in
//! the dead-letter list, where admins see it and retry it.
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use sqlx::PgPool;

use crate::app::staff::StatusChange;
use crate::config::DeliveryArgs;
use crate::domain::delivery::{self as rules, Accepted, Delivery, Open311Request};
use crate::domain::StaffUser;
use crate::engine::Engine;
use crate::storage::deliveries::{self as store, Pending};

/// How the worker sends.
#[derive(Clone, Debug)]
pub struct DeliveryConfig {
    /// The service's base URL: the events' `source`, and what the links in them start with.
    pub base_url: String,
    pub retry_base_ms: u64,
    pub max_attempts: i32,
    pub timeout: Duration,
    pub poll_every: Duration,
}

impl DeliveryConfig {
    pub fn new(base_url: &str, args: &DeliveryArgs) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            retry_base_ms: args.retry_base_ms,
            max_attempts: args.max_attempts.max(1),
            timeout: Duration::from_secs(args.delivery_timeout_seconds.max(1)),
            poll_every: Duration::from_secs(args.open311_poll_seconds.max(1)),
        }
    }
}

/// Why an attempt failed: worth another try, or refused for good.
enum Failure {
    Retry(String),
    Refused(String),
}

fn http_failure(status: reqwest::StatusCode, body: &str) -> Failure {
    let text = format!(
        "the receiver answered {status}: {}",
        body.chars().take(300).collect::<String>()
    );
    let lasting = status.is_client_error()
        && status != reqwest::StatusCode::REQUEST_TIMEOUT
        && status != reqwest::StatusCode::TOO_MANY_REQUESTS;
    if lasting {
        Failure::Refused(text)
    } else {
        Failure::Retry(text)
    }
}

/// The links of a report's data made absolute.
fn absolute(mut data: Value, base_url: &str) -> Value {
    if let Some(url) = data.get_mut("url") {
        if let Some(path) = url.as_str() {
            *url = Value::String(format!("{base_url}{path}"));
        }
    }
    if let Some(Value::Array(photos)) = data.get_mut("photos") {
        for p in photos {
            if let Some(path) = p.as_str() {
                *p = Value::String(format!("{base_url}{path}"));
            }
        }
    }
    data
}

async fn send_webhook(
    client: &reqwest::Client,
    config: &DeliveryConfig,
    url: &str,
    secret: &str,
    d: &Pending,
) -> Result<(), Failure> {
    let subject = d
        .report_id
        .map_or_else(|| "reports".to_owned(), |id| format!("reports/{id}"));
    let body = rules::cloud_event(
        &d.event_id,
        &config.base_url,
        &d.event_type,
        &subject,
        d.created_at,
        &absolute(d.payload.clone(), &config.base_url),
    );
    let answer = client
        .post(url)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/cloudevents+json; charset=utf-8",
        )
        .header("Zglos-Signature", rules::signature(secret, body.as_bytes()))
        .header("Zglos-Event-Id", &d.event_id)
        .body(body)
        .send()
        .await
        .map_err(|e| Failure::Retry(format!("cannot reach {url}: {e}")))?;
    let status = answer.status();
    if status.is_success() {
        return Ok(());
    }
    let text = answer.text().await.unwrap_or_default();
    Err(http_failure(status, &text))
}

/// POSTs a report to a unit's Open311 endpoint; what it answered.
async fn send_open311(
    client: &reqwest::Client,
    config: &DeliveryConfig,
    url: &str,
    api_key: &str,
    services: &std::collections::BTreeMap<String, String>,
    d: &Pending,
    point: (f64, f64),
) -> Result<Accepted, Failure> {
    let data = absolute(d.payload.clone(), &config.base_url);
    let text = |k: &str| data.get(k).and_then(Value::as_str);
    let category = text("category").unwrap_or_default();
    let form = Open311Request {
        api_key,
        service_code: services.get(category).map_or(category, String::as_str),
        lat: point.1,
        lon: point.0,
        address: text("address"),
        description: text("description").unwrap_or_default(),
        media_url: data
            .get("photos")
            .and_then(|p| p.get(0))
            .and_then(Value::as_str),
        attribute_id: d.report_id.unwrap_or_default(),
    }
    .form();
    let target = format!("{url}/requests.json");
    let answer = client
        .post(&target)
        .form(&form)
        .send()
        .await
        .map_err(|e| Failure::Retry(format!("cannot reach {target}: {e}")))?;
    let status = answer.status();
    let body = answer.text().await.unwrap_or_default();
    if !status.is_success() {
        return Err(http_failure(status, &body));
    }
    rules::parse_accepted(&body).map_err(Failure::Retry)
}

/// Pushes a message to a device (RFC 8030), encrypted for its keys (RFC 8291) and authorised
/// with the service's VAPID key (RFC 8292). A push service that says the subscription is gone
/// (404, 410) has it removed, with its other pending pushes.
async fn send_push(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    client: &reqwest::Client,
    config: &DeliveryConfig,
    subscription: i64,
    d: &Pending,
) -> anyhow::Result<Result<(), Failure>> {
    use crate::domain::webpush;
    use crate::storage::push;
    let Some(keys) = push::keys(tx, subscription).await? else {
        return Ok(Ok(()));
    };
    let sub = match webpush::Subscription::parse(&keys.endpoint, &keys.p256dh, &keys.auth) {
        Ok(s) => s,
        Err(e) => return Ok(Err(Failure::Refused(e.message))),
    };
    let vapid = match crate::app::push::signing_key(tx).await {
        Ok(k) => k,
        Err(e) => return Ok(Err(Failure::Retry(e.to_string()))),
    };
    let Some(authorization) = webpush::vapid_authorization(
        &vapid,
        &sub.endpoint,
        &config.base_url,
        chrono::Utc::now().timestamp(),
    ) else {
        return Ok(Err(Failure::Refused(format!(
            "{} has no origin",
            sub.endpoint
        ))));
    };
    let plaintext = d.payload.to_string();
    if plaintext.len() > webpush::MAX_PAYLOAD {
        return Ok(Err(Failure::Refused(
            "the push is longer than one record".into(),
        )));
    }
    let body = webpush::encrypt(&sub.p256dh, &sub.auth, plaintext.as_bytes());
    let answer = client
        .post(&sub.endpoint)
        .header(reqwest::header::AUTHORIZATION, authorization)
        .header(reqwest::header::CONTENT_ENCODING, "aes128gcm")
        .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
        .header("TTL", "86400")
        .header("Urgency", "normal")
        .body(body)
        .send()
        .await;
    let answer = match answer {
        Ok(a) => a,
        Err(e) => {
            return Ok(Err(Failure::Retry(format!(
                "cannot reach the push service: {e}"
            ))))
        }
    };
    let status = answer.status();
    if status.is_success() {
        return Ok(Ok(()));
    }
    if status == reqwest::StatusCode::GONE || status == reqwest::StatusCode::NOT_FOUND {
        push::remove(tx, subscription).await?;
        tracing::info!(subscription, %status, "push subscription gone; removed");
        return Ok(Ok(()));
    }
    let text = answer.text().await.unwrap_or_default();
    Ok(Err(http_failure(status, &text)))
}

/// Sends one due delivery, if there is one; false when none was due.
async fn deliver_one(
    pool: &PgPool,
    engine: &Engine,
    client: &reqwest::Client,
    config: &DeliveryConfig,
) -> anyhow::Result<bool> {
    let mut tx = pool.begin().await?;
    let Some(d) = store::next_due(&mut tx).await? else {
        tx.commit().await?;
        return Ok(false);
    };
    if let (rules::PUSH, Some(subscription)) = (d.kind.as_str(), d.subscription_id) {
        let outcome = send_push(&mut tx, client, config, subscription, &d).await?;
        return finish(tx, config, &d, outcome).await;
    }
    let unit = d.unit_code.clone().unwrap_or_default();
    let channel = engine.catalogue().unit(&unit).map(|u| u.delivery.clone());
    let outcome = match channel {
        Some(Delivery::Webhook { url, secret }) if d.kind == rules::WEBHOOK => {
            send_webhook(client, config, &url, &secret, &d).await
        }
        Some(Delivery::Open311 {
            url,
            api_key,
            services,
        }) if d.kind == rules::OPEN311 => {
            let id = d.report_id.unwrap_or_default();
            let point = store::point_of(&mut tx, id).await?.unwrap_or_default();
            match send_open311(client, config, &url, &api_key, &services, &d, point).await {
                Ok(accepted) => {
                    let (external, token) = match &accepted {
                        Accepted::Id(i) => (Some(i.as_str()), None),
                        Accepted::Token(t) => (None, Some(t.as_str())),
                    };
                    store::record_accepted(&mut tx, id, &unit, external, token).await?;
                    Ok(())
                }
                Err(e) => Err(e),
            }
        }
        _ => Err(Failure::Refused(format!(
            "unit {unit} no longer has a {} channel (the city pack changed)",
            d.kind
        ))),
    };
    finish(tx, config, &d, outcome).await
}

/// Marks a delivery after its attempt and commits.
async fn finish(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    config: &DeliveryConfig,
    d: &Pending,
    outcome: Result<(), Failure>,
) -> anyhow::Result<bool> {
    let target = d
        .unit_code
        .clone()
        .or_else(|| d.subscription_id.map(|s| format!("device #{s}")))
        .unwrap_or_default();
    match outcome {
        Ok(()) => {
            store::mark_delivered(&mut tx, d.id).await?;
            tx.commit().await?;
            metrics::counter!("zglos_deliveries_total", "kind" => d.kind.clone(), "outcome" => "delivered").increment(1);
        }
        Err(failure) => {
            let (error, max) = match failure {
                Failure::Retry(e) => (e, config.max_attempts),
                Failure::Refused(e) => (e, d.attempts + 1),
            };
            let pause = rules::backoff_ms(config.retry_base_ms, d.attempts);
            let dead = store::mark_failed(&mut tx, d.id, &error, pause, max).await?;
            tx.commit().await?;
            metrics::counter!("zglos_deliveries_total", "kind" => d.kind.clone(), "outcome" => if dead { "dead" } else { "retry" }).increment(1);
            if dead {
                tracing::error!(delivery = d.id, %target, %error, "delivery given up; it waits in the dead-letter list");
            } else {
                tracing::warn!(delivery = d.id, %target, %error, "delivery failed; will retry");
            }
        }
    }
    Ok(true)
}

/// Sends everything that is due (a delivery that fails waits for its next attempt while the
/// others go on); how many attempts were made.
pub async fn deliver_due(
    pool: &PgPool,
    engine: &Engine,
    client: &reqwest::Client,
    config: &DeliveryConfig,
    stop: &(dyn Fn() -> bool + Sync),
) -> anyhow::Result<usize> {
    let mut n = 0;
    while !stop() && deliver_one(pool, engine, client, config).await? {
        n += 1;
    }
    Ok(n)
}

/// Asks each Open311 unit's endpoint about its open reports; applies a request closed there as
/// the report resolved here, with the endpoint's `status_notes` as the public reply.
pub async fn poll_open311(
    pool: &PgPool,
    engine: &Arc<Engine>,
    client: &reqwest::Client,
    config: &DeliveryConfig,
) -> anyhow::Result<usize> {
    let catalogue = engine.catalogue();
    let mut applied = 0;
    for unit in &catalogue.units {
        let Delivery::Open311 { url, api_key, .. } = &unit.delivery else {
            continue;
        };
        let mut conn = pool.acquire().await?;
        let rows = store::open_requests(&mut conn, &unit.code, 50).await?;
        if rows.is_empty() {
            continue;
        }
        let mut by_id = Vec::new();
        for row in rows {
            let id = match (&row.external_id, &row.token) {
                (Some(id), _) => id.clone(),
                (None, Some(token)) => {
                    let answer = client
                        .get(format!("{url}/tokens/{token}.json"))
                        .query(&[("api_key", api_key)])
                        .send()
                        .await;
                    let Ok(answer) = answer else { continue };
                    let Some(id) = rules::parse_token(&answer.text().await.unwrap_or_default())
                    else {
                        continue;
                    };
                    store::set_external_id(&mut conn, row.report_id, &unit.code, &id).await?;
                    id
                }
                (None, None) => continue,
            };
            by_id.push((id, row));
        }
        if by_id.is_empty() {
            continue;
        }
        let ids: Vec<&str> = by_id.iter().map(|(id, _)| id.as_str()).collect();
        let asked: Vec<i64> = by_id.iter().map(|(_, r)| r.report_id).collect();
        store::mark_polled(&mut conn, &unit.code, &asked).await?;
        let answer = client
            .get(format!("{url}/requests.json"))
            .query(&[("service_request_id", ids.join(","))])
            .send()
            .await;
        let remote = match answer {
            Ok(a) if a.status().is_success() => {
                rules::parse_remote(&a.text().await.unwrap_or_default())
            }
            Ok(a) => Err(format!("the endpoint answered {}", a.status())),
            Err(e) => Err(e.to_string()),
        };
        let remote = match remote {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(unit = %unit.code, error = %e, "cannot read the unit's Open311 requests; will ask again");
                continue;
            }
        };
        drop(conn);
        let system = StaffUser::unit_system(&format!("{} Open311", unit.code), &unit.code);
        let resolved = catalogue.workflow.roles.resolved.clone();
        for r in remote {
            let Some((_, row)) = by_id.iter().find(|(id, _)| *id == r.id) else {
                continue;
            };
            let mut conn = pool.acquire().await?;
            store::record_remote(
                &mut conn,
                row.report_id,
                &unit.code,
                r.closed,
                r.notes.as_deref(),
                r.expected,
            )
            .await?;
            drop(conn);
            if !r.closed || row.remote_closed {
                continue;
            }
            let change = StatusChange {
                status: resolved.clone(),
                public_note: r.notes.clone().unwrap_or_else(|| {
                    format!("{}: the request was closed in the unit's system", unit.name)
                }),
                internal_note: Some(format!("Open311 request {}", r.id)),
                expected_at: None,
                unit: None,
                photos: Vec::new(),
            };
            match crate::app::staff::change_status(
                pool,
                engine,
                &system,
                row.report_id,
                &change,
                &config.base_url,
            )
            .await
            {
                Ok(()) => applied += 1,
                Err(e) => {
                    tracing::warn!(unit = %unit.code, report = row.report_id, error = %e, "the unit's status could not be applied")
                }
            }
        }
    }
    Ok(applied)
}

/// Runs the worker until `stop` turns true: deliveries on every `zglos_deliveries`
/// notification and every `every`, the Open311 polls every `config.poll_every`.
pub fn spawn_worker(
    pool: PgPool,
    engine: Arc<Engine>,
    config: DeliveryConfig,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = match reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent(concat!("Zglos/", env!("CARGO_PKG_VERSION")))
            .build()
        {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "no HTTP client: deliveries wait in their table");
                return;
            }
        };
        let mut listening =
            crate::storage::listen::Listening::new(pool.clone(), "zglos_deliveries").await;
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_poll = tokio::time::Instant::now();
        let mut failing = false;
        loop {
            tokio::select! {
                _ = listening.wait(&mut tick) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            let stopping = stop.clone();
            let should_stop = move || *stopping.borrow();
            let mut result = deliver_due(&pool, &engine, &client, &config, &should_stop)
                .await
                .map(|_| ());
            if result.is_ok() && last_poll.elapsed() >= config.poll_every {
                last_poll = tokio::time::Instant::now();
                result = poll_open311(&pool, &engine, &client, &config)
                    .await
                    .map(|_| ());
            }
            match result {
                Ok(()) if failing => {
                    tracing::info!("delivery worker resumed");
                    failing = false;
                }
                Ok(()) => {}
                Err(e) => {
                    if !failing {
                        tracing::warn!(error = %e, "delivery worker: will retry at each sweep");
                    }
                    failing = true;
                }
            }
        }
    })
}
