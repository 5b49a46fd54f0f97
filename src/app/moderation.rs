//! Moderation and residents' privacy: the abuse list, the moderation queue (release, reject),
//! redaction, and the signed links in mail to residents ("stop updates and forget my email",
//! "withdraw my report").
//!
//! A held report (see migration 0010) is stored but not public: the engine drops it (it catches
//! up with the `held` flag of every changed row), the SQL reads filter it out, the unit inbox
//! does not show it, and it is no dedup original. Releasing it is an update like any other: its
//! new `rev` brings it into every process's engine through the normal catch-up.
//!
//! Every change takes the report's category lock (so `rev` keeps growing in commit order) and
//! writes the audit log in the same transaction.
use chrono::Utc;
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};

use super::{sync, AppError, AppResult};
use crate::domain::moderation::{
    self as rules, client_address, normalise_email, normalise_phone, AbuseEntry, LinkPurpose,
    Redaction,
};
use crate::domain::{Invalid, Lang, NewReport, Role, StaffUser};
use crate::engine::Engine;
use crate::storage::moderation::{self as store, AbuseRow, HeldReport, Redactions};
use crate::storage::{self, reports as report_store};

/// Who does a moderation action: a staff member, or an admin at the command line.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub name: String,
}

impl Actor {
    pub fn staff(user: &StaffUser) -> Self {
        Self {
            user_id: Some(user.id),
            name: user.login.clone(),
        }
    }

    pub fn command_line() -> Self {
        let who = std::env::var("USER").unwrap_or_else(|_| "admin".into());
        Self {
            user_id: None,
            name: format!("cli:{who}"),
        }
    }
}

/// The abuse-list entry a submission matches (its email, phone or client address), if any.
pub async fn abuse_match(
    tx: &mut PgConnection,
    report: &NewReport,
    address: Option<&str>,
) -> AppResult<Option<i64>> {
    let email = report.contact.email.as_deref().map(normalise_email);
    let phone = report.contact.phone.as_deref().and_then(normalise_phone);
    let address = address.and_then(client_address);
    Ok(store::abuse_match(tx, email.as_deref(), phone.as_deref(), address.as_deref()).await?)
}

/// Records that a new report was held because it matched `entry`.
pub async fn audit_hold(tx: &mut PgConnection, id: i64, entry: i64) -> AppResult<()> {
    store::audit(
        tx,
        None,
        "system",
        "moderation:hold",
        Some(id),
        Some("abuse_list"),
        None,
        Some(&json!({"moderation": "held", "abuse_entry": entry})),
    )
    .await?;
    Ok(())
}

/// Adds an entry to the abuse list (`kind`: email, phone or cidr).
pub async fn abuse_add(
    pool: &PgPool,
    actor: &Actor,
    kind: &str,
    value: &str,
    note: Option<&str>,
) -> AppResult<AbuseRow> {
    let entry = AbuseEntry::parse(kind, value, "value")?;
    let mut tx = pool.begin().await?;
    let row = store::abuse_add(&mut tx, &entry, note, &actor.name)
        .await?
        .ok_or_else(|| {
            Invalid::conflict(
                "already_listed",
                format!("{} {} is already on the abuse list", kind, entry.value),
            )
            .at("value")
        })?;
    store::audit(
        &mut tx,
        actor.user_id,
        &actor.name,
        "abuse:add",
        None,
        note,
        None,
        Some(&json!(row)),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn abuse_list(pool: &PgPool) -> AppResult<Vec<AbuseRow>> {
    Ok(store::abuse_list(pool).await?)
}

/// Removes an entry from the abuse list. Reports it held stay held until staff decide.
pub async fn abuse_remove(pool: &PgPool, actor: &Actor, id: i64) -> AppResult<AbuseRow> {
    let mut tx = pool.begin().await?;
    let row = store::abuse_remove(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no abuse-list entry {id}")))?;
    store::audit(
        &mut tx,
        actor.user_id,
        &actor.name,
        "abuse:remove",
        None,
        None,
        Some(&json!(row)),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Which held reports a staff member sees: admins every one, unit staff their units'.
fn queue_units(user: &StaffUser) -> Vec<String> {
    if user.has(Role::Admin) {
        vec![]
    } else {
        user.units.clone()
    }
}

/// The moderation queue: reports waiting (`held`) or refused (`rejected`), oldest first.
pub async fn queue(pool: &PgPool, user: &StaffUser, state: &str) -> AppResult<Vec<HeldReport>> {
    if !matches!(state, "held" | "rejected") {
        return Err(Invalid::malformed(
            "unknown_state",
            format!("state must be held or rejected, not {state:?}"),
        )
        .at("state")
        .into());
    }
    let units = queue_units(user);
    if units.is_empty() && !user.has(Role::Admin) {
        return Ok(vec![]);
    }
    Ok(store::queue(pool, state, &units, 500).await?)
}

/// Locks a report's category and row; returns its moderation state.
async fn lock(tx: &mut PgConnection, id: i64) -> AppResult<store::ModerationState> {
    let category = storage::staff::report_category(tx, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no report {id}")))?;
    storage::lock_category(tx, &category).await?;
    store::lock_state(tx, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no report {id}")))
}

fn check_may_moderate(user: &StaffUser, state: &store::ModerationState) -> AppResult<()> {
    Ok(user.may_work_on(state.unit_code.as_deref())?)
}

fn not_held(id: i64, state: &store::ModerationState) -> AppError {
    Invalid::conflict(
        "not_held",
        format!(
            "report {id} is not waiting in the moderation queue ({})",
            state.moderation.as_deref().unwrap_or("public")
        ),
    )
    .into()
}

/// Notifies the other processes, commits, and brings the engine up to date with the category.
async fn finish(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    pool: &PgPool,
    engine: &Engine,
    category: &str,
) -> AppResult<()> {
    report_store::notify(&mut *tx, category).await?;
    tx.commit().await?;
    sync::catch_up(pool, engine, Some(category)).await?;
    Ok(())
}

/// What a release made of the report.
#[derive(Debug, serde::Serialize)]
pub struct Released {
    pub id: i64,
    pub status: String,
    pub duplicate_of: Option<i64>,
}

/// Releases a held report: it becomes public and is routed as a fresh report, deduplicated
/// against the open reports of its category like a new submission.
pub async fn release(
    pool: &PgPool,
    engine: &Engine,
    user: &StaffUser,
    id: i64,
    note: Option<&str>,
    base_url: &str,
) -> AppResult<Released> {
    let mut tx = pool.begin().await?;
    let category = storage::staff::report_category(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no report {id}")))?;
    // The catch-up under the lock: dedup sees every committed report.
    sync::lock_and_catch_up(&mut tx, engine, &category).await?;
    let state = store::lock_state(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no report {id}")))?;
    check_may_moderate(user, &state)?;
    if state.moderation.as_deref() != Some("held") {
        return Err(not_held(id, &state));
    }
    let catalogue = engine.catalogue();
    let roles = &catalogue.workflow.roles;
    let geometry: Option<geo::Geometry<f64>> = state
        .geometry
        .parse::<geojson::Geometry>()
        .ok()
        .and_then(|g| g.try_into().ok());
    let candidate = geometry
        .as_ref()
        .and_then(|g| engine.find_original(&category, g, Utc::now().timestamp()))
        .map(|c| c.id)
        .filter(|c| *c != id);
    let mut duplicate_of = None;
    if let Some(c) = candidate {
        if store::confirm_original(&mut tx, c, &catalogue.open_statuses()).await? {
            duplicate_of = Some(c);
        }
    }
    let status = match duplicate_of {
        Some(_) => roles.duplicate.clone(),
        None => roles.initial.clone(),
    };
    store::release(&mut tx, id, &status, duplicate_of, note).await?;
    if let Some(original) = duplicate_of {
        storage::staff::insert_event(
            &mut tx,
            id,
            storage::staff::Event {
                kind: "duplicate",
                status: Some(&status),
                public: Some(&format!("#{original}")),
                internal: None,
                actor: "system",
            },
        )
        .await?;
    }
    store::audit(
        &mut tx,
        Some(user.id),
        &user.login,
        "moderation:release",
        Some(id),
        note,
        Some(&json!({"moderation": state.moderation})),
        Some(&json!({"moderation": "released", "status": status, "duplicate_of": duplicate_of})),
    )
    .await?;
    // Public now: its unit hears of it as of a new report.
    super::delivery::report_changed(
        &mut tx,
        catalogue,
        id,
        crate::domain::delivery::Event::Created,
        None,
        None,
        base_url,
    )
    .await?;
    finish(tx, pool, engine, &category).await?;
    Ok(Released {
        id,
        status,
        duplicate_of,
    })
}

/// Rejects a held report, with a reason: it stays stored and never becomes public.
pub async fn reject(
    pool: &PgPool,
    engine: &Engine,
    user: &StaffUser,
    id: i64,
    reason: &str,
) -> AppResult<()> {
    let mut tx = pool.begin().await?;
    let state = lock(&mut tx, id).await?;
    check_may_moderate(user, &state)?;
    if state.moderation.as_deref() != Some("held") {
        return Err(not_held(id, &state));
    }
    store::reject(&mut tx, id, reason).await?;
    store::audit(
        &mut tx,
        Some(user.id),
        &user.login,
        "moderation:reject",
        Some(id),
        Some(reason),
        Some(&json!({"moderation": state.moderation})),
        Some(&json!({"moderation": "rejected"})),
    )
    .await?;
    finish(tx, pool, engine, &state.category).await
}

/// Hides a report's description or one of its photos from the public, with a reason. Staff
/// still see the original (see [`redactions`]).
pub async fn redact(
    pool: &PgPool,
    engine: &Engine,
    user: &StaffUser,
    id: i64,
    what: &Redaction,
    reason: &str,
) -> AppResult<()> {
    let mut tx = pool.begin().await?;
    let state = lock(&mut tx, id).await?;
    check_may_moderate(user, &state)?;
    let (action, after) = match what {
        Redaction::Description => {
            store::hide_description(&mut tx, id, reason).await?;
            ("redact:description", json!({"field": "description"}))
        }
        Redaction::Photo(photo) => {
            if !store::hide_photo(&mut tx, id, photo, reason).await? {
                return Err(Invalid::unacceptable(
                    "unknown_photo",
                    format!("report {id} has no photo {photo:?}"),
                )
                .at("photo_id")
                .into());
            }
            ("redact:photo", json!({"field": "photo", "photo_id": photo}))
        }
    };
    store::audit(
        &mut tx,
        Some(user.id),
        &user.login,
        action,
        Some(id),
        Some(reason),
        None,
        Some(&after),
    )
    .await?;
    finish(tx, pool, engine, &state.category).await
}

pub async fn redactions(pool: &PgPool, id: i64) -> AppResult<Redactions> {
    store::redactions(pool, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no report {id}")))
}

pub async fn staff_photo(pool: &PgPool, id: &str, thumbnail: bool) -> AppResult<Vec<u8>> {
    store::staff_photo(pool, id, thumbnail)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no photo {id:?}")))
}

pub async fn audit_entries(pool: &PgPool) -> AppResult<Vec<store::AuditRow>> {
    Ok(store::audit_entries(pool, 200).await?)
}

/// The HTML version of a message about a report of `category` (see
/// `domain::messages::html_message`): its icon and name in `lang` above the text.
pub fn mail_html(
    catalogue: &crate::catalogue::Catalogue,
    category: &str,
    lang: Lang,
    base_url: &str,
    text: &str,
) -> String {
    let c = catalogue.category(category).map(|(_, c)| c);
    let name = c.map_or(category.to_owned(), |c| {
        c.names.get(lang.as_str()).to_owned()
    });
    let icon = c
        .filter(|c| c.has_icon)
        .map(|c| format!("{base_url}/icons/{}.svg", c.code));
    crate::domain::messages::html_message(
        text,
        &name,
        icon.as_deref(),
        c.map_or("#555", |c| c.color.as_str()),
    )
}

/// "Is it fixed?" with a signed yes and no link for `email`, for the message that a report was
/// resolved.
pub async fn fix_links(
    conn: &mut PgConnection,
    base_url: &str,
    id: i64,
    email: &str,
    lang: Lang,
) -> AppResult<String> {
    let key = store::link_key(&mut *conn).await?;
    let link = |p| format!("{base_url}{}", rules::link_path(&key, p, id, email));
    Ok(crate::domain::messages::fix_question(
        lang,
        &link(LinkPurpose::Fixed),
        &link(LinkPurpose::NotFixed),
    ))
}

/// The signed links appended to a message to `email` about report `id`: the manage page and
/// "stop updates and forget my email" for everyone, "withdraw my report" for the reporter.
pub async fn mail_links(
    conn: &mut PgConnection,
    base_url: &str,
    id: i64,
    email: &str,
    lang: Lang,
) -> AppResult<String> {
    let key = store::link_key(&mut *conn).await?;
    let forget = format!(
        "{base_url}{}",
        rules::link_path(&key, LinkPurpose::Forget, id, email)
    );
    let manage = format!(
        "{base_url}{}",
        rules::link_path(&key, LinkPurpose::Manage, id, email)
    );
    let reporter = store::is_contact_email(conn, id, email).await?;
    let withdraw = reporter.then(|| {
        format!(
            "{base_url}{}",
            rules::link_path(&key, LinkPurpose::Withdraw, id, email)
        )
    });
    Ok(rules::links_footer(
        lang,
        &manage,
        &forget,
        withdraw.as_deref(),
    ))
}

/// What the manage page shows: the resident's standing and the signed links of each action
/// (paths; POST them), for the same email as the manage link.
#[derive(Debug, serde::Serialize)]
pub struct ManagePage {
    pub report_id: i64,
    pub reporter: bool,
    pub subscriber: bool,
    /// Whether this email gets the report's updates.
    pub updates: bool,
    /// `stop` or `follow` (whichever applies), `forget`, and `withdraw` for the reporter.
    pub actions: std::collections::BTreeMap<&'static str, String>,
    pub tracking_url: String,
}

/// The manage page of a checked link.
pub async fn manage_page(pool: &PgPool, link: &Link, base_url: &str) -> AppResult<ManagePage> {
    let id = link.report_id;
    let mut conn = pool.acquire().await?;
    let key = store::link_key(&mut *conn).await?;
    let (reporter, subscriber, updates) = store::standing(&mut conn, id, &link.email_hash).await?;
    let path = |p| rules::link_path_for_hash(&key, p, id, &link.email_hash);
    let mut actions = std::collections::BTreeMap::new();
    if reporter || subscriber {
        if updates {
            actions.insert("stop", path(LinkPurpose::Stop));
        } else {
            actions.insert("follow", path(LinkPurpose::Follow));
        }
        actions.insert("forget", path(LinkPurpose::Forget));
    }
    if reporter {
        actions.insert("withdraw", path(LinkPurpose::Withdraw));
    }
    Ok(ManagePage {
        report_id: id,
        reporter,
        subscriber,
        updates,
        actions,
        tracking_url: format!("{base_url}/r/{id}"),
    })
}

/// A link as followed: its purpose, report and the email's hash, signature checked.
pub struct Link {
    pub purpose: LinkPurpose,
    pub report_id: i64,
    pub email_hash: String,
}

/// Checks a link (its signature over purpose, report and email hash) without changing
/// anything: what a GET shows.
pub async fn check_link(
    pool: &PgPool,
    purpose: &str,
    report_id: i64,
    email_hash: &str,
    signature: &str,
) -> AppResult<Link> {
    let purpose = LinkPurpose::parse(purpose).ok_or_else(|| {
        AppError::not_found(format!(
            "no such link: {purpose:?} (manage, stop, follow, forget, withdraw, fixed or not_fixed)"
        ))
    })?;
    let key = store::link_key(pool).await?;
    rules::verify_link(&key, purpose, report_id, email_hash, signature)?;
    storage::reports::category_of(pool, report_id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no report {report_id}")))?;
    Ok(Link {
        purpose,
        report_id,
        email_hash: email_hash.to_owned(),
    })
}

/// Does what a checked link asks: forgets the email (erases the reporter's contact, the
/// subscription and unsent mail), or holds the report for staff as "withdrawal requested".
pub async fn follow_link(
    pool: &PgPool,
    engine: &Engine,
    link: &Link,
    note: Option<&str>,
    photo: Option<&str>,
    base_url: &str,
) -> AppResult<Value> {
    let id = link.report_id;
    match link.purpose {
        LinkPurpose::Fixed => {
            let changed = super::staff::close_resolved(pool, engine, id, "confirmed_fixed").await?;
            return Ok(
                json!({"report_id": id, "purpose": "fixed", "done": true, "changed": changed}),
            );
        }
        LinkPurpose::NotFixed => {
            let note = note
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .ok_or_else(|| {
                    Invalid::unacceptable(
                        "missing_field",
                        "note is required: say what is still wrong",
                    )
                    .at("note")
                })?;
            super::staff::reopen_by_resident(pool, engine, id, None, note, photo, base_url).await?;
            return Ok(
                json!({"report_id": id, "purpose": "not_fixed", "done": true, "changed": true}),
            );
        }
        LinkPurpose::Stop | LinkPurpose::Follow => {
            let on = link.purpose == LinkPurpose::Follow;
            let mut tx = pool.begin().await?;
            let done = store::set_updates(&mut tx, id, &link.email_hash, on).await?;
            if done.is_some() {
                store::audit(
                    &mut tx,
                    None,
                    "resident",
                    if on {
                        "privacy:updates_resumed"
                    } else {
                        "privacy:updates_stopped"
                    },
                    Some(id),
                    Some("the resident followed the link in a message"),
                    None,
                    None,
                )
                .await?;
            }
            tx.commit().await?;
            return Ok(
                json!({"report_id": id, "purpose": link.purpose.as_str(), "done": true,
                             "changed": done.is_some(), "updates": done.unwrap_or(false)}),
            );
        }
        LinkPurpose::Manage => {
            let page = manage_page(pool, link, base_url).await?;
            return Ok(
                json!({"report_id": id, "purpose": "manage", "done": true, "changed": false,
                             "manage": page}),
            );
        }
        LinkPurpose::Forget | LinkPurpose::Withdraw => {}
    }
    let mut tx = pool.begin().await?;
    let state = lock(&mut tx, link.report_id).await?;
    let outcome = if link.purpose == LinkPurpose::Forget {
        let done = store::forget(&mut tx, id, &link.email_hash).await?;
        let changed = done.contact_erased || done.subscriptions_removed > 0;
        if changed || done.messages_cancelled > 0 {
            store::audit(
                &mut tx,
                None,
                "resident",
                "privacy:forget",
                Some(id),
                Some("the resident followed the link in a message"),
                None,
                Some(&json!(done)),
            )
            .await?;
        }
        json!({"report_id": id, "purpose": "forget", "done": true, "changed": changed, "result": done})
    } else {
        let already = state.moderation.as_deref() == Some("rejected");
        if !already {
            store::hold_for_withdrawal(&mut tx, id).await?;
            store::audit(
                &mut tx,
                None,
                "resident",
                "moderation:withdrawal_requested",
                Some(id),
                Some("the reporter asked to withdraw the report"),
                Some(&json!({"moderation": state.moderation})),
                Some(&json!({"moderation": "held", "hold_reason": "withdrawal_requested"})),
            )
            .await?;
        }
        json!({"report_id": id, "purpose": "withdraw", "done": true, "changed": !already})
    };
    finish(tx, pool, engine, &state.category).await?;
    Ok(outcome)
}
