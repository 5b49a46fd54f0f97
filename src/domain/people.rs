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
    Uk,
}

impl Lang {
    /// The languages the interface and the mails are written in; the city's first one first.
    pub const ALL: [Lang; 3] = [Lang::Pl, Lang::En, Lang::Uk];

    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Pl => "pl",
            Lang::En => "en",
            Lang::Uk => "uk",
        }
    }

    /// The codes of [`Lang::ALL`], for messages: `"pl", "en" or "uk"`.
    pub fn choices() -> String {
        let codes: Vec<String> = Self::ALL
            .iter()
            .map(|l| format!("{:?}", l.as_str()))
            .collect();
        match codes.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => codes.join(""),
        }
    }

    /// A code as a client sends it: exactly one of [`Lang::ALL`] (case-insensitive).
    pub fn from_given(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// The language an `Accept-Language` header prefers among ours (RFC 9110 §12.5.4): the
    /// highest `q` wins, ties keep the header's order, a region is ignored (`uk-UA` is `uk`),
    /// `q=0` refuses; `None` when nothing offered is ours. Russian-only browsers, common
    /// among Ukrainian-speaking residents, are offered Ukrainian rather than Polish.
    pub fn negotiate(header: &str) -> Option<Self> {
        let mut best: Option<(f32, usize, Lang)> = None;
        for (i, part) in header.split(',').enumerate() {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let q = pieces
                .filter_map(|p| p.trim().strip_prefix("q="))
                .next()
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok());
            let Some(q) = q.filter(|q| (0.0..=1.0).contains(q) && *q > 0.0) else {
                continue;
            };
            let primary = tag.split('-').next().unwrap_or("").to_ascii_lowercase();
            let lang = match primary.as_str() {
                "ru" | "be" => Some(Lang::Uk),
                other => Self::from_given(other),
            };
            if let Some(lang) = lang {
                // A direct match outranks the stand-in at the same q.
                let q = if primary == lang.as_str() {
                    q
                } else {
                    q - 0.0001
                };
                if best.is_none_or(|(bq, bi, _)| q > bq || (q == bq && i < bi)) {
                    best = Some((q, i, lang));
                }
            }
        }
        best.map(|(_, _, l)| l)
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
            Some(Value::String(s)) if Self::from_given(s).is_some() => {
                Ok(Self::from_given(s).unwrap_or_default())
            }
            Some(_) => Err(Invalid::malformed(
                "invalid_lang",
                format!("lang must be {}", Self::choices()),
            )
            .at(field)),
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
    /// A unit's own system, by its API key (never a person's account): changes the status of
    /// its unit's reports.
    UnitSystem,
}

impl Role {
    /// The roles of people's accounts ([`Role::UnitSystem`] belongs to API keys).
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
            Role::UnitSystem => "unit_system",
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
        assert_eq!(Lang::parse(Some(&json!("uk")), "lang").unwrap(), Lang::Uk);
        assert_eq!(Lang::from_code("uk"), Lang::Uk);
        assert_eq!(Lang::choices(), r#""pl", "en" or "uk""#);
    }

    #[test]
    fn accept_language_picks_the_most_wanted_of_our_languages() {
        assert_eq!(Lang::negotiate("uk-UA,uk;q=0.9,en;q=0.8"), Some(Lang::Uk));
        assert_eq!(Lang::negotiate("de-DE,de;q=0.9,en;q=0.5"), Some(Lang::En));
        assert_eq!(Lang::negotiate("en;q=0.5, pl"), Some(Lang::Pl));
        // Ties keep the header's order; q=0 refuses.
        assert_eq!(Lang::negotiate("en, uk"), Some(Lang::En));
        assert_eq!(Lang::negotiate("uk;q=0, en;q=0.1"), Some(Lang::En));
        // A browser set to Russian only reads Ukrainian sooner than Polish.
        assert_eq!(Lang::negotiate("ru-RU,ru;q=0.9"), Some(Lang::Uk));
        assert_eq!(Lang::negotiate("ru;q=0.9, uk;q=0.9"), Some(Lang::Uk));
        assert_eq!(Lang::negotiate("ru, pl;q=0.8"), Some(Lang::Uk));
        for none in ["", "de, fr;q=0.5", "*", "uk;q=abc", "en;q=2"] {
            assert_eq!(Lang::negotiate(none), None, "{none}");
        }
    }

    #[test]
    fn roles_round_trip_through_their_codes() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
