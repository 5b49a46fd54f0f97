//! Who may do what: the caller of a request, staff roles and units, the CSRF rule, and the
//! login throttle. Pure rules over values; where the values come from (cookies, keys, the
//! database) is the business of the edges.
use serde::Serialize;

use super::{Lang, Role};

/// Staff who change reports.
pub const WORKERS: &[Role] = &[Role::Admin, Role::UnitStaff];
/// Who may change a report's status: staff who work on reports, and a unit's own system.
pub const STATUS_SETTERS: &[Role] = &[Role::Admin, Role::UnitStaff, Role::UnitSystem];
/// Staff who may read the inbox, reports' details and the heatmap.
pub const READERS: &[Role] = &[
    Role::Admin,
    Role::UnitStaff,
    Role::Consultant,
    Role::Analyst,
];

/// A logged-in staff member, as a session shows them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StaffUser {
    pub id: i64,
    pub login: String,
    pub name: String,
    pub roles: Vec<Role>,
    pub units: Vec<String>,
    pub lang: Lang,
    /// The CSRF token of the session this request came with.
    #[serde(skip)]
    pub csrf_token: String,
    /// Acting by an API key in `Authorization: Bearer`, not a session cookie: a browser never
    /// sends that by itself, so there is no cross-site request to guard against.
    #[serde(skip)]
    pub by_key: bool,
}

impl StaffUser {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// State-changing requests made with a session cookie must echo the session's CSRF token.
    /// Compared in constant time, so the answer's timing does not tell how much of it matched.
    pub fn check_csrf(&self, sent: Option<&str>) -> Result<(), AccessError> {
        if self.by_key {
            return Ok(());
        }
        match sent {
            Some(t)
                if !t.is_empty() && constant_time_eq(t.as_bytes(), self.csrf_token.as_bytes()) =>
            {
                Ok(())
            }
            _ => Err(AccessError::Csrf),
        }
    }

    /// Unit staff act on their units' reports only; admins on all.
    pub fn may_work_on(&self, unit: Option<&str>) -> Result<(), AccessError> {
        if self.has(Role::Admin) || unit.is_some_and(|u| self.units.iter().any(|x| x == u)) {
            Ok(())
        } else {
            Err(AccessError::OtherUnit)
        }
    }

    /// The units whose inbox this staff member sees when they name none: their own, or every
    /// unit when they have none (admins, consultants, analysts).
    pub fn default_units(&self, all: impl FnOnce() -> Vec<String>) -> Vec<String> {
        if self.units.is_empty() {
            all()
        } else {
            self.units.clone()
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The caller of a request: a staff member with a session, an app or tool with an API key, or a
/// resident (nobody).
#[derive(Clone, Debug, Default)]
pub struct Caller {
    pub user: Option<StaffUser>,
    /// Role of the API key in `Authorization: Bearer …`, if any.
    pub api_key_role: Option<String>,
}

impl StaffUser {
    /// The acting identity of a unit's system key: its unit only, the `unit_system` role only,
    /// named `system:{key name}` in timelines and the audit log.
    pub fn unit_system(key_name: &str, unit: &str) -> Self {
        StaffUser {
            id: 0,
            login: format!("system:{key_name}"),
            name: key_name.to_owned(),
            roles: vec![Role::UnitSystem],
            units: vec![unit.to_owned()],
            lang: Lang::Pl,
            csrf_token: String::new(),
            by_key: true,
        }
    }
}

impl Caller {
    /// A staff session with the analyst or admin role, or an analyst API key.
    pub fn is_analyst(&self) -> bool {
        self.user
            .as_ref()
            .is_some_and(|u| u.has(Role::Analyst) || u.has(Role::Admin))
            || self.api_key_role.as_deref() == Some("analyst")
    }

    /// The staff member, if they hold one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<&StaffUser, AccessError> {
        let user = self.user.as_ref().ok_or(AccessError::Unauthenticated)?;
        if roles.iter().any(|r| user.has(*r)) {
            Ok(user)
        } else {
            Err(AccessError::MissingRole(roles.to_vec()))
        }
    }

    /// The staff member for a state-changing request: one of `roles` and the session's CSRF
    /// token echoed.
    pub fn acting(&self, roles: &[Role], csrf: Option<&str>) -> Result<&StaffUser, AccessError> {
        let user = self.require(roles)?;
        user.check_csrf(csrf)?;
        Ok(user)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    #[error("log in as city staff first")]
    Unauthenticated,
    #[error("this needs one of the roles: {}", .0.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", "))]
    MissingRole(Vec<Role>),
    #[error("missing or wrong X-CSRF-Token header (from /api/v1/staff/me)")]
    Csrf,
    #[error("this report belongs to another unit")]
    OtherUnit,
    #[error("only the reporter or a subscriber of this report can reopen it")]
    NotTheReporter,
    #[error("wrong login or password")]
    InvalidCredentials,
    #[error("too many failed logins; wait 15 minutes")]
    Throttled,
}

impl AccessError {
    pub fn code(&self) -> &'static str {
        match self {
            AccessError::Unauthenticated => "unauthenticated",
            AccessError::MissingRole(_) | AccessError::OtherUnit => "forbidden",
            AccessError::Csrf => "csrf",
            AccessError::NotTheReporter => "not_the_reporter",
            AccessError::InvalidCredentials => "invalid_credentials",
            AccessError::Throttled => "too_many_attempts",
        }
    }
}

/// How many failed logins lock out an account or an address, and for how long.
#[derive(Clone, Copy, Debug)]
pub struct LoginThrottle {
    pub per_login: i64,
    pub per_address: i64,
    pub window_minutes: i32,
}

impl LoginThrottle {
    pub const DEFAULT: LoginThrottle = LoginThrottle {
        per_login: 5,
        per_address: 20,
        window_minutes: 15,
    };

    /// Given the failures within the window for this login and for this address: may the
    /// caller try a password at all?
    pub fn check(
        &self,
        failures_for_login: i64,
        failures_from_address: i64,
    ) -> Result<(), AccessError> {
        if failures_for_login >= self.per_login || failures_from_address >= self.per_address {
            Err(AccessError::Throttled)
        } else {
            Ok(())
        }
    }
}

/// Logins are case-insensitive and trimmed.
pub fn normalise_login(login: &str) -> String {
    login.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(roles: &[Role], units: &[&str]) -> StaffUser {
        StaffUser {
            by_key: false,
            id: 1,
            login: "ewa".into(),
            name: "Ewa".into(),
            roles: roles.to_vec(),
            units: units.iter().map(|u| u.to_string()).collect(),
            lang: Lang::Pl,
            csrf_token: "s3cret".into(),
        }
    }

    #[test]
    fn nobody_is_unauthenticated_and_the_wrong_role_is_forbidden() {
        assert_eq!(
            Caller::default().require(READERS),
            Err(AccessError::Unauthenticated)
        );
        let analyst = Caller {
            user: Some(user(&[Role::Analyst], &[])),
            api_key_role: None,
        };
        assert_eq!(analyst.require(READERS).map(|u| u.id), Ok(1));
        let err = analyst.require(WORKERS).unwrap_err();
        assert_eq!(
            err.to_string(),
            "this needs one of the roles: admin, unit_staff"
        );
        assert_eq!(err.code(), "forbidden");
    }

    #[test]
    fn a_state_change_needs_the_sessions_csrf_token() {
        let c = Caller {
            user: Some(user(&[Role::UnitStaff], &["ZDMK"])),
            api_key_role: None,
        };
        assert!(c.acting(WORKERS, Some("s3cret")).is_ok());
        for sent in [
            None,
            Some(""),
            Some("s3cre"),
            Some("s3cret!"),
            Some("S3CRET"),
        ] {
            assert_eq!(c.acting(WORKERS, sent), Err(AccessError::Csrf), "{sent:?}");
        }
    }

    #[test]
    fn unit_staff_work_on_their_units_reports_and_admins_on_all() {
        let staff = user(&[Role::UnitStaff], &["ZDMK"]);
        assert!(staff.may_work_on(Some("ZDMK")).is_ok());
        assert_eq!(staff.may_work_on(Some("MPO")), Err(AccessError::OtherUnit));
        assert_eq!(staff.may_work_on(None), Err(AccessError::OtherUnit));
        assert!(user(&[Role::Admin], &[]).may_work_on(Some("MPO")).is_ok());
    }

    #[test]
    fn a_unit_systems_key_sets_statuses_of_its_unit_only_and_needs_no_csrf_token() {
        let key = StaffUser::unit_system("ZDMK ERP", "ZDMK");
        assert!(key.may_work_on(Some("ZDMK")).is_ok());
        assert_eq!(key.may_work_on(Some("MPO")), Err(AccessError::OtherUnit));
        assert!(key.check_csrf(None).is_ok());
        let caller = Caller {
            user: Some(key),
            api_key_role: Some("unit_system".into()),
        };
        assert!(caller.acting(STATUS_SETTERS, None).is_ok());
        assert!(matches!(
            caller.acting(WORKERS, None),
            Err(AccessError::MissingRole(_))
        ));
        assert!(!caller.is_analyst());
    }

    #[test]
    fn analyst_keys_and_admins_count_as_analysts() {
        assert!(Caller {
            user: None,
            api_key_role: Some("analyst".into())
        }
        .is_analyst());
        assert!(!Caller {
            user: None,
            api_key_role: Some("app".into())
        }
        .is_analyst());
        assert!(Caller {
            user: Some(user(&[Role::Admin], &[])),
            api_key_role: None
        }
        .is_analyst());
        assert!(!Caller {
            user: Some(user(&[Role::Consultant], &[])),
            api_key_role: None
        }
        .is_analyst());
    }

    #[test]
    fn the_login_throttle_stops_at_the_limit_per_account_and_per_address() {
        let t = LoginThrottle::DEFAULT;
        assert!(t.check(0, 0).is_ok());
        assert!(t.check(4, 19).is_ok());
        assert_eq!(t.check(5, 0), Err(AccessError::Throttled));
        assert_eq!(t.check(0, 20), Err(AccessError::Throttled));
        assert_eq!(normalise_login("  Ewa.Nowak "), "ewa.nowak");
    }
}
