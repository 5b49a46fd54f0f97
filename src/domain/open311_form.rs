//! The Open311 GeoReport v2 "create a request" form (`application/x-www-form-urlencoded`), read
//! into a [`NewReport`]. Pure: the HTTP handler checks the API key and looks the service up
//! between [`Open311Form::decode`] and [`Open311Form::report`], and maps the errors to statuses.
use serde_json::{json, Map, Value};

use super::new_report::{Channel, Contact, MAX_DESCRIPTION_CHARS};
use super::{Email, Invalid, Lang, NewReport, ReportGeometry};

/// The fields the spec names (plus `attribute[...]`); any other is refused.
pub const KNOWN_FIELDS: &[&str] = &[
    "api_key",
    "jurisdiction_id",
    "service_code",
    "lat",
    "long",
    "address_string",
    "address_id",
    "email",
    "device_id",
    "account_id",
    "first_name",
    "last_name",
    "phone",
    "description",
    "media_url",
];

/// Why the form is refused.
#[derive(Debug)]
pub enum FormError {
    /// The form itself is wrong (Open311 answers 400 with this description).
    Bad(String),
    /// A value the domain refuses (a location outside the city, an invalid email).
    Invalid(Invalid),
}

impl From<Invalid> for FormError {
    fn from(e: Invalid) -> Self {
        FormError::Invalid(e)
    }
}

fn bad(msg: impl Into<String>) -> FormError {
    FormError::Bad(msg.into())
}

/// A decoded form: its pairs in order, and by name (the last value of a repeated name wins).
/// The fields of a status change from a unit's system (a Zgłoś extension).
pub const STATUS_FIELDS: &[&str] = &[
    "api_key",
    "jurisdiction_id",
    "status",
    "status_notes",
    "expected_datetime",
];

#[derive(Debug)]
pub struct Open311Form {
    pub pairs: Vec<(String, String)>,
    map: Map<String, Value>,
}

/// A form read into a report, with the `media_url` the request carried.
#[derive(Debug)]
pub struct FormReport {
    pub report: NewReport,
    pub media_url: Option<String>,
}

impl Open311Form {
    /// Decodes a new request's body and refuses unknown field names.
    pub fn decode(body: &[u8]) -> Result<Self, String> {
        Self::decode_knowing(body, KNOWN_FIELDS)
    }

    /// Decodes a body whose fields are `known` (or `attribute[…]`).
    pub fn decode_knowing(body: &[u8], known: &[&str]) -> Result<Self, String> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
            .map_err(|e| format!("the form cannot be read: {e}"))?;
        let map: Map<String, Value> = pairs
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        if let Some(k) = map
            .keys()
            .find(|k| !known.contains(&k.as_str()) && !k.starts_with("attribute["))
        {
            return Err(format!("unknown field {k:?}"));
        }
        // PostgreSQL text cannot hold U+0000.
        if let Some((k, _)) = pairs
            .iter()
            .find(|(k, v)| v.contains('\0') || k.contains('\0'))
        {
            return Err(format!("{k:?} may not contain U+0000 (NUL)"));
        }
        Ok(Self { pairs, map })
    }

    /// A field's value, trimmed; None when absent or blank.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.map
            .get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    /// The report the form describes, in the category `category` (whose name stands in for a
    /// missing description).
    pub fn report(
        &self,
        category: &str,
        default_description: &str,
    ) -> Result<FormReport, FormError> {
        self.report_locating(category, default_description, |_| None)
    }

    /// [`Self::report`], placing a request that gives only `address_string` where `locate`
    /// finds that address (lon, lat); a 400 naming the address when it finds nothing.
    pub fn report_locating(
        &self,
        category: &str,
        default_description: &str,
        locate: impl Fn(&str) -> Option<(f64, f64)>,
    ) -> Result<FormReport, FormError> {
        let num = |n: &str| -> Result<Option<f64>, FormError> {
            self.field(n)
                .map(|v| {
                    v.parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite())
                        .ok_or_else(|| bad(format!("{n} must be a number, got {v:?}")))
                })
                .transpose()
        };
        let (lat, lon) = match (num("lat")?, num("long")?) {
            (Some(lat), Some(lon)) => (lat, lon),
            (None, None) if self.field("address_string").is_some() => {
                let addr = self.field("address_string").unwrap_or_default();
                match locate(addr) {
                    Some((lon, lat)) => (lat, lon),
                    None => {
                        return Err(bad(format!(
                            "no address matches address_string {addr:?}: give a street and number in the city, or lat and long"
                        )))
                    }
                }
            }
            (None, None) => return Err(bad("a location is required: lat and long")),
            _ => return Err(bad("lat and long go together")),
        };
        let geometry = ReportGeometry::parse(
            &json!({"type": "Point", "coordinates": [lon, lat]}),
            "lat/long",
        )?;
        let mut description = self.field("description").unwrap_or("").to_owned();
        if let Some(addr) = self.field("address_string") {
            description = format!("{description}\n{addr}").trim().to_owned();
        }
        if let Some(landmark) = self.field("attribute[landmark]") {
            description = format!("{description}\n{landmark}").trim().to_owned();
        }
        if description.is_empty() {
            description = default_description.to_owned();
        }
        if description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(bad("description is too long"));
        }
        let media_url = self.field("media_url");
        if let Some(u) = media_url {
            if !(u.starts_with("https://") || u.starts_with("http://"))
                || u.len() > 2000
                || u.chars().any(char::is_whitespace)
            {
                return Err(bad("media_url must be an http(s) URL"));
            }
        }
        let name = [self.field("first_name"), self.field("last_name")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let email = self
            .field("email")
            .map(|e| Email::parse(e, "email"))
            .transpose()?;
        let lang = match self.field("attribute[lang]") {
            None => Lang::Pl,
            Some(given) => Lang::from_given(given)
                .ok_or_else(|| bad(format!("attribute[lang] {given:?}: {}", Lang::choices())))?,
        };
        Ok(FormReport {
            report: NewReport {
                category: category.to_owned(),
                description,
                geometry,
                contact: Contact {
                    name: (!name.is_empty()).then_some(name),
                    email,
                    phone: self.field("phone").map(str::to_owned),
                },
                channel: Channel::Open311,
                lang,
                photos: Vec::new(),
            },
            media_url: media_url.map(str::to_owned),
        })
    }
}
