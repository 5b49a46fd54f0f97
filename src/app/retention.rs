//! Retention: the contacts (email, phone, name, and subscribers) of reports closed more than the
//! city's `contact_months` ago are erased, and when the city sets `drop_photo_originals_months`,
//! the full-size images of their photos are replaced by the 320 px thumbnails (the photo URL then
//! serves the thumbnail). Run daily by the service and by `zglos retention [--dry-run]`.
//!
//! "Closed" is a status that is not open (resolved, rejected, closed, duplicate), since the last
//! status change, or a report rejected by moderation, since that decision.
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use sqlx::PgPool;

use super::AppResult;
use crate::city::RetentionSettings;
use crate::domain::moderation::cutoff;
use crate::storage::{self, moderation as store};

/// What a retention run did (or, dry, would do).
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct RetentionReport {
    pub dry_run: bool,
    pub contact_months: u32,
    pub drop_photo_originals_months: Option<u32>,
    pub contacts_erased: u64,
    pub photos_dropped: u64,
}

/// The city's settings as imported; the defaults when its pack names none.
pub async fn settings(pool: &PgPool) -> AppResult<RetentionSettings> {
    Ok(store::retention_settings(pool)
        .await?
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default())
}

/// One run at `now`: erases what is due (nothing when `dry_run`, which counts only).
pub async fn run(pool: &PgPool, now: DateTime<Utc>, dry_run: bool) -> AppResult<RetentionReport> {
    let rules = settings(pool).await?;
    let mut report = RetentionReport {
        dry_run,
        contact_months: rules.contact_months,
        drop_photo_originals_months: rules.drop_photo_originals_months,
        ..Default::default()
    };
    let before = cutoff(now, rules.contact_months);
    for (category, due) in store::retention_contact_due(pool, before).await? {
        if dry_run {
            report.contacts_erased += due as u64;
            continue;
        }
        // One category at a time, under its lock: every update takes a new `rev`.
        let mut tx = pool.begin().await?;
        storage::lock_category(&mut tx, &category).await?;
        let ids = store::retention_erase_contacts(&mut tx, &category, before).await?;
        if !ids.is_empty() {
            store::audit(
                &mut tx,
                None,
                "system",
                "retention:contacts",
                None,
                Some(&format!(
                    "closed more than {} months ago",
                    rules.contact_months
                )),
                None,
                Some(&json!({"category": category, "reports": ids})),
            )
            .await?;
        }
        storage::reports::notify(&mut *tx, &category).await?;
        tx.commit().await?;
        report.contacts_erased += ids.len() as u64;
    }
    if let Some(months) = rules.drop_photo_originals_months {
        let ids = store::retention_photos_due(pool, cutoff(now, months)).await?;
        if dry_run {
            report.photos_dropped = ids.len() as u64;
        } else if !ids.is_empty() {
            let mut tx = pool.begin().await?;
            report.photos_dropped = store::drop_photo_originals(&mut *tx, &ids).await?;
            store::audit(
                &mut tx,
                None,
                "system",
                "retention:photos",
                None,
                Some(&format!("closed more than {months} months ago")),
                None,
                Some(&json!({"photos": ids})),
            )
            .await?;
            tx.commit().await?;
        }
    }
    if !dry_run {
        metrics::counter!("zglos_retention_contacts_erased_total")
            .increment(report.contacts_erased);
        metrics::counter!("zglos_retention_photos_dropped_total").increment(report.photos_dropped);
    }
    tracing::info!(
        dry_run,
        contacts_erased = report.contacts_erased,
        photos_dropped = report.photos_dropped,
        contact_months = rules.contact_months,
        "retention"
    );
    Ok(report)
}

/// Runs retention once a day in the service (the first run an hour after start-up). Several
/// processes may run it: each run only erases what is still there.
pub fn spawn_daily(pool: PgPool) {
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        let mut tick = tokio::time::interval(Duration::from_secs(24 * 3600));
        loop {
            tick.tick().await;
            if let Err(e) = run(&pool, Utc::now(), false).await {
                tracing::warn!(error = %e, "retention run failed; will retry tomorrow");
            }
        }
    });
}
