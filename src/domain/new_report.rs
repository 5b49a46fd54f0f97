//! A report as submitted: parsed from a GeoJSON Feature, every field checked and named on error.
use serde_json::{Map, Value};

use super::{Email, Lang, ReportGeometry};
use crate::domain::Invalid;

pub const MAX_DESCRIPTION_CHARS: usize = 5000;

/// How the report reached the city.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Web,
    Mobile,
    Phone,
    Email,
    Open311,
    Staff,
}

impl Channel {
    pub const ALL: [Channel; 6] = [
        Channel::Web,
        Channel::Mobile,
        Channel::Phone,
        Channel::Email,
        Channel::Open311,
        Channel::Staff,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Mobile => "mobile",
            Channel::Phone => "phone",
            Channel::Email => "email",
            Channel::Open311 => "open311",
            Channel::Staff => "staff",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// The reporter's contact: never shown publicly.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Contact {
    pub name: Option<String>,
    pub email: Option<Email>,
    pub phone: Option<String>,
}

#[derive(Clone, Debug)]
pub struct NewReport {
    /// A category code as given; whether the city has it is checked against its catalogue.
    pub category: String,
    pub description: String,
    pub geometry: ReportGeometry,
    pub contact: Contact,
    pub channel: Channel,
    pub lang: Lang,
    /// Ids of photos uploaded beforehand through `/api/v1/photos`.
    pub photos: Vec<String>,
}

/// Photos a report may carry.
pub const MAX_PHOTOS: usize = 3;

fn bad(field: &str, code: &'static str, message: impl Into<String>) -> Invalid {
    Invalid::malformed(code, message).at(field)
}

fn optional_string(
    obj: &Map<String, Value>,
    key: &str,
    field: &str,
    max: usize,
) -> Result<Option<String>, Invalid> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let s = s.trim();
            if s.chars().count() > max {
                return Err(bad(field, "too_long", format!("at most {max} characters")));
            }
            // PostgreSQL text cannot hold U+0000.
            if s.contains('\0') {
                return Err(bad(
                    field,
                    "invalid_character",
                    "text may not contain U+0000 (NUL)",
                ));
            }
            Ok((!s.is_empty()).then(|| s.to_owned()))
        }
        Some(_) => Err(bad(field, "invalid_type", "expected a string")),
    }
}

impl NewReport {
    /// Parses a GeoJSON Feature `{type, geometry, properties: {category, description, contact?,
    /// channel?, lang?}}`.
    pub fn parse(body: &Value) -> Result<Self, Invalid> {
        let feature = body.as_object().ok_or_else(|| {
            bad(
                "",
                "invalid_body",
                "the body must be a GeoJSON Feature object",
            )
        })?;
        match feature.get("type").and_then(Value::as_str) {
            Some("Feature") => {}
            _ => {
                return Err(bad(
                    "type",
                    "invalid_body",
                    "the body must be a GeoJSON Feature (\"type\": \"Feature\")",
                ))
            }
        }
        let geometry = match feature.get("geometry") {
            None | Some(Value::Null) => {
                return Err(bad("geometry", "missing_field", "geometry is required"))
            }
            Some(g) => ReportGeometry::parse(g, "geometry")?,
        };
        let props = match feature.get("properties") {
            Some(Value::Object(p)) => p,
            _ => {
                return Err(bad(
                    "properties",
                    "missing_field",
                    "properties must be an object with category and description",
                ))
            }
        };
        let category = match props.get("category") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_owned(),
            Some(Value::String(_)) | None | Some(Value::Null) => {
                return Err(bad(
                    "properties.category",
                    "missing_field",
                    "category is required",
                ))
            }
            Some(_) => {
                return Err(bad(
                    "properties.category",
                    "invalid_type",
                    "category must be a string",
                ))
            }
        };
        let description = optional_string(
            props,
            "description",
            "properties.description",
            MAX_DESCRIPTION_CHARS,
        )?
        .ok_or_else(|| {
            bad(
                "properties.description",
                "missing_field",
                "description is required",
            )
        })?;
        let contact = match props.get("contact") {
            None | Some(Value::Null) => Contact::default(),
            Some(Value::Object(c)) => Contact {
                name: optional_string(c, "name", "properties.contact.name", 200)?,
                email: optional_string(c, "email", "properties.contact.email", 254)?
                    .map(|e| Email::parse(&e, "properties.contact.email"))
                    .transpose()?,
                phone: optional_string(c, "phone", "properties.contact.phone", 40)?,
            },
            Some(_) => {
                return Err(bad(
                    "properties.contact",
                    "invalid_type",
                    "contact must be an object {name, email, phone}",
                ))
            }
        };
        let channel = match props.get("channel") {
            None | Some(Value::Null) => Channel::Web,
            Some(Value::String(s)) => Channel::parse(s).ok_or_else(|| {
                let all: Vec<&str> = Channel::ALL.iter().map(|c| c.as_str()).collect();
                bad(
                    "properties.channel",
                    "invalid_channel",
                    format!("unknown channel {s:?}; one of {}", all.join(", ")),
                )
            })?,
            Some(_) => {
                return Err(bad(
                    "properties.channel",
                    "invalid_type",
                    "channel must be a string",
                ))
            }
        };
        let lang = Lang::parse(props.get("lang"), "properties.lang")?;
        let photos = match props.get("photos") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => {
                if items.len() > MAX_PHOTOS {
                    return Err(bad(
                        "properties.photos",
                        "too_many_photos",
                        format!("at most {MAX_PHOTOS} photos per report"),
                    ));
                }
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        v.as_str().map(str::to_owned).ok_or_else(|| {
                            bad(
                                &format!("properties.photos[{i}]"),
                                "invalid_type",
                                "a photo id string",
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?
            }
            Some(_) => {
                return Err(bad(
                    "properties.photos",
                    "invalid_type",
                    "photos must be an array of photo ids",
                ))
            }
        };
        Ok(Self {
            category,
            description,
            geometry,
            contact,
            channel,
            lang,
            photos,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn feature(props: Value) -> Value {
        json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [19.94, 50.06]}, "properties": props})
    }

    #[test]
    fn parses_a_full_report() {
        let r = NewReport::parse(&feature(json!({
            "category": "pothole", "description": "  Deep hole  ", "channel": "phone", "lang": "en",
            "contact": {"name": "Anna", "email": "anna@example.org", "phone": "+48 600 000 000"}
        })))
        .unwrap();
        assert_eq!(r.description, "Deep hole");
        assert_eq!(r.channel, Channel::Phone);
        assert_eq!(r.contact.email.as_deref(), Some("anna@example.org"));
    }

    #[test]
    fn each_problem_names_its_field() {
        let field = |v: Value| NewReport::parse(&v).unwrap_err().field.unwrap_or_default();
        assert_eq!(
            field(feature(json!({"description": "x"}))),
            "properties.category"
        );
        assert_eq!(
            field(feature(json!({"category": "pothole"}))),
            "properties.description"
        );
        assert_eq!(
            field(feature(
                json!({"category": "pothole", "description": "   "})
            )),
            "properties.description"
        );
        assert_eq!(
            field(feature(
                json!({"category": "pothole", "description": "x", "channel": "fax"})
            )),
            "properties.channel"
        );
        assert_eq!(
            field(feature(
                json!({"category": "pothole", "description": "x", "contact": {"email": "not-an-email"}})
            )),
            "properties.contact.email"
        );
        assert_eq!(field(json!({"type": "FeatureCollection"})), "type");
        assert_eq!(
            field(json!({"type": "Feature", "properties": {}})),
            "geometry"
        );
        let long = "x".repeat(MAX_DESCRIPTION_CHARS + 1);
        assert_eq!(
            field(feature(json!({"category": "pothole", "description": long}))),
            "properties.description"
        );
    }
}
