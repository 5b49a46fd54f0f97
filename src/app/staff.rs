//! What city staff do: log in, read the inbox and a report's history, move a report through the
//! workflow (with a public note mailed to the reporter and subscribers), merge, unmerge,
//! reassign and edit; and the reporter's own reopening.
//!
//! Every change takes the report's category lock (see `storage::lock_category`) and the row
//! lock, asks `domain::workflow` what to do, writes the change, the timeline, the audit log and
//! the outbox in one transaction, then brings the engine up to date with the category.
use chrono::{Datelike, NaiveDate, Utc};
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use super::{AppError, AppResult};
use crate::catalogue::Placement;
use crate::domain::access::{normalise_login, LoginThrottle};
use crate::domain::credentials::{hash_password, random_token, sha256_hex, verify_password};
use crate::domain::delivery::Event as DeliveryEvent;
use crate::domain::messages::status_message;
use crate::domain::workflow::{ReportState, StatusPlan};
use crate::domain::{AccessError, Invalid, Lang, ReportGeometry, StaffUser};
use crate::engine::Engine;
use crate::storage::staff::{
    self as store, AuditEntry, Event, InboxFilter, InternalEvent, StaffReport,
};
use crate::storage::{self, outbox, users};

/// How long a staff session lasts.
pub const SESSION_HOURS: i32 = 12;

/// Logs a staff member in: a new session token, and who they are. Failed attempts count
/// towards [`LoginThrottle::DEFAULT`] per login and per client address.
pub async fn login(
    pool: &PgPool,
    login: &str,
    password: &str,
    ip: &str,
) -> AppResult<(String, StaffUser)> {
    let throttle = LoginThrottle::DEFAULT;
    let login = normalise_login(login);
    let (by_login, by_ip) =
        store::login_failures(pool, &login, ip, throttle.window_minutes).await?;
    throttle.check(by_login, by_ip)?;
    let account = store::account(pool, &login).await?;
    // Verify against a dummy hash when the account does not exist, so timing does not tell.
    // Argon2 takes tens of milliseconds of CPU: off the async workers.
    // The dummy hash is made there too, the first time.
    let (password, hash, enabled) = match &account {
        Some((_, hash, disabled)) => (password.to_owned(), Some(hash.clone()), !disabled),
        None => (password.to_owned(), None, false),
    };
    let verified = tokio::task::spawn_blocking(move || {
        verify_password(&password, &hash.unwrap_or_else(dummy_hash))
    })
    .await
    .map_err(AppError::internal)?;
    let Some((user_id, _, _)) = account.filter(|_| verified && enabled) else {
        store::record_login_failure(pool, &login, ip).await?;
        return Err(AccessError::InvalidCredentials.into());
    };
    let token = random_token();
    store::create_session(
        pool,
        &sha256_hex(&token),
        user_id,
        &random_token(),
        SESSION_HOURS,
    )
    .await?;
    store::clear_login_failures(pool, &login).await?;
    let user = users::session_user(pool, &sha256_hex(&token))
        .await?
        .ok_or_else(|| AppError::internal("session vanished"))?;
    Ok((token, user))
}

fn dummy_hash() -> String {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY
        .get_or_init(|| hash_password("no such account here").unwrap_or_default())
        .clone()
}

pub async fn logout(pool: &PgPool, token: &str) -> AppResult<()> {
    Ok(store::delete_session(pool, &sha256_hex(token)).await?)
}

/// One page of a unit inbox, with the units' counts (open, overdue, new).
pub async fn inbox(
    pool: &PgPool,
    engine: &Engine,
    filter: &InboxFilter,
) -> AppResult<(Vec<StaffReport>, Value)> {
    let rows = store::inbox(pool, filter).await?;
    let initial = &engine.catalogue().workflow.roles.initial;
    let (open, overdue, new) = store::inbox_counts(pool, &filter.units, initial).await?;
    Ok((rows, json!({"open": open, "overdue": overdue, "new": new})))
}

pub async fn report(executor: impl sqlx::PgExecutor<'_>, id: i64) -> AppResult<StaffReport> {
    store::staff_report(executor, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no report {id}")))
}

/// A report as staff see it, with its whole timeline, audit log and the moves it allows.
pub struct Detail {
    pub report: StaffReport,
    pub timeline: Vec<InternalEvent>,
    pub audit: Vec<AuditEntry>,
    pub allowed_transitions: Vec<String>,
}

pub async fn detail(pool: &PgPool, engine: &Engine, id: i64) -> AppResult<Detail> {
    let report = report(pool, id).await?;
    let (timeline, audit) = store::history(pool, id).await?;
    let allowed_transitions = engine.catalogue().workflow.allowed(&report.public.status);
    Ok(Detail {
        report,
        timeline,
        audit,
        allowed_transitions,
    })
}

/// The staff member may work on the report: it is their unit's, or they are an admin.
pub async fn check_may_work_on(pool: &PgPool, user: &StaffUser, id: i64) -> AppResult<()> {
    let r = report(pool, id).await?;
    Ok(user.may_work_on(r.public.unit_code.as_deref())?)
}

/// Locks a report's category and the row; returns the report as it is now.
async fn lock_report(tx: &mut PgConnection, id: i64) -> AppResult<StaffReport> {
    let category = store::report_category(tx, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no report {id}")))?;
    storage::lock_category(tx, &category).await?;
    store::lock_row(tx, id).await?;
    report(&mut *tx, id).await
}

fn state(r: &StaffReport) -> ReportState<'_> {
    ReportState {
        id: r.public.id,
        status: &r.public.status,
        unit: r.public.unit_code.as_deref(),
        duplicate_of: r.public.duplicate_of,
        updated_at: r.public.updated_at,
    }
}

/// What the audit log keeps of a report before and after a change.
fn snapshot(r: &StaffReport) -> Value {
    let p = &r.public;
    json!({"status": p.status, "category": p.category, "unit": p.unit_code, "duplicate_of": p.duplicate_of,
           "expected_at": p.expected_at, "geometry": serde_json::from_str::<Value>(&p.geometry).unwrap_or(Value::Null)})
}

async fn audit(
    tx: &mut PgConnection,
    user: &StaffUser,
    action: &str,
    id: i64,
    before: &StaffReport,
) -> AppResult<()> {
    let after = report(&mut *tx, id).await?;
    store::insert_audit(
        tx,
        // A unit's system has no account.
        (!user.by_key).then_some(user.id),
        &user.login,
        action,
        id,
        &snapshot(before),
        &snapshot(&after),
    )
    .await?;
    Ok(())
}

/// Queues a message about `report` (as it was locked, before the change) to its reporter and
/// every subscriber, each in their language, and a push to every device that follows it.
async fn queue_mail(
    tx: &mut PgConnection,
    engine: &Engine,
    report: &StaffReport,
    status: &str,
    public_note: &str,
    base_url: &str,
    expected: Option<NaiveDate>,
) -> AppResult<()> {
    let (id, category) = (report.public.id, &report.public.category);
    let status_row = engine.catalogue().status(status).map(|(_, s)| s.clone());
    // The expected date matters while the report is open.
    let expected = expected.filter(|_| status_row.as_ref().is_some_and(|s| s.is_open));
    for (email, lang) in outbox::recipients(tx, id).await? {
        let lang = Lang::from_code(&lang);
        let name = status_row
            .as_ref()
            .map(|s| s.names.get(lang.as_str()).to_owned())
            .unwrap_or_else(|| status.to_owned());
        let (subject, mut body) = status_message(
            lang,
            id,
            &name,
            public_note,
            &format!("{base_url}/r/{id}"),
            expected,
        );
        // Resolved: "Is it fixed?", with a yes and a no link for this recipient.
        if status == engine.catalogue().workflow.roles.resolved {
            body.push_str(&super::moderation::fix_links(tx, base_url, id, &email, lang).await?);
        }
        // Every message carries the signed "stop updates" (and "withdraw") links.
        body.push_str(&super::moderation::mail_links(tx, base_url, id, &email, lang).await?);
        let html =
            super::moderation::mail_html(engine.catalogue(), category, lang, base_url, &body);
        outbox::queue_html(tx, id, &email, &subject, &body, Some(&html)).await?;
    }
    outbox::wake_workers(tx).await?;
    // And to the devices that follow it.
    super::push::queue_status(tx, engine, report, status, public_note, base_url).await?;
    Ok(())
}

/// Queues what the units' own systems hear of a change to `before` (the report as it was
/// locked; see `app::delivery`).
async fn tell_units(
    tx: &mut PgConnection,
    engine: &Engine,
    before: &StaffReport,
    event: DeliveryEvent,
    note: Option<&str>,
    base_url: &str,
) -> AppResult<()> {
    super::delivery::report_changed(
        tx,
        engine.catalogue(),
        before.public.id,
        event,
        before.public.unit_code.as_deref(),
        note,
        base_url,
    )
    .await
}

/// Notifies other processes of the categories changed, commits, and catches the engine up.
async fn finish(
    mut tx: Transaction<'_, Postgres>,
    pool: &PgPool,
    engine: &Engine,
    categories: &[&str],
) -> AppResult<()> {
    for c in categories {
        storage::reports::notify(&mut *tx, c).await?;
    }
    tx.commit().await?;
    for c in categories {
        super::sync::catch_up(pool, engine, Some(c)).await?;
    }
    Ok(())
}

/// A status change as a staff member asks for it.
pub struct StatusChange {
    pub status: String,
    pub public_note: String,
    pub internal_note: Option<String>,
    pub expected_at: Option<NaiveDate>,
    /// For "not ours": the unit the report belongs to.
    pub unit: Option<String>,
    /// "After" photos uploaded beforehand.
    pub photos: Vec<String>,
}

pub async fn change_status(
    pool: &PgPool,
    engine: &Engine,
    user: &StaffUser,
    id: i64,
    change: &StatusChange,
    base_url: &str,
) -> AppResult<()> {
    let catalogue = engine.catalogue();
    let workflow = &catalogue.workflow;
    if !workflow.knows(&change.status) {
        return Err(crate::domain::WorkflowError::UnknownStatus(change.status.clone()).into());
    }
    let mut tx = pool.begin().await?;
    let before = lock_report(&mut tx, id).await?;
    let plan = workflow.change_status(
        &state(&before),
        &change.status,
        change.unit.as_deref(),
        |u| catalogue.unit(u).is_some(),
    )?;
    let actor = user.login.as_str();
    let note = Some(change.public_note.as_str());
    let internal = change.internal_note.as_deref();
    match &plan {
        StatusPlan::Reroute {
            not_ours,
            status,
            unit,
        } => {
            store::set_unit(&mut tx, id, unit, Some(status)).await?;
            let rejected = Event {
                kind: "rejected",
                status: Some(not_ours),
                public: note,
                internal,
                actor,
            };
            store::insert_event(&mut tx, id, rejected).await?;
            let rerouted = Event {
                kind: "rerouted",
                status: Some(status),
                public: None,
                internal: None,
                actor,
            };
            store::insert_event(&mut tx, id, rerouted).await?;
        }
        StatusPlan::Set {
            status,
            resolved_at,
        } => {
            store::set_status(&mut tx, id, status, change.expected_at, *resolved_at).await?;
            let event = Event {
                kind: "status",
                status: Some(status),
                public: note,
                internal,
                actor,
            };
            store::insert_event(&mut tx, id, event).await?;
        }
    }
    for (i, photo) in change.photos.iter().enumerate() {
        if !store::attach_after_photo(&mut tx, id, photo).await? {
            return Err(Invalid::unacceptable(
                "unknown_photo",
                format!("photo {photo:?} was not uploaded or is in use"),
            )
            .at(format!("photos[{i}]"))
            .into());
        }
    }
    audit(
        &mut tx,
        user,
        &format!("status:{}", change.status),
        id,
        &before,
    )
    .await?;
    queue_mail(
        &mut tx,
        engine,
        &before,
        &change.status,
        &change.public_note,
        base_url,
        change.expected_at.or(before.public.expected_at),
    )
    .await?;
    tell_units(
        &mut tx,
        engine,
        &before,
        DeliveryEvent::StatusChanged,
        Some(&change.public_note),
        base_url,
    )
    .await?;
    finish(tx, pool, engine, &[&before.public.category]).await
}

/// The reporter (the email given with the report, or a subscriber's) reopens a closed report
/// within `REOPEN_DAYS` of its last change (see `domain::workflow`).
pub async fn reopen_by_reporter(
    pool: &PgPool,
    engine: &Engine,
    id: i64,
    email: &str,
    note: &str,
    base_url: &str,
) -> AppResult<()> {
    reopen_by_resident(pool, engine, id, Some(email), note, None, base_url).await
}

/// Reopens a closed report for a resident: the reporter or a subscriber by `email`, or (with
/// `None`) the holder of a signed "not fixed" link, already checked; with `photo` (uploaded
/// beforehand), the resident's picture of what is still wrong joins the report's photos.
pub async fn reopen_by_resident(
    pool: &PgPool,
    engine: &Engine,
    id: i64,
    email: Option<&str>,
    note: &str,
    photo: Option<&str>,
    base_url: &str,
) -> AppResult<()> {
    let mut tx = pool.begin().await?;
    let before = lock_report(&mut tx, id).await?;
    if let Some(email) = email {
        if !store::is_reporter(&mut tx, id, email).await? {
            return Err(AccessError::NotTheReporter.into());
        }
    }
    if let Some(photo) = photo {
        if !store::attach_resident_photo(&mut tx, id, photo).await? {
            return Err(Invalid::unacceptable(
                "unknown_photo",
                format!("photo {photo:?} was not uploaded or is in use"),
            )
            .at("photo")
            .into());
        }
    }
    let status = engine
        .catalogue()
        .workflow
        .reopen(&state(&before), Utc::now())?;
    store::set_status(
        &mut tx,
        id,
        &status,
        None,
        crate::domain::workflow::ResolvedAt::Clear,
    )
    .await?;
    let event = Event {
        kind: "reopened",
        status: Some(&status),
        public: Some(note),
        internal: None,
        actor: "reporter",
    };
    store::insert_event(&mut tx, id, event).await?;
    store::insert_audit(
        &mut tx,
        None,
        "reporter",
        if email.is_some() {
            "reopen"
        } else {
            "reopen:not_fixed"
        },
        id,
        &snapshot(&before),
        &json!({"status": status}),
    )
    .await?;
    queue_mail(&mut tx, engine, &before, &status, note, base_url, None).await?;
    tell_units(
        &mut tx,
        engine,
        &before,
        DeliveryEvent::StatusChanged,
        Some(note),
        base_url,
    )
    .await?;
    let category = before.public.category.clone();
    finish(tx, pool, engine, &[&category]).await
}

/// Closes a resolved report, after its reporter confirmed the fix (`kind` "confirmed_fixed",
/// by the resident) or when nobody answered "Is it fixed?" in time ("closed", by the system).
/// False when it is no longer resolved (someone reopened it meanwhile).
pub async fn close_resolved(
    pool: &PgPool,
    engine: &Engine,
    id: i64,
    kind: &'static str,
) -> AppResult<bool> {
    let workflow = &engine.catalogue().workflow;
    let mut tx = pool.begin().await?;
    let before = lock_report(&mut tx, id).await?;
    if before.public.status != workflow.roles.resolved {
        return Ok(false);
    }
    let Some(closed) = workflow.after_resolved() else {
        return Ok(false);
    };
    store::set_status(
        &mut tx,
        id,
        &closed,
        None,
        crate::domain::workflow::ResolvedAt::Keep,
    )
    .await?;
    let actor = if kind == "confirmed_fixed" {
        "reporter"
    } else {
        "system"
    };
    let event = Event {
        kind,
        status: Some(&closed),
        public: None,
        internal: None,
        actor,
    };
    store::insert_event(&mut tx, id, event).await?;
    store::insert_audit(
        &mut tx,
        None,
        actor,
        kind,
        id,
        &snapshot(&before),
        &json!({"status": closed}),
    )
    .await?;
    tell_units(
        &mut tx,
        engine,
        &before,
        DeliveryEvent::StatusChanged,
        None,
        "",
    )
    .await?;
    let category = before.public.category.clone();
    finish(tx, pool, engine, &[&category]).await?;
    Ok(true)
}

/// Days a resolved report waits for "Is it fixed?" before it closes by itself.
pub const FIX_ANSWER_DAYS: i64 = 14;

/// Closes the resolved reports nobody answered within [`FIX_ANSWER_DAYS`]; how many.
pub async fn close_unanswered(
    pool: &PgPool,
    engine: &Engine,
    now: chrono::DateTime<Utc>,
) -> AppResult<usize> {
    let resolved = &engine.catalogue().workflow.roles.resolved;
    let due = store::resolved_before(
        pool,
        resolved,
        now - chrono::Duration::days(FIX_ANSWER_DAYS),
    )
    .await?;
    let mut closed = 0;
    for id in due {
        if close_resolved(pool, engine, id, "closed").await? {
            closed += 1;
        }
    }
    Ok(closed)
}

/// Merges `id` into `into` (an open original of the same category).
pub async fn merge(
    pool: &PgPool,
    engine: &Engine,
    user: &StaffUser,
    id: i64,
    into: i64,
    note: Option<&str>,
) -> AppResult<()> {
    let workflow = &engine.catalogue().workflow;
    if id == into {
        return Err(crate::domain::WorkflowError::MergeIntoItself.into());
    }
    let mut tx = pool.begin().await?;
    let before = lock_report(&mut tx, id).await?;
    let target = lock_report(&mut tx, into).await?;
    let status = workflow.merge(&state(&before), &state(&target))?;
    store::merge(&mut tx, id, into, &status, before.public.supporters).await?;
    let into_ref = format!("#{into}");
    let event = Event {
        kind: "duplicate",
        status: Some(&status),
        public: Some(&into_ref),
        internal: note,
        actor: &user.login,
    };
    store::insert_event(&mut tx, id, event).await?;
    audit(&mut tx, user, "merge", id, &before).await?;
    tell_units(&mut tx, engine, &before, DeliveryEvent::Merged, None, "").await?;
    finish(
        tx,
        pool,
        engine,
        &[&before.public.category, &target.public.category],
    )
    .await
}

/// Undoes a merge: the report is an original again.
pub async fn unmerge(pool: &PgPool, engine: &Engine, user: &StaffUser, id: i64) -> AppResult<()> {
    let mut tx = pool.begin().await?;
    let before = lock_report(&mut tx, id).await?;
    let (original, status) = engine.catalogue().workflow.unmerge(&state(&before))?;
    store::unmerge(&mut tx, id, original, &status, before.public.supporters).await?;
    let event = Event {
        kind: "unmerged",
        status: Some(&status),
        public: None,
        internal: None,
        actor: &user.login,
    };
    store::insert_event(&mut tx, id, event).await?;
    audit(&mut tx, user, "unmerge", id, &before).await?;
    let category = before.public.category.clone();
    finish(tx, pool, engine, &[&category]).await
}

/// Gives a report to another unit, with an internal note saying why.
pub async fn reassign(
    pool: &PgPool,
    engine: &Engine,
    user: &StaffUser,
    id: i64,
    unit: &str,
    note: &str,
    base_url: &str,
) -> AppResult<()> {
    if engine.catalogue().unit(unit).is_none() {
        return Err(crate::domain::WorkflowError::UnknownUnit(unit.to_owned()).into());
    }
    let mut tx = pool.begin().await?;
    let before = lock_report(&mut tx, id).await?;
    store::set_unit(&mut tx, id, unit, None).await?;
    let event = Event {
        kind: "reassigned",
        status: None,
        public: None,
        internal: Some(note),
        actor: &user.login,
    };
    store::insert_event(&mut tx, id, event).await?;
    audit(&mut tx, user, "reassign", id, &before).await?;
    tell_units(
        &mut tx,
        engine,
        &before,
        DeliveryEvent::Updated,
        None,
        base_url,
    )
    .await?;
    let category = before.public.category.clone();
    finish(tx, pool, engine, &[&category]).await
}

/// Edits the category and/or geometry, keeping the reason; the report is re-placed (district,
/// border flag) where the geometry changed.
pub async fn edit(
    pool: &PgPool,
    engine: &Engine,
    user: &StaffUser,
    id: i64,
    category: Option<&str>,
    geometry: Option<(&ReportGeometry, &Placement)>,
    reason: &str,
) -> AppResult<()> {
    let mut tx = pool.begin().await?;
    let before = lock_report(&mut tx, id).await?;
    if let Some(c) = category {
        storage::lock_category(&mut tx, c).await?;
        store::set_category(&mut tx, id, c).await?;
    }
    if let Some((g, placement)) = geometry {
        let a = g.anchor();
        store::set_geometry(
            &mut tx,
            id,
            &g.to_geojson(),
            (a.x(), a.y()),
            placement.district_id,
            placement.near_border,
            placement.address.as_ref(),
        )
        .await?;
    }
    let event = Event {
        kind: "edited",
        status: None,
        public: None,
        internal: Some(reason),
        actor: &user.login,
    };
    store::insert_event(&mut tx, id, event).await?;
    audit(&mut tx, user, "edit", id, &before).await?;
    tell_units(&mut tx, engine, &before, DeliveryEvent::Updated, None, "").await?;
    let new_category = category.unwrap_or(&before.public.category).to_owned();
    finish(tx, pool, engine, &[&before.public.category, &new_category]).await
}

/// Keeping to deadlines over the last `months` months of filing, per month and unit and per
/// month and category (see `domain::deadline_stats`).
pub struct DeadlineStats {
    pub months: u32,
    pub by_unit: Vec<crate::domain::deadline_stats::Figures>,
    pub by_category: Vec<crate::domain::deadline_stats::Figures>,
}

pub async fn deadline_stats(
    pool: &PgPool,
    catalogue: &crate::catalogue::Catalogue,
    now: chrono::DateTime<Utc>,
    months: u32,
) -> AppResult<DeadlineStats> {
    use crate::domain::calendar::WorkdayIndex;
    use crate::domain::deadline_stats::{aggregate, Fact};
    use chrono::Months;
    let cal = &catalogue.city.calendar;
    let today = cal.local_date(now);
    let first_month = (today - Months::new(months.saturating_sub(1)))
        .with_day(1)
        .unwrap_or(today);
    let since = first_month
        .and_hms_opt(0, 0, 0)
        .map_or(now, |t| t.and_utc() - chrono::Duration::days(1));
    let rows = store::deadline_facts(pool, since, &catalogue.workflow.roles.resolved).await?;
    let index = WorkdayIndex::new(
        cal,
        first_month - chrono::Duration::days(1),
        today + chrono::Duration::days(1),
    );
    let facts = |key: &dyn Fn(&store::DeadlineFacts) -> String| -> Vec<Fact> {
        rows.iter()
            .filter_map(|r| {
                let filed = cal.local_date(r.created_at);
                (filed >= first_month).then(|| Fact {
                    month: filed.format("%Y-%m").to_string(),
                    key: key(r),
                    filed,
                    first_response: r.first_response_at.map(|t| cal.local_date(t)),
                    resolved: r.resolved_at.map(|t| cal.local_date(t)),
                    due: r.fix_due.or(r.expected_at),
                    reopened: r.reopened,
                })
            })
            .collect()
    };
    Ok(DeadlineStats {
        months,
        by_unit: aggregate(&facts(&|r| r.unit_code.clone().unwrap_or_default()), &index),
        by_category: aggregate(&facts(&|r| r.category.clone()), &index),
    })
}

/// Reported / resolved / open / median days to resolve, per district and per unit.
pub async fn stats(pool: &PgPool) -> AppResult<Value> {
    let by_district = store::stats_by_district(pool).await?;
    let by_unit = store::stats_by_unit(pool).await?;
    let (districts, units) = store::districts_and_units(pool).await?;
    let figures = |rows: &[store::StatsRow], key: &str, mut base: Value| -> Value {
        let f = match rows.iter().find(|r| r.key.as_deref() == Some(key)) {
            Some(r) => json!({"reported": r.reported, "resolved": r.resolved, "open": r.open,
                "median_days_to_resolve": r.median_days.map(|m| (m * 10.0).round() / 10.0)}),
            None => {
                json!({"reported": 0, "resolved": 0, "open": 0, "median_days_to_resolve": null})
            }
        };
        if let (Some(o), Some(e)) = (base.as_object_mut(), f.as_object()) {
            o.extend(e.clone());
        }
        base
    };
    Ok(json!({
        "districts": districts.iter().map(|(id, name)| figures(&by_district, &id.to_string(), json!({"id": id, "name": name}))).collect::<Vec<_>>(),
        "units": units.iter().map(|(code, name)| figures(&by_unit, code, json!({"code": code, "name": name}))).collect::<Vec<_>>(),
        "generated_at": Utc::now(),
    }))
}
