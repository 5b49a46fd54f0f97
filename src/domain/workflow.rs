//! The status workflow as pure functions over the city's transition table.
//!
//! A city defines its statuses and the moves between them as data (`statuses`,
//! `status_transitions`). A few statuses play a part the service must know: the one a new report
//! gets, the one that means "not ours" (the report is rerouted to the unit named, which sees it
//! with the initial status again), the one a reopened or unmerged report returns to, the one a
//! merged report gets, and the one that stamps `resolved_at`. Those parts are data too
//! ([`StatusRoles`], from `statuses.role`); nothing below names a status code.
//!
//! Every rule here decides from values and returns a plan or a [`WorkflowError`]; the use cases
//! in `app` carry the plan out in one transaction.
use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::Invalid;

/// How long after its last change a closed report may be reopened by its reporter.
pub const REOPEN_DAYS: i64 = 30;

/// The statuses that play a part in the workflow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusRoles {
    /// A new report's status, and a rerouted one's.
    pub initial: String,
    /// "Not ours": the report goes to the unit that is responsible.
    pub not_ours: String,
    /// Where a reopened or unmerged report goes.
    pub reopened: String,
    /// A report merged into another.
    pub duplicate: String,
    /// Sets `resolved_at`.
    pub resolved: String,
}

impl Default for StatusRoles {
    /// The roles of the statuses every city gets from the migrations.
    fn default() -> Self {
        Self {
            initial: "new".into(),
            not_ours: "rejected".into(),
            reopened: "acknowledged".into(),
            duplicate: "duplicate".into(),
            resolved: "resolved".into(),
        }
    }
}

/// The city's workflow: which statuses exist, which are open, and the allowed moves.
#[derive(Clone, Debug, Default)]
pub struct Workflow {
    statuses: Vec<String>,
    open: HashSet<String>,
    transitions: BTreeSet<(String, String)>,
    pub roles: StatusRoles,
}

/// A report's state as far as the workflow cares.
#[derive(Clone, Debug)]
pub struct ReportState<'a> {
    pub id: i64,
    pub status: &'a str,
    pub unit: Option<&'a str>,
    pub duplicate_of: Option<i64>,
    pub updated_at: DateTime<Utc>,
}

/// What happens to `resolved_at` when a status is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResolvedAt {
    /// Stamped now: the report is resolved.
    Stamp,
    /// Cleared: the report is open again.
    Clear,
    /// Left as it is (closed, rejected...).
    Keep,
}

/// The outcome of a status change a staff member asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StatusPlan {
    /// The report takes `status`.
    Set {
        status: String,
        resolved_at: ResolvedAt,
    },
    /// "Not ours": the event says `not_ours`, and the report goes to `unit` as `status` (the
    /// initial status), routed by hand.
    Reroute {
        not_ours: String,
        status: String,
        unit: String,
    },
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum WorkflowError {
    #[error("unknown status {0:?}")]
    UnknownStatus(String),
    #[error("a report that is {from} cannot become {to}; allowed: {}", allowed.join(", "))]
    NotAllowed {
        from: String,
        to: String,
        allowed: Vec<String>,
    },
    #[error("name the unit this report belongs to: it is rerouted there")]
    MissingUnit,
    #[error("no unit {0:?}")]
    UnknownUnit(String),
    #[error("the report is already with that unit")]
    SameUnit,
    #[error("a report that is {0} cannot be reopened")]
    NotReopenable(String),
    #[error("a report can be reopened within {REOPEN_DAYS} days; please file a new one")]
    ReopenWindowPassed,
    #[error("a report cannot be merged into itself")]
    MergeIntoItself,
    #[error("report {target} is itself a duplicate of {original}")]
    TargetIsDuplicate { target: i64, original: i64 },
    #[error("report {0} is already a duplicate; unmerge it first")]
    AlreadyMerged(i64),
    #[error("report {0} is not a duplicate")]
    NotMerged(i64),
}

impl From<WorkflowError> for Invalid {
    fn from(e: WorkflowError) -> Self {
        let message = e.to_string();
        match e {
            WorkflowError::UnknownStatus(_) => {
                Invalid::unacceptable("unknown_status", message).at("status")
            }
            WorkflowError::NotAllowed { from, allowed, .. } => {
                Invalid::conflict("transition_not_allowed", message)
                    .at("status")
                    .with_detail(json!({"from": from, "allowed": allowed}))
            }
            WorkflowError::MissingUnit => {
                Invalid::unacceptable("missing_field", message).at("unit")
            }
            WorkflowError::UnknownUnit(_) => {
                Invalid::unacceptable("unknown_unit", message).at("unit")
            }
            WorkflowError::SameUnit => Invalid::unacceptable("same_unit", message).at("unit"),
            WorkflowError::NotReopenable(status) => {
                Invalid::conflict("not_reopenable", message).with_detail(json!({"status": status}))
            }
            WorkflowError::ReopenWindowPassed => Invalid::conflict("reopen_window_passed", message),
            WorkflowError::MergeIntoItself | WorkflowError::TargetIsDuplicate { .. } => {
                Invalid::unacceptable("invalid_merge", message).at("into")
            }
            WorkflowError::AlreadyMerged(_) => Invalid::conflict("already_merged", message),
            WorkflowError::NotMerged(_) => Invalid::conflict("not_merged", message),
        }
    }
}

impl Workflow {
    /// `statuses` in display order with whether each is open; `transitions` as (from, to).
    pub fn new(
        statuses: impl IntoIterator<Item = (String, bool)>,
        transitions: impl IntoIterator<Item = (String, String)>,
        roles: StatusRoles,
    ) -> Self {
        let mut w = Self {
            roles,
            ..Self::default()
        };
        for (code, open) in statuses {
            if open {
                w.open.insert(code.clone());
            }
            w.statuses.push(code);
        }
        w.transitions = transitions.into_iter().collect();
        w
    }

    pub fn knows(&self, status: &str) -> bool {
        self.statuses.iter().any(|s| s == status)
    }

    pub fn is_open(&self, status: &str) -> bool {
        self.open.contains(status)
    }

    /// The statuses a report that is `from` may move to, in code order.
    pub fn allowed(&self, from: &str) -> Vec<String> {
        self.transitions
            .iter()
            .filter(|(f, _)| f == from)
            .map(|(_, t)| t.clone())
            .collect()
    }

    fn may_move(&self, from: &str, to: &str) -> bool {
        self.transitions.contains(&(from.to_owned(), to.to_owned()))
    }

    /// Where a resolved report goes when its reporter confirms the fix or does not answer:
    /// the first closed status the workflow allows from the resolved one.
    pub fn after_resolved(&self) -> Option<String> {
        self.allowed(&self.roles.resolved)
            .into_iter()
            .find(|s| !self.is_open(s) && *s != self.roles.resolved)
    }

    /// A staff member moves a report to `to`. "Not ours" needs the unit it belongs to
    /// (`unit`, which `unit_exists` must know and which must differ from the report's own).
    pub fn change_status(
        &self,
        report: &ReportState<'_>,
        to: &str,
        unit: Option<&str>,
        unit_exists: impl Fn(&str) -> bool,
    ) -> Result<StatusPlan, WorkflowError> {
        if !self.may_move(report.status, to) {
            return Err(WorkflowError::NotAllowed {
                from: report.status.to_owned(),
                to: to.to_owned(),
                allowed: self.allowed(report.status),
            });
        }
        if to == self.roles.not_ours {
            let unit = unit.ok_or(WorkflowError::MissingUnit)?;
            if !unit_exists(unit) {
                return Err(WorkflowError::UnknownUnit(unit.to_owned()));
            }
            if report.unit == Some(unit) {
                return Err(WorkflowError::SameUnit);
            }
            return Ok(StatusPlan::Reroute {
                not_ours: to.to_owned(),
                status: self.roles.initial.clone(),
                unit: unit.to_owned(),
            });
        }
        let resolved_at = if to == self.roles.resolved {
            ResolvedAt::Stamp
        } else if self.is_open(to) {
            ResolvedAt::Clear
        } else {
            ResolvedAt::Keep
        };
        Ok(StatusPlan::Set {
            status: to.to_owned(),
            resolved_at,
        })
    }

    /// The reporter reopens a closed report within [`REOPEN_DAYS`] of its last change; it goes
    /// back to the `reopened` status. Returns that status.
    pub fn reopen(
        &self,
        report: &ReportState<'_>,
        now: DateTime<Utc>,
    ) -> Result<String, WorkflowError> {
        let target = &self.roles.reopened;
        if report.status == self.roles.duplicate
            || self.is_open(report.status)
            || !self.may_move(report.status, target)
        {
            return Err(WorkflowError::NotReopenable(report.status.to_owned()));
        }
        if report.updated_at < now - Duration::days(REOPEN_DAYS) {
            return Err(WorkflowError::ReopenWindowPassed);
        }
        Ok(target.clone())
    }

    /// `report` is merged into `target`: it takes the duplicate status and `target` gains its
    /// supporters. Returns that status.
    pub fn merge(
        &self,
        report: &ReportState<'_>,
        target: &ReportState<'_>,
    ) -> Result<String, WorkflowError> {
        if report.id == target.id {
            return Err(WorkflowError::MergeIntoItself);
        }
        if let Some(original) = target.duplicate_of {
            return Err(WorkflowError::TargetIsDuplicate {
                target: target.id,
                original,
            });
        }
        if report.duplicate_of.is_some() {
            return Err(WorkflowError::AlreadyMerged(report.id));
        }
        Ok(self.roles.duplicate.clone())
    }

    /// Undoes a merge: the report is an original again, in the `reopened` status. Returns the
    /// original it was merged into, and that status.
    pub fn unmerge(&self, report: &ReportState<'_>) -> Result<(i64, String), WorkflowError> {
        let original = report
            .duplicate_of
            .ok_or(WorkflowError::NotMerged(report.id))?;
        Ok((original, self.roles.reopened.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A workflow shaped like Kraków's (a subset of its moves).
    fn krakow() -> Workflow {
        let statuses = [
            ("new", true),
            ("acknowledged", true),
            ("planned", true),
            ("in_progress", true),
            ("resolved", false),
            ("closed", false),
            ("rejected", false),
            ("duplicate", false),
        ];
        let moves = [
            ("new", "acknowledged"),
            ("new", "planned"),
            ("new", "in_progress"),
            ("new", "resolved"),
            ("new", "rejected"),
            ("new", "closed"),
            ("acknowledged", "planned"),
            ("acknowledged", "in_progress"),
            ("acknowledged", "resolved"),
            ("acknowledged", "rejected"),
            ("acknowledged", "closed"),
            ("planned", "in_progress"),
            ("planned", "resolved"),
            ("in_progress", "resolved"),
            ("resolved", "closed"),
            ("resolved", "acknowledged"),
            ("closed", "acknowledged"),
            ("duplicate", "acknowledged"),
        ];
        Workflow::new(
            statuses.map(|(s, o)| (s.to_owned(), o)),
            moves.map(|(a, b)| (a.to_owned(), b.to_owned())),
            StatusRoles::default(),
        )
    }

    fn report(status: &str) -> ReportState<'_> {
        ReportState {
            id: 7,
            status,
            unit: Some("ZDMK"),
            duplicate_of: None,
            updated_at: Utc::now(),
        }
    }

    const UNITS: [&str; 2] = ["ZDMK", "MPO"];
    fn known(u: &str) -> bool {
        UNITS.contains(&u)
    }

    #[test]
    fn an_allowed_move_sets_the_status_and_says_what_happens_to_resolved_at() {
        let w = krakow();
        let set = |from, to| w.change_status(&report(from), to, None, known).unwrap();
        assert_eq!(
            set("new", "resolved"),
            StatusPlan::Set {
                status: "resolved".into(),
                resolved_at: ResolvedAt::Stamp
            }
        );
        assert_eq!(
            set("resolved", "acknowledged"),
            StatusPlan::Set {
                status: "acknowledged".into(),
                resolved_at: ResolvedAt::Clear
            }
        );
        assert_eq!(
            set("resolved", "closed"),
            StatusPlan::Set {
                status: "closed".into(),
                resolved_at: ResolvedAt::Keep
            }
        );
    }

    #[test]
    fn a_move_outside_the_table_is_refused_with_the_allowed_ones() {
        let w = krakow();
        let err = w
            .change_status(&report("closed"), "in_progress", None, known)
            .unwrap_err();
        assert_eq!(
            err,
            WorkflowError::NotAllowed {
                from: "closed".into(),
                to: "in_progress".into(),
                allowed: vec!["acknowledged".into()],
            }
        );
        let invalid = Invalid::from(err);
        assert_eq!(invalid.code, "transition_not_allowed");
        assert_eq!(invalid.field.as_deref(), Some("status"));
        assert_eq!(invalid.detail.unwrap()["allowed"], json!(["acknowledged"]));
        assert_eq!(w.allowed("planned"), vec!["in_progress", "resolved"]);
        assert!(w.allowed("nonsense").is_empty());
    }

    #[test]
    fn not_ours_reroutes_to_the_named_unit_as_new() {
        let w = krakow();
        let plan = w
            .change_status(&report("new"), "rejected", Some("MPO"), known)
            .unwrap();
        assert_eq!(
            plan,
            StatusPlan::Reroute {
                not_ours: "rejected".into(),
                status: "new".into(),
                unit: "MPO".into()
            }
        );
    }

    #[test]
    fn not_ours_needs_another_known_unit() {
        let w = krakow();
        let r = report("acknowledged");
        assert_eq!(
            w.change_status(&r, "rejected", None, known),
            Err(WorkflowError::MissingUnit)
        );
        assert_eq!(
            w.change_status(&r, "rejected", Some("NASA"), known),
            Err(WorkflowError::UnknownUnit("NASA".into()))
        );
        assert_eq!(
            w.change_status(&r, "rejected", Some("ZDMK"), known),
            Err(WorkflowError::SameUnit)
        );
        assert_eq!(
            Invalid::from(WorkflowError::MissingUnit).field.as_deref(),
            Some("unit")
        );
    }

    #[test]
    fn the_roles_come_from_the_city_not_from_the_code() {
        let roles = StatusRoles {
            initial: "otwarte".into(),
            not_ours: "nie_nasze".into(),
            reopened: "ponownie".into(),
            duplicate: "dubel".into(),
            resolved: "zrobione".into(),
        };
        let w = Workflow::new(
            [
                ("otwarte", true),
                ("nie_nasze", false),
                ("zrobione", false),
                ("ponownie", true),
            ]
            .map(|(s, o)| (s.to_owned(), o)),
            [
                ("otwarte", "nie_nasze"),
                ("otwarte", "zrobione"),
                ("zrobione", "ponownie"),
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned())),
            roles,
        );
        let r = report("otwarte");
        assert_eq!(
            w.change_status(&r, "nie_nasze", Some("MPO"), known)
                .unwrap(),
            StatusPlan::Reroute {
                not_ours: "nie_nasze".into(),
                status: "otwarte".into(),
                unit: "MPO".into()
            }
        );
        assert_eq!(
            w.change_status(&r, "zrobione", None, known).unwrap(),
            StatusPlan::Set {
                status: "zrobione".into(),
                resolved_at: ResolvedAt::Stamp
            }
        );
        assert_eq!(
            w.reopen(&report("zrobione"), Utc::now()).unwrap(),
            "ponownie"
        );
    }

    #[test]
    fn the_reporter_reopens_a_closed_report_within_thirty_days() {
        let w = krakow();
        let now = Utc::now();
        assert_eq!(w.reopen(&report("resolved"), now).unwrap(), "acknowledged");
        assert_eq!(w.reopen(&report("closed"), now).unwrap(), "acknowledged");
        let mut old = report("resolved");
        old.updated_at = now - Duration::days(REOPEN_DAYS + 1);
        assert_eq!(w.reopen(&old, now), Err(WorkflowError::ReopenWindowPassed));
        old.updated_at = now - Duration::days(REOPEN_DAYS - 1);
        assert!(w.reopen(&old, now).is_ok());
    }

    #[test]
    fn open_rejected_and_duplicate_reports_cannot_be_reopened() {
        let w = krakow();
        for status in ["new", "in_progress", "rejected", "duplicate"] {
            assert_eq!(
                w.reopen(&report(status), Utc::now()),
                Err(WorkflowError::NotReopenable(status.into())),
                "{status}"
            );
        }
    }

    #[test]
    fn a_report_merges_into_an_original_other_than_itself() {
        let w = krakow();
        let a = report("new");
        let mut b = report("acknowledged");
        b.id = 8;
        assert_eq!(w.merge(&a, &b).unwrap(), "duplicate");
        assert_eq!(w.merge(&a, &a), Err(WorkflowError::MergeIntoItself));
        b.duplicate_of = Some(3);
        assert_eq!(
            w.merge(&a, &b),
            Err(WorkflowError::TargetIsDuplicate {
                target: 8,
                original: 3
            })
        );
        let mut merged = report("duplicate");
        merged.duplicate_of = Some(3);
        b.duplicate_of = None;
        assert_eq!(w.merge(&merged, &b), Err(WorkflowError::AlreadyMerged(7)));
        assert_eq!(
            Invalid::from(WorkflowError::MergeIntoItself)
                .field
                .as_deref(),
            Some("into")
        );
    }

    #[test]
    fn unmerge_returns_the_original_and_the_status_to_go_back_to() {
        let w = krakow();
        let mut merged = report("duplicate");
        merged.duplicate_of = Some(3);
        assert_eq!(w.unmerge(&merged).unwrap(), (3, "acknowledged".to_owned()));
        assert_eq!(w.unmerge(&report("new")), Err(WorkflowError::NotMerged(7)));
    }
}
