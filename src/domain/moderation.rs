//! Moderation and privacy as pure rules: abuse-list entries (parsed and normalised), the signed
//! links in mail to residents (HMAC-SHA256), redaction requests, and the retention cut-offs.
use std::net::IpAddr;

use chrono::{DateTime, Months, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Invalid, Lang};

/// What an abuse-list entry matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AbuseKind {
    Email,
    Phone,
    Cidr,
}

impl AbuseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Cidr => "cidr",
        }
    }
}

/// A parsed abuse-list entry: its kind and normalised value (see [`normalise_email`],
/// [`normalise_phone`], [`parse_cidr`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AbuseEntry {
    pub kind: AbuseKind,
    pub value: String,
}

impl AbuseEntry {
    /// Parses `value` as an entry of `kind` (`email`, `phone` or `cidr`); `field` names where the
    /// value came from in error messages.
    pub fn parse(kind: &str, value: &str, field: &str) -> Result<Self, Invalid> {
        let kind = match kind {
            "email" => AbuseKind::Email,
            "phone" => AbuseKind::Phone,
            "cidr" => AbuseKind::Cidr,
            other => {
                return Err(Invalid::malformed(
                    "unknown_kind",
                    format!("kind must be email, phone or cidr, not {other:?}"),
                )
                .at("kind"))
            }
        };
        let value = match kind {
            AbuseKind::Email => {
                let e = super::Email::parse(value, field)?;
                normalise_email(e.as_str())
            }
            AbuseKind::Phone => normalise_phone(value).ok_or_else(|| {
                Invalid::malformed(
                    "invalid_phone",
                    format!("{value:?} is not a phone number (at least 5 digits)"),
                )
                .at(field)
            })?,
            AbuseKind::Cidr => parse_cidr(value).ok_or_else(|| {
                Invalid::malformed(
                    "invalid_cidr",
                    format!(
                        "{value:?} is not an address range such as 203.0.113.0/24 or 2001:db8::/32"
                    ),
                )
                .at(field)
            })?,
        };
        Ok(Self { kind, value })
    }
}

/// An email as the abuse list compares it: trimmed and lower-cased.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A phone number as the abuse list compares it: its digits, with a leading `+` when it had one;
/// None when fewer than 5 digits.
pub fn normalise_phone(phone: &str) -> Option<String> {
    let t = phone.trim();
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 5 || digits.len() > 20 {
        return None;
    }
    Some(if t.starts_with('+') {
        format!("+{digits}")
    } else {
        digits
    })
}

/// An address range (`a.b.c.d/n`, `x::/n`, or a single address) as `address/prefix`, with the
/// host bits cleared (as PostgreSQL's `cidr` insists).
pub fn parse_cidr(text: &str) -> Option<String> {
    let t = text.trim();
    let (addr, prefix) = match t.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (t, None),
    };
    let ip: IpAddr = addr.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let prefix: u32 = match prefix {
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p.parse().ok()?,
        Some(_) => return None,
        None => max,
    };
    if prefix > max {
        return None;
    }
    let masked = match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let mask = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - prefix)
            };
            IpAddr::V4((bits & mask).into())
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let mask = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - prefix)
            };
            IpAddr::V6((bits & mask).into())
        }
    };
    Some(format!("{masked}/{prefix}"))
}

/// A client address as the abuse list compares it: the address, or None when it is not one
/// (an empty or unreadable `X-Forwarded-For`, say). Takes the first of a list.
pub fn client_address(text: &str) -> Option<String> {
    let first = text.split(',').next()?.trim();
    first.parse::<IpAddr>().ok().map(|ip| ip.to_string())
}

/// What a signed link in a resident's mail does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkPurpose {
    /// Stop updates and forget my email (erases the contact, stops mail).
    Forget,
    /// Withdraw my report (held for staff, marked "withdrawal requested").
    Withdraw,
    /// "Is it fixed?" — yes: recorded on the report.
    Fixed,
    /// "Is it fixed?" — no: the report is reopened with the resident's note.
    NotFixed,
    /// The page that gathers what a resident may do about the report (shows, changes nothing).
    Manage,
    /// Stop the updates, keeping the contact data.
    Stop,
    /// Resume the updates stopped before.
    Follow,
}

impl LinkPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Forget => "forget",
            Self::Withdraw => "withdraw",
            Self::Fixed => "fixed",
            Self::NotFixed => "not_fixed",
            Self::Manage => "manage",
            Self::Stop => "stop",
            Self::Follow => "follow",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "forget" => Some(Self::Forget),
            "withdraw" => Some(Self::Withdraw),
            "fixed" => Some(Self::Fixed),
            "not_fixed" => Some(Self::NotFixed),
            "manage" => Some(Self::Manage),
            "stop" => Some(Self::Stop),
            "follow" => Some(Self::Follow),
            _ => None,
        }
    }
}

/// The SHA-256 (hex) of an email as links carry it: the address never appears in a URL.
pub fn email_hash(email: &str) -> String {
    hex::encode(Sha256::digest(normalise_email(email).as_bytes()))
}

/// HMAC-SHA256 (RFC 2104) of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(message);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().into()
}

/// The signature (hex) of a link: HMAC-SHA256 over the purpose, the report and the email's hash.
pub fn link_signature(
    key: &[u8],
    purpose: LinkPurpose,
    report_id: i64,
    email_hash: &str,
) -> String {
    let message = format!(
        "zglos-link-v1\n{}\n{report_id}\n{email_hash}",
        purpose.as_str()
    );
    hex::encode(hmac_sha256(key, message.as_bytes()))
}

/// Checks a link's signature (in constant time).
pub fn verify_link(
    key: &[u8],
    purpose: LinkPurpose,
    report_id: i64,
    email_hash: &str,
    signature: &str,
) -> Result<(), Invalid> {
    let expected = link_signature(key, purpose, report_id, email_hash);
    let sent = signature.trim().to_ascii_lowercase();
    let same = expected.len() == sent.len()
        && expected
            .bytes()
            .zip(sent.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same {
        Ok(())
    } else {
        Err(Invalid::unacceptable(
            "bad_signature",
            "this link is not valid: its signature does not match (copy the whole link from the message)",
        )
        .at("s"))
    }
}

/// The path and query of a signed link (to be put after the service's base URL).
pub fn link_path(key: &[u8], purpose: LinkPurpose, report_id: i64, email: &str) -> String {
    link_path_for_hash(key, purpose, report_id, &email_hash(email))
}

/// [`link_path`] for an email known only by its hash (the manage page's own links).
pub fn link_path_for_hash(key: &[u8], purpose: LinkPurpose, report_id: i64, e: &str) -> String {
    let s = link_signature(key, purpose, report_id, e);
    format!("/api/v1/links/{}/{report_id}?e={e}&s={s}", purpose.as_str())
}

/// The lines appended to every mail to a resident: the page to manage the report, "stop updates
/// and forget my email" for everyone, "withdraw my report" for its reporter.
pub fn links_footer(lang: Lang, manage: &str, forget: &str, withdraw: Option<&str>) -> String {
    let (manage_text, forget_text, withdraw_text) = match lang {
        Lang::En => (
            "Manage this report (updates, your contact data, withdrawal)",
            "Stop updates and forget my email address",
            "Withdraw my report",
        ),
        Lang::Uk => (
            "Керувати зверненням (повідомлення, контактні дані, відкликання)",
            "Більше не надсилати повідомлень і видалити мою адресу",
            "Відкликати моє звернення",
        ),
        Lang::Pl => (
            "Zarządzaj zgłoszeniem (wiadomości, dane kontaktowe, wycofanie)",
            "Nie chcę więcej wiadomości, usuńcie mój adres",
            "Wycofuję moje zgłoszenie",
        ),
    };
    let mut out = format!("\n{manage_text}: {manage}\n{forget_text}: {forget}\n");
    if let Some(w) = withdraw {
        out.push_str(&format!("{withdraw_text}: {w}\n"));
    }
    out
}

/// What of a report staff hide from the public.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Redaction {
    Description,
    Photo(String),
}

impl Redaction {
    pub fn parse(field: Option<&str>, photo_id: Option<&str>) -> Result<Self, Invalid> {
        match field {
            Some("description") => Ok(Self::Description),
            Some("photo") => match photo_id {
                Some(id) if !id.trim().is_empty() => Ok(Self::Photo(id.trim().to_owned())),
                _ => Err(Invalid::unacceptable(
                    "missing_field",
                    "photo_id is required to hide a photo",
                )
                .at("photo_id")),
            },
            Some(other) => Err(Invalid::malformed(
                "unknown_field",
                format!("field must be \"description\" or \"photo\", not {other:?}"),
            )
            .at("field")),
            None => Err(Invalid::unacceptable(
                "missing_field",
                "field is required (\"description\" or \"photo\")",
            )
            .at("field")),
        }
    }
}

/// The moment `months` before `now`: what closed before it is due.
pub fn cutoff(now: DateTime<Utc>, months: u32) -> DateTime<Utc> {
    now.checked_sub_months(Months::new(months))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_normalised_so_that_variants_match() {
        let e = AbuseEntry::parse("email", " Spam@Example.ORG ", "email").unwrap();
        assert_eq!(e.value, "spam@example.org");
        let p = AbuseEntry::parse("phone", "+48 600-000-000", "phone").unwrap();
        assert_eq!(p.value, "+48600000000");
        let c = AbuseEntry::parse("cidr", "203.0.113.77/24", "cidr").unwrap();
        assert_eq!(c.value, "203.0.113.0/24");
        assert_eq!(parse_cidr("2001:db8::1/32").unwrap(), "2001:db8::/32");
        assert_eq!(parse_cidr("10.0.0.1").unwrap(), "10.0.0.1/32");
    }

    #[test]
    fn bad_entries_are_refused_naming_the_field() {
        for (kind, value) in [
            ("cidr", "10.0.0.0/33"),
            ("cidr", "nonsense"),
            ("cidr", "10.0.0.0/"),
            ("phone", "12"),
            ("email", "not-an-email"),
        ] {
            let e = AbuseEntry::parse(kind, value, kind).unwrap_err();
            assert_eq!(e.field.as_deref(), Some(kind), "{kind} {value}");
        }
        assert_eq!(
            AbuseEntry::parse("ip", "1.2.3.4", "value")
                .unwrap_err()
                .field
                .as_deref(),
            Some("kind")
        );
    }

    #[test]
    fn hmac_matches_the_rfc_4231_test_vector() {
        // RFC 4231, test case 2.
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_link_verifies_only_with_its_own_key_purpose_report_and_email() {
        let key = b"k1";
        let e = email_hash("Anna@example.org");
        assert_eq!(e, email_hash("anna@example.org"));
        let s = link_signature(key, LinkPurpose::Forget, 7, &e);
        assert!(verify_link(key, LinkPurpose::Forget, 7, &e, &s).is_ok());
        assert!(verify_link(b"k2", LinkPurpose::Forget, 7, &e, &s).is_err());
        assert!(verify_link(key, LinkPurpose::Withdraw, 7, &e, &s).is_err());
        assert!(verify_link(key, LinkPurpose::Forget, 8, &e, &s).is_err());
        assert!(verify_link(key, LinkPurpose::Forget, 7, &email_hash("x@y.z"), &s).is_err());
        assert!(verify_link(key, LinkPurpose::Forget, 7, &e, "00").is_err());
        let path = link_path(key, LinkPurpose::Withdraw, 7, "anna@example.org");
        assert!(path.starts_with("/api/v1/links/withdraw/7?e="));
    }

    #[test]
    fn a_cutoff_is_whole_months_back() {
        let now: DateTime<Utc> = "2026-12-02T00:00:00Z".parse().unwrap();
        assert_eq!(cutoff(now, 12).to_rfc3339(), "2025-12-02T00:00:00+00:00");
        assert_eq!(cutoff(now, 0), now);
    }

    #[test]
    fn redaction_requests_name_what_is_wrong() {
        assert_eq!(
            Redaction::parse(Some("description"), None).unwrap(),
            Redaction::Description
        );
        assert_eq!(
            Redaction::parse(Some("photo"), None)
                .unwrap_err()
                .field
                .as_deref(),
            Some("photo_id")
        );
        assert_eq!(
            Redaction::parse(Some("title"), None)
                .unwrap_err()
                .field
                .as_deref(),
            Some("field")
        );
    }
}
