//! Who is involved in a report, as parsed types: an email address, a language, a staff role.
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use super::Invalid;

/// A plausible email address: something@domain.tld without spaces. Delivery proves the rest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str, field: &str) -> Result<Self, Invalid> {
        let s = s.trim();
        let ok = s.len() <= 254
            && !s.chars().any(|c| c.is_whitespace() || c.is_control())
            && s.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            });
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(
                Invalid::malformed("invalid_email", format!("{s:?} is not an email address"))
                    .at(field),
            )
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Email {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The language a resident or a staff member reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Pl,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Pl, Lang::En];

    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Pl => "pl",
            Lang::En => "en",
        }
    }

    /// A stored code; anything unknown reads as the city's first language.
    pub fn from_code(s: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .unwrap_or_default()
    }

    /// An optional `lang` field of a request body (absent: Polish).
    pub fn parse(v: Option<&Value>, field: &str) -> Result<Self, Invalid> {
        match v {
            None | Some(Value::Null) => Ok(Lang::Pl),
            Some(Value::String(s)) if Self::ALL.iter().any(|l| l.as_str() == s) => {
                Ok(Self::from_code(s))
            }
            Some(_) => {
                Err(Invalid::malformed("invalid_lang", "lang must be \"pl\" or \"en\"").at(field))
            }
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a staff member may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    UnitStaff,
    Consultant,
    Analyst,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Admin,
        Role::UnitStaff,
        Role::Consultant,
        Role::Analyst,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::UnitStaff => "unit_staff",
            Role::Consultant => "consultant",
            Role::Analyst => "analyst",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_email_needs_a_local_part_and_a_dotted_domain() {
        assert_eq!(
            Email::parse(" anna@example.org ", "e").unwrap().as_str(),
            "anna@example.org"
        );
        for bad in [
            "anna",
            "@example.org",
            "anna@example",
            "anna@.org",
            "an na@example.org",
            "anna@example.",
        ] {
            let e = Email::parse(bad, "contact.email").unwrap_err();
            assert_eq!(
                (e.code, e.field.as_deref()),
                ("invalid_email", Some("contact.email")),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_language_is_polish_unless_said_otherwise() {
        assert_eq!(Lang::parse(None, "lang").unwrap(), Lang::Pl);
        assert_eq!(Lang::parse(Some(&json!("en")), "lang").unwrap(), Lang::En);
        assert_eq!(
            Lang::parse(Some(&json!("de")), "lang").unwrap_err().code,
            "invalid_lang"
        );
        assert_eq!(
            Lang::parse(Some(&json!(1)), "lang")
                .unwrap_err()
                .field
                .as_deref(),
            Some("lang")
        );
        assert_eq!(Lang::from_code("xx"), Lang::Pl);
    }

    #[test]
    fn roles_round_trip_through_their_codes() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
