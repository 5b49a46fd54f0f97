//! Escalation and the weekly digest. A sweep (every five minutes in each service process) looks at the open reports with a date to keep and mails the
//! responsible unit's contact and the admins once a report has used up a share of its working
//! days (city.json `escalation.warn_at_share`, default 0.75), once its fix date has passed, and
//! once its response date has passed with nobody answering; and on the city's digest weekday
//! (default Monday) each unit gets the week's digest: open, overdue, the oldest ten. Every mail
//! is recorded with the report, kind and deadline in the transaction that queues it, so several
//! processes sweeping at once send each one once, and a deadline that staff move can escalate
//! again.
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;
use sqlx::PgPool;

use super::AppResult;
use crate::catalogue::Catalogue;
pub use crate::domain::calendar::EscalationSettings;
use crate::domain::messages::{self, DigestLine, Escalation, EscalationFacts};
use crate::domain::{Email, Lang};
use crate::engine::Engine;
use crate::storage::{deadlines as store, outbox};

/// What one sweep sent.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Sweep {
    pub warnings: usize,
    pub overdue: usize,
    pub no_response: usize,
    pub digests: usize,
    pub mails: usize,
}

/// The email addresses in a unit's free-text contact ("24h line 12 616 75 55; a@b.pl").
pub fn contact_emails(contact: &str) -> Vec<String> {
    contact
        .split(|c: char| c.is_whitespace() || matches!(c, ';' | ',' | '<' | '>' | '(' | ')'))
        .filter(|w| w.contains('@'))
        .filter_map(|w| Email::parse(w.trim_end_matches('.'), "contact").ok())
        .map(|e| e.as_str().to_owned())
        .collect()
}

/// Which escalation, if any, is due for a report today, with the deadline it is about.
pub fn due_escalation(
    catalogue: &Catalogue,
    settings: &EscalationSettings,
    report: &store::Watched,
    today: NaiveDate,
) -> Option<(Escalation, NaiveDate)> {
    let cal = &catalogue.city.calendar;
    if report.unanswered {
        if let Some(due) = report.response_due.filter(|d| *d < today) {
            return Some((Escalation::NoResponse, due));
        }
    }
    let fix = report.expected_at?;
    if fix < today {
        return Some((Escalation::Overdue, fix));
    }
    let filed = cal.local_date(report.created_at);
    let total = cal.working_days_between(filed, fix);
    let used = cal.working_days_between(filed, today);
    (total > 0 && used as f64 >= settings.warn_at_share * total as f64)
        .then_some((Escalation::Warning, fix))
}

/// One sweep at instant `now`.
pub async fn sweep(
    pool: &PgPool,
    catalogue: &Catalogue,
    base_url: &str,
    now: DateTime<Utc>,
) -> AppResult<Sweep> {
    let settings = &catalogue.city.escalation;
    let today = catalogue.city.calendar.local_date(now);
    let mut out = Sweep::default();
    let mut conn = pool.acquire().await?;
    let admins = if settings.admins {
        store::admins(&mut conn).await?
    } else {
        Vec::new()
    };
    let watched = store::watched(&mut conn).await?;
    drop(conn);
    let recipients = |unit: &str| -> Vec<(String, Lang)> {
        let mut to: Vec<(String, Lang)> = catalogue
            .unit(unit)
            .map(|u| contact_emails(&u.contact))
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e, Lang::Pl))
            .collect();
        for (a, lang) in &admins {
            if !to.iter().any(|(t, _)| t.eq_ignore_ascii_case(a)) {
                to.push((a.clone(), Lang::from_code(lang)));
            }
        }
        to
    };
    for r in &watched {
        let Some((why, deadline)) = due_escalation(catalogue, settings, r, today) else {
            continue;
        };
        let mut tx = pool.begin().await?;
        if !store::record_escalation(&mut tx, r.id, why.as_str(), deadline).await? {
            continue;
        }
        let unit_name = catalogue
            .unit(&r.unit_code)
            .map_or(r.unit_code.as_str(), |u| u.name.as_str());
        let link = format!("{base_url}/staff#/report/{}", r.id);
        for (to, lang) in recipients(&r.unit_code) {
            let category = catalogue
                .category(&r.category)
                .map_or(r.category.clone(), |(_, c)| {
                    c.names.get(lang.as_str()).to_owned()
                });
            let facts = EscalationFacts {
                report_id: r.id,
                category: &category,
                unit: unit_name,
                address: r.address_label.as_deref(),
                deadline,
                link: &link,
            };
            let (subject, body) = messages::escalation_message(lang, why, &facts);
            outbox::queue(&mut tx, r.id, &to, &subject, &body).await?;
            out.mails += 1;
        }
        outbox::wake_workers(&mut tx).await?;
        tx.commit().await?;
        match why {
            Escalation::Warning => out.warnings += 1,
            Escalation::Overdue => out.overdue += 1,
            Escalation::NoResponse => out.no_response += 1,
        }
        metrics::counter!("zglos_escalations_total", "kind" => why.as_str()).increment(1);
    }
    if today.weekday() == settings.digest_weekday {
        out.digests = digests(
            pool,
            catalogue,
            settings,
            &watched,
            base_url,
            today,
            &recipients,
            &mut out.mails,
        )
        .await?;
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
async fn digests(
    pool: &PgPool,
    catalogue: &Catalogue,
    settings: &EscalationSettings,
    watched: &[store::Watched],
    base_url: &str,
    today: NaiveDate,
    recipients: &(dyn Fn(&str) -> Vec<(String, Lang)> + Sync),
    mails: &mut usize,
) -> AppResult<usize> {
    let mut sent = 0;
    for unit in &catalogue.units {
        let mine: Vec<&store::Watched> = watched
            .iter()
            .filter(|w| w.unit_code == unit.code)
            .collect();
        if mine.is_empty() {
            continue;
        }
        let mut tx = pool.begin().await?;
        if !store::record_digest(&mut tx, &unit.code, today).await? {
            continue;
        }
        let overdue = mine
            .iter()
            .filter(|w| {
                matches!(
                    due_escalation(catalogue, settings, w, today),
                    Some((Escalation::Overdue | Escalation::NoResponse, _))
                )
            })
            .count();
        let mut oldest = mine.clone();
        oldest.sort_by_key(|w| (w.created_at, w.id));
        for (to, lang) in recipients(&unit.code) {
            let lines: Vec<DigestLine> = oldest
                .iter()
                .take(10)
                .map(|w| DigestLine {
                    report_id: w.id,
                    category: catalogue
                        .category(&w.category)
                        .map_or(w.category.clone(), |(_, c)| {
                            c.names.get(lang.as_str()).to_owned()
                        }),
                    created: catalogue.city.calendar.local_date(w.created_at),
                    expected: w.expected_at,
                    address: w.address_label.clone(),
                })
                .collect();
            let (subject, body) = messages::digest_message(
                lang,
                &unit.name,
                mine.len(),
                overdue,
                &lines,
                &format!("{base_url}/staff#/inbox"),
            );
            outbox::queue(&mut tx, None, &to, &subject, &body).await?;
            *mails += 1;
        }
        outbox::wake_workers(&mut tx).await?;
        tx.commit().await?;
        sent += 1;
    }
    Ok(sent)
}

/// Sweeps every `every` in the service (the first a minute after start-up).
pub fn spawn_periodic(pool: PgPool, engine: Arc<Engine>, base_url: String, every: Duration) {
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(60)).await;
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let catalogue = engine.catalogue();
            // Resolved reports nobody answered "Is it fixed?" for close by themselves.
            match super::staff::close_unanswered(&pool, &engine, Utc::now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(closed = n, "resolved reports closed without an answer"),
                Err(e) => tracing::warn!(error = %e, "closing unanswered resolved reports failed"),
            }
            match sweep(&pool, catalogue, &base_url, Utc::now()).await {
                Ok(s) if s.mails > 0 => tracing::info!(?s, "deadline sweep"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "deadline sweep failed; will retry"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_units_contact_gives_its_email_addresses() {
        assert_eq!(
            contact_emails("24h intervention line 12 616 75 55; zgloszenia@zdmk.krakow.pl"),
            vec!["zgloszenia@zdmk.krakow.pl"]
        );
        assert_eq!(
            contact_emails("a@x.pl, Biuro <b@y.pl>; ul. Wielopole 1"),
            vec!["a@x.pl", "b@y.pl"]
        );
        assert!(contact_emails("ul. Wielopole 1").is_empty());
    }
}
