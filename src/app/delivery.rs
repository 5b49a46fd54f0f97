//! Reports reaching units that work in their own systems. Every change that a unit's channel
//! wants to hear of (see `domain::delivery`) is queued in the transaction of the change: a
//! webhook event or an Open311 request in `deliveries`, a mail in the outbox. The delivery
//! worker (`crate::delivery`) sends them, retries with growing pauses and, after the set number
//! of attempts, leaves them in the dead-letter list that admins see and retry.
//!
//! A unit's mail carries a signed link to a page where the unit sets the status without an
//! account (`act_by_link`): the change is the same as a `unit_system` key's, scoped the same way.
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};

use super::{AppError, AppResult};
use crate::catalogue::Catalogue;
use crate::domain::delivery::{self as rules, Delivery, Event};
use crate::domain::messages::{unit_report_message, UnitReport};
use crate::domain::{AccessError, Lang, StaffUser};
use crate::engine::Engine;
use crate::storage::staff::StaffReport;
use crate::storage::{self, deliveries as store, outbox};

/// What a unit's system is told about a report: the report as the public sees it, with its
/// deadlines, links and the public note of the change. The links are paths: the delivery worker
/// puts the service's base URL before them when it sends.
fn data(catalogue: &Catalogue, r: &StaffReport, note: Option<&str>) -> Value {
    let p = &r.public;
    let category = catalogue.category(&p.category);
    json!({
        "id": p.id,
        "url": format!("/r/{}", p.id),
        "category": p.category,
        "category_name": category.map(|(_, c)| c.name_pl.as_str()),
        "status": p.status,
        "description": p.description,
        "geometry": serde_json::from_str::<Value>(&p.geometry).unwrap_or(Value::Null),
        "address": p.address_label,
        "district": p.district_name,
        "unit": p.unit_code,
        "duplicate_of": p.duplicate_of,
        "supporters": p.supporters,
        "channel": p.channel,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
        "expected_at": p.expected_at,
        "response_due": r.response_due,
        "fix_due": r.fix_due,
        "photos": p.photos.iter().map(|id| format!("/api/v1/photos/{id}")).collect::<Vec<_>>(),
        "note": note,
    })
}

/// Queues what the units hear of a change to report `id` (`before_unit`: its unit before the
/// change; the report is read as it is now, inside the transaction). A report that moved to
/// another unit is new to that unit, and the one it left hears that it moved. `base_url` goes
/// into the links of a unit's mail (only a report new to a unit is mailed).
pub async fn report_changed(
    conn: &mut PgConnection,
    catalogue: &Catalogue,
    id: i64,
    event: Event,
    before_unit: Option<&str>,
    note: Option<&str>,
    base_url: &str,
) -> AppResult<()> {
    // Most cities' units all work in the inbox: then nothing is read or written.
    if catalogue
        .units
        .iter()
        .all(|u| u.delivery == Delivery::Inbox)
    {
        return Ok(());
    }
    let report = super::staff::report(&mut *conn, id).await?;
    let now_unit = report.public.unit_code.clone();
    let mut events = Vec::new();
    match (&now_unit, before_unit) {
        (Some(u), b) if b != Some(u.as_str()) => {
            if let Some(b) = b {
                events.push((b.to_owned(), Event::Moved));
            }
            events.push((u.clone(), Event::Created));
        }
        (Some(u), _) => events.push((u.clone(), event)),
        (None, Some(b)) => events.push((b.to_owned(), Event::Moved)),
        (None, None) => {}
    }
    let wanted: Vec<(&crate::catalogue::Unit, Event)> = events
        .iter()
        .filter_map(|(code, e)| catalogue.unit(code).map(|u| (u, *e)))
        .filter(|(u, e)| u.delivery.wants(*e))
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    // A duplicate's unit already has the original.
    let duplicate = report.public.duplicate_of.is_some();
    let mut queued = (false, false);
    for (unit, event) in wanted {
        if duplicate && event == Event::Created {
            continue;
        }
        let payload = data(catalogue, &report, note);
        match &unit.delivery {
            Delivery::Inbox => {}
            Delivery::Webhook { .. } => {
                store::queue(
                    conn,
                    &unit.code,
                    id,
                    rules::WEBHOOK,
                    event.cloud_type(),
                    &payload,
                )
                .await?;
                queued.0 = true;
            }
            Delivery::Open311 { .. } => {
                store::queue(
                    conn,
                    &unit.code,
                    id,
                    rules::OPEN311,
                    event.cloud_type(),
                    &payload,
                )
                .await?;
                queued.0 = true;
            }
            Delivery::Email { to } => {
                queue_unit_mail(conn, catalogue, &report, &unit.code, to, base_url).await?;
                queued.1 = true;
            }
        }
    }
    if queued.0 {
        store::wake_workers(conn).await?;
    }
    if queued.1 {
        outbox::wake_workers(conn).await?;
    }
    Ok(())
}

/// The mail to a unit whose channel is email, in the city's first language.
async fn queue_unit_mail(
    conn: &mut PgConnection,
    catalogue: &Catalogue,
    report: &StaffReport,
    unit: &str,
    to: &str,
    base_url: &str,
) -> AppResult<()> {
    let p = &report.public;
    let lang = Lang::default();
    let key = storage::moderation::link_key(&mut *conn).await?;
    let (lon, lat) = store::point_of(&mut *conn, p.id).await?.unwrap_or_default();
    let category = catalogue
        .category(&p.category)
        .map(|(_, c)| c.names.get(lang.as_str()).to_owned())
        .unwrap_or_else(|| p.category.clone());
    let photos: Vec<String> = p
        .photos
        .iter()
        .map(|id| format!("{base_url}/api/v1/photos/{id}"))
        .collect();
    let (subject, body) = unit_report_message(
        lang,
        &UnitReport {
            id: p.id,
            category: &category,
            address: p.address_label.as_deref(),
            district: p.district_name.as_deref(),
            description: &p.description,
            lon,
            lat,
            response_due: report.response_due,
            fix_due: report.fix_due,
            photos: &photos,
            page: &format!("{base_url}/r/{}", p.id),
            act: &format!("{base_url}{}", rules::unit_link_path(&key, p.id, unit)),
        },
    );
    let html = super::moderation::mail_html(catalogue, &p.category, lang, base_url, &body);
    outbox::queue_html(conn, p.id, to, &subject, &body, Some(&html)).await?;
    Ok(())
}

/// A unit's signed link, checked: who acts (the unit, as its system would) on which report.
pub async fn check_unit_link(
    pool: &PgPool,
    engine: &Engine,
    id: i64,
    unit: &str,
    signature: &str,
) -> AppResult<(StaffUser, StaffReport)> {
    let key = storage::moderation::link_key(pool).await?;
    if !rules::unit_link_valid(&key, id, unit, signature) {
        return Err(crate::domain::Invalid::unacceptable(
            "bad_signature",
            "this link is not valid: its signature does not match (copy the whole link from the message)",
        )
        .at("s")
        .into());
    }
    let unit = engine
        .catalogue()
        .unit(unit)
        .ok_or_else(|| AppError::not_found(format!("no unit {unit:?}")))?;
    let report = super::staff::report(pool, id).await?;
    if report.public.unit_code.as_deref() != Some(unit.code.as_str()) {
        // The report moved to another unit since the mail: the link no longer gives a say.
        return Err(AccessError::OtherUnit.into());
    }
    let user = StaffUser::unit_system(&format!("{} (mail link)", unit.code), &unit.code);
    Ok((user, report))
}

/// Sets a report's status through a unit's signed link, as the unit's system would.
pub async fn act_by_link(
    pool: &PgPool,
    engine: &Engine,
    id: i64,
    unit: &str,
    signature: &str,
    change: &super::staff::StatusChange,
    base_url: &str,
) -> AppResult<()> {
    let (user, _) = check_unit_link(pool, engine, id, unit, signature).await?;
    super::staff::check_may_work_on(pool, &user, id).await?;
    super::staff::change_status(pool, engine, &user, id, change, base_url).await
}

/// The dead-letter list (mail and deliveries that gave up), newest first.
pub async fn dead_letters(pool: &PgPool) -> AppResult<Vec<store::DeadLetter>> {
    let mut conn = pool.acquire().await?;
    Ok(store::dead_letters(&mut conn, 500).await?)
}

/// Outbound messages waiting for their attempt, and dead ones.
pub async fn counts(pool: &PgPool) -> AppResult<(i64, i64)> {
    let mut conn = pool.acquire().await?;
    Ok(store::counts(&mut conn).await?)
}

/// Gives a dead letter a new round of attempts, recorded in the audit log.
pub async fn retry(pool: &PgPool, user: &StaffUser, kind: &str, id: i64) -> AppResult<()> {
    if !matches!(kind, "mail" | rules::WEBHOOK | rules::OPEN311 | rules::PUSH) {
        return Err(AppError::not_found(format!(
            "no such kind of delivery: {kind:?} (mail, webhook, open311 or push)"
        )));
    }
    let mut tx = pool.begin().await?;
    if !store::retry(&mut tx, kind, id).await? {
        return Err(AppError::not_found(format!(
            "no dead {kind} delivery {id} (it may have been retried already)"
        )));
    }
    storage::moderation::audit(
        &mut tx,
        Some(user.id),
        &user.login,
        &format!("delivery:retry:{kind}"),
        None,
        None,
        None,
        Some(&json!({"kind": kind, "id": id})),
    )
    .await?;
    if kind == "mail" {
        outbox::wake_workers(&mut tx).await?;
    } else {
        store::wake_workers(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(())
}
