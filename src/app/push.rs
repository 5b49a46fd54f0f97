//! Push notifications to residents' devices: a device subscribes (Web Push) for the reports it
//! filed, supported or follows, and hears of every status change of them in its language; on
//! "resolved" the push asks "Is it fixed?" with the two signed answers as its actions. Pushes are
//! queued in the transaction of the change and sent by the delivery worker (`crate::delivery`).
use serde_json::json;
use sqlx::{PgConnection, PgPool};

use super::{AppError, AppResult};
use crate::domain::messages::push_message;
use crate::domain::moderation::{link_path, LinkPurpose};
use crate::domain::webpush::{self, Subscription};
use crate::domain::{Invalid, Lang};
use crate::engine::Engine;
use crate::storage::staff::StaffReport;
use crate::storage::{self, deliveries, push as store};

/// The event type of a status push (the deliveries table's `event_type`).
pub const STATUS_PUSH: &str = "pl.zglos.push.status";

/// The service's VAPID signing key (made and stored on first use).
pub async fn signing_key(conn: &mut PgConnection) -> AppResult<p256::ecdsa::SigningKey> {
    let bytes = store::vapid_key(conn, webpush::new_vapid_key).await?;
    webpush::vapid_key(&bytes)
        .ok_or_else(|| AppError::internal("the stored VAPID key is not a P-256 key"))
}

/// The VAPID public key a device subscribes with.
pub async fn public_key(pool: &PgPool) -> AppResult<String> {
    let mut conn = pool.acquire().await?;
    Ok(webpush::vapid_public(&signing_key(&mut conn).await?))
}

/// A device subscribes for `reports` (each must exist); its subscription id.
pub async fn subscribe(
    pool: &PgPool,
    subscription: &Subscription,
    keys: (&str, &str),
    lang: Lang,
    reports: &[i64],
) -> AppResult<i64> {
    let mut tx = pool.begin().await?;
    let id = store::upsert_subscription(
        &mut tx,
        &subscription.endpoint,
        keys.0.trim(),
        keys.1.trim(),
        lang.as_str(),
    )
    .await?;
    for (i, report) in reports.iter().enumerate() {
        if storage::reports::category_of(&mut *tx, *report)
            .await?
            .is_none()
        {
            return Err(Invalid::unacceptable(
                "unknown_report",
                format!("there is no report {report}"),
            )
            .at(format!("reports[{i}]"))
            .into());
        }
        store::follow(&mut tx, id, *report).await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// Turns pushes off for one report, or (None) for all; how many reports the device no longer
/// follows.
pub async fn unsubscribe(pool: &PgPool, endpoint: &str, report: Option<i64>) -> AppResult<u64> {
    let mut conn = pool.acquire().await?;
    Ok(store::unfollow(&mut conn, endpoint, report).await?)
}

/// The reports a device follows.
pub async fn followed(pool: &PgPool, endpoint: &str) -> AppResult<Vec<i64>> {
    let mut conn = pool.acquire().await?;
    Ok(store::followed(&mut conn, endpoint).await?)
}

/// Queues a push about a status change of `report` to every device that follows it.
pub async fn queue_status(
    tx: &mut PgConnection,
    engine: &Engine,
    report: &StaffReport,
    status: &str,
    note: &str,
    base_url: &str,
) -> AppResult<()> {
    let id = report.public.id;
    let followers = store::followers(tx, id).await?;
    if followers.is_empty() {
        return Ok(());
    }
    let catalogue = engine.catalogue();
    let resolved = status == catalogue.workflow.roles.resolved;
    let key = storage::moderation::link_key(&mut *tx).await?;
    for (subscription, lang) in followers {
        let lang = Lang::from_code(&lang);
        let name = catalogue.status(status).map_or_else(
            || status.to_owned(),
            |(_, s)| s.names.get(lang.as_str()).to_owned(),
        );
        let (title, body) = push_message(lang, id, &name, note, resolved);
        let mut payload = json!({
            "title": title,
            "body": body,
            "url": format!("{base_url}/r/{id}"),
            "report_id": id,
            "status": status,
            "lang": lang.as_str(),
            "tag": format!("report-{id}"),
        });
        if resolved {
            // The one-tap answers, signed for this device (it has no email: the links carry
            // the device's own stand-in for one).
            let device = format!("push-{subscription}@devices.invalid");
            let link = |p| format!("{base_url}{}", link_path(&key, p, id, &device));
            payload["fixed_url"] = json!(link(LinkPurpose::Fixed));
            payload["not_fixed_url"] = json!(link(LinkPurpose::NotFixed));
        }
        store::queue(tx, subscription, id, STATUS_PUSH, &payload).await?;
    }
    deliveries::wake_workers(tx).await?;
    Ok(())
}
