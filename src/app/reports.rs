//! What residents and consultants do with reports: submit one (dedup, routing, idempotency),
//! support one ("me too"), follow one.
use chrono::Utc;
use serde_json::Value;
use sqlx::PgPool;

use super::{sync, AppError, AppResult};
use crate::catalogue::Placement;
use crate::domain::{Channel, Email, Invalid, Lang, NewReport};
use crate::engine::{Engine, IndexRow};
use crate::storage::reports::{self as store, Insert, InsertedRow, PublicReport};

/// A validated `Idempotency-Key` and the hash of the request it came with.
#[derive(Clone, Debug)]
pub struct Idempotency {
    pub key: String,
    pub request_hash: String,
}

/// A submission's outcome with what the response shows.
pub enum Submission {
    /// The new report as stored, with its timeline: read from what the insert returned.
    Created(Box<StoredReport>),
    /// The same request came before with this key: its report.
    Replayed(i64),
}

pub struct StoredReport {
    pub report: PublicReport,
    pub timeline: Vec<Value>,
}

/// The report an earlier request with the same key created; refused when the key came with a
/// different request.
async fn replay(executor: impl sqlx::PgExecutor<'_>, idem: &Idempotency) -> AppResult<Option<i64>> {
    match store::idempotency_key(executor, &idem.key).await? {
        Some((id, hash)) if hash == idem.request_hash => Ok(Some(id)),
        Some(_) => Err(Invalid::unacceptable(
            "idempotency_key_reused",
            "this Idempotency-Key was already used for a different request; use a new key for a new report",
        )
        .at("Idempotency-Key")
        .into()),
        None => Ok(None),
    }
}

/// Stores a submission: dedup against open reports of its category, routed as `placement` says.
/// Every submission is stored, duplicates included (linked with `duplicate_of`).
///
/// Round trips: BEGIN; the category's lock with the catch-up; one statement that confirms the
/// original the in-memory index found (if any) and inserts the report, its timeline, its photos
/// and its idempotency key; COMMIT. The rows written are applied to the engine from what the
/// statement returned, and the response is built from them too; other processes are notified
/// after the commit, off the request's path.
pub async fn submit(
    pool: &PgPool,
    engine: &Engine,
    report: &NewReport,
    placement: &Placement,
    idem: Option<&Idempotency>,
) -> AppResult<Submission> {
    submit_from(pool, engine, report, placement, idem, None, None).await
}

/// [`submit`], from a client address: a submission whose email, phone or address is on the
/// abuse list is stored but held for moderation (see `app::moderation`). The submitter is not
/// told: the answer is the same. With `confirm_from` (the service's base URL), a reporter who
/// left an email is sent the confirmation, queued in the same transaction as the report.
pub async fn submit_from(
    pool: &PgPool,
    engine: &Engine,
    report: &NewReport,
    placement: &Placement,
    idem: Option<&Idempotency>,
    client_address: Option<&str>,
    confirm_from: Option<&str>,
) -> AppResult<Submission> {
    if let Some(idem) = idem {
        if let Some(id) = replay(pool, idem).await? {
            return Ok(Submission::Replayed(id));
        }
    }
    let mut tx = pool.begin().await?;
    sync::lock_and_catch_up(&mut tx, engine, &report.category).await?;
    if let Some(idem) = idem {
        // A concurrent retry of the same request may have committed while we waited for the lock.
        if let Some(id) = replay(&mut *tx, idem).await? {
            return Ok(Submission::Replayed(id));
        }
    }

    let now = Utc::now();
    let catalogue = engine.catalogue();
    let abuse = super::moderation::abuse_match(&mut tx, report, client_address).await?;
    let hold = abuse.map(|_| "abuse_list");
    // A held report is no duplicate: it must not add a supporter to a public report.
    let candidate = match hold {
        Some(_) => None,
        None => engine
            .find_original(
                &report.category,
                report.geometry.geometry(),
                now.timestamp(),
            )
            .map(|c| c.id),
    };
    let open_statuses = catalogue.open_statuses();
    let roles = &catalogue.workflow.roles;
    let rows = store::insert(
        &mut tx,
        &Insert {
            report,
            placement,
            candidate,
            open_statuses: &open_statuses,
            initial_status: &roles.initial,
            duplicate_status: &roles.duplicate,
            now,
            idempotency: idem.map(|i| (i.key.as_str(), i.request_hash.as_str())),
            hold,
            deadlines: catalogue.deadlines(&report.category, placement.unit_code.as_deref(), now),
        },
    )
    .await?;
    let first = rows
        .first()
        .ok_or_else(|| AppError::internal("the insert returned no row"))?;
    check_photos(&report.photos, &first.public.photos)?;
    if let Some(entry) = abuse {
        super::moderation::audit_hold(&mut tx, first.public.id, entry).await?;
    }
    if hold.is_none() {
        super::delivery::report_changed(
            &mut tx,
            catalogue,
            first.public.id,
            crate::domain::delivery::Event::Created,
            None,
            None,
            confirm_from.unwrap_or(""),
        )
        .await?;
    }
    if let (Some(base_url), Some(email)) = (confirm_from, report.contact.email.as_ref()) {
        let p = &first.public;
        let unit = p
            .unit_code
            .as_deref()
            .and_then(|u| catalogue.unit(u))
            .map(|u| u.name.as_str());
        let (subject, mut body) = crate::domain::messages::confirmation_message(
            report.lang,
            p.id,
            unit,
            p.expected_at,
            p.duplicate_of,
            &format!("{base_url}/r/{}", p.id),
        );
        body.push_str(
            &super::moderation::mail_links(&mut tx, base_url, p.id, email, report.lang).await?,
        );
        let html =
            super::moderation::mail_html(catalogue, &p.category, report.lang, base_url, &body);
        crate::storage::outbox::queue_html(&mut tx, p.id, email, &subject, &body, Some(&html))
            .await?;
        crate::storage::outbox::wake_workers(&mut tx).await?;
    }
    tx.commit().await?;

    // Committed: apply the rows written directly. The cursor skips them if a catch-up got there
    // first, and nothing older in the category can be missing, since this transaction caught up
    // under the lock before writing.
    let timeline = rows
        .iter()
        .map(|r| {
            store::timeline_entry(
                r.at,
                &r.kind,
                r.event_status.as_deref(),
                r.public_note.as_deref(),
            )
        })
        .collect();
    let mut rows = rows.into_iter();
    let Some(InsertedRow {
        public,
        index,
        original,
        ..
    }) = rows.next()
    else {
        unreachable!("checked above")
    };
    let mut changed: Vec<IndexRow> = original.map(|o| o.0).into_iter().chain([index]).collect();
    changed.sort_by_key(|r| r.rev);
    engine.apply(&changed);
    notify_after_commit(pool, &report.category);
    Ok(Submission::Created(Box::new(StoredReport {
        report: public,
        timeline,
    })))
}

/// Tells other service processes that a category changed, after the commit and off the request's
/// path. A NOTIFY inside the transaction would make its commit take PostgreSQL's cluster-wide
/// notification lock until the commit record is flushed, so every submission's commit would wait
/// for the previous one's flush; sent on its own, the notification writes nothing and holds that
/// lock only for an instant. Other processes do not need it to deduplicate (they catch up under
/// the category's lock); it keeps their tiles fresh, and if it is lost (a crash right after the
/// commit) their periodic sweep makes up for it.
fn notify_after_commit(pool: &PgPool, category: &str) {
    let (pool, category) = (pool.clone(), category.to_owned());
    tokio::spawn(async move {
        if let Err(e) = store::notify(&pool, &category).await {
            tracing::warn!(error = %e, category, "notification failed; other processes will see the report at their next sweep");
        }
    });
}

/// Photos the submission names but the insert could not attach (unknown, taken by another report,
/// or named twice): the first of them is the error.
fn check_photos(requested: &[String], attached: &[String]) -> Result<(), Invalid> {
    for (i, id) in requested.iter().enumerate() {
        if !attached.contains(id) || requested[..i].contains(id) {
            return Err(Invalid::unacceptable(
                "unknown_photo",
                format!("photo {id:?} was not uploaded or belongs to another report"),
            )
            .at(format!("properties.photos[{i}]")));
        }
    }
    Ok(())
}

/// "Me too": adds a supporter to a report (to its original when it is a duplicate) without a new
/// report; with an email, the supporter also follows it. Returns the id of the report that gained
/// the supporter.
pub async fn support(
    pool: &PgPool,
    engine: &Engine,
    id: i64,
    email: Option<&Email>,
    lang: Lang,
    channel: Channel,
) -> AppResult<i64> {
    let category = store::category_of(pool, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no report {id}")))?;
    let mut tx = pool.begin().await?;
    crate::storage::lock_category(&mut tx, &category).await?;
    let (target, status) = store::support_target(&mut tx, id).await?;
    if !engine.catalogue().workflow.is_open(&status) {
        return Err(Invalid::conflict(
            "report_closed",
            format!("report {target} is {status}; it can no longer be supported"),
        )
        .into());
    }
    store::add_supporter(
        &mut tx,
        target,
        channel.as_str(),
        email.map(Email::as_str),
        lang.as_str(),
    )
    .await?;
    if let Some(email) = email {
        store::subscribe(&mut tx, target, email, lang.as_str()).await?;
    }
    store::notify(&mut *tx, &category).await?;
    tx.commit().await?;
    sync::catch_up(pool, engine, Some(&category)).await?;
    Ok(target)
}

/// Asks to be told about changes to a report.
pub async fn subscribe(pool: &PgPool, id: i64, email: &Email, lang: Lang) -> AppResult<()> {
    store::category_of(pool, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no report {id}")))?;
    let mut conn = pool.acquire().await?;
    store::subscribe(&mut conn, id, email, lang.as_str()).await?;
    Ok(())
}
