//! A report as exported: its attributes in one fixed order ([`FIELDS`]), each with its type in the
//! flat formats. Contact data is not among them, on purpose; the analysts' fields are marked.
use chrono::{DateTime, Utc};

use crate::domain::query::Audience;

/// A report as the exports, OGC API items and Open311 read it.
#[derive(Debug, Clone, Default)]
pub struct ExportRow {
    pub id: i64,
    pub category: String,
    pub status: String,
    pub description: String,
    pub district_id: Option<i32>,
    pub district: Option<String>,
    pub unit_code: Option<String>,
    pub unit: Option<String>,
    pub duplicate_of: Option<i64>,
    pub supporters: i32,
    pub near_border: bool,
    pub channel: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub lon: f64,
    pub lat: f64,
    pub wkb: Vec<u8>,
    pub routing_rule: Option<String>,
    pub lang: Option<String>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The address label ("Floriańska 12", "near Floriańska"), its street and house number.
    pub address: Option<String>,
    pub address_street: Option<String>,
    pub address_number: Option<String>,
}

/// A field's type in the flat formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Long,
    Int,
    Text,
    Bool,
    Time,
}

pub struct Field {
    pub name: &'static str,
    pub ty: FieldType,
    pub internal: bool,
}

const fn f(name: &'static str, ty: FieldType, internal: bool) -> Field {
    Field { name, ty, internal }
}

/// Every exported attribute, in order. Contact columns are not among them, on purpose.
pub const FIELDS: &[Field] = &[
    f("id", FieldType::Long, false),
    f("category", FieldType::Text, false),
    f("status", FieldType::Text, false),
    f("description", FieldType::Text, false),
    f("district_id", FieldType::Int, false),
    f("district", FieldType::Text, false),
    f("unit_code", FieldType::Text, false),
    f("unit", FieldType::Text, false),
    f("duplicate_of", FieldType::Long, false),
    f("supporters", FieldType::Int, false),
    f("near_border", FieldType::Bool, false),
    f("channel", FieldType::Text, false),
    f("created_at", FieldType::Time, false),
    f("updated_at", FieldType::Time, false),
    f("address", FieldType::Text, false),
    f("address_street", FieldType::Text, false),
    f("address_number", FieldType::Text, false),
    f("routing_rule", FieldType::Text, true),
    f("lang", FieldType::Text, true),
    f("first_response_at", FieldType::Time, true),
    f("closed_at", FieldType::Time, true),
];

pub fn fields(audience: Audience) -> impl Iterator<Item = (usize, &'static Field)> + Clone {
    FIELDS
        .iter()
        .enumerate()
        .filter(move |(_, f)| audience == Audience::Internal || !f.internal)
}

pub enum Val<'a> {
    Null,
    Int(i64),
    Bool(bool),
    Str(&'a str),
    Time(DateTime<Utc>),
}

impl ExportRow {
    /// The value of `FIELDS[i]`.
    pub fn value(&self, i: usize) -> Val<'_> {
        fn s(o: &Option<String>) -> Val<'_> {
            o.as_deref().map(Val::Str).unwrap_or(Val::Null)
        }
        fn t(o: Option<DateTime<Utc>>) -> Val<'static> {
            o.map(Val::Time).unwrap_or(Val::Null)
        }
        match i {
            0 => Val::Int(self.id),
            1 => Val::Str(&self.category),
            2 => Val::Str(&self.status),
            3 => Val::Str(&self.description),
            4 => self
                .district_id
                .map(|v| Val::Int(v as i64))
                .unwrap_or(Val::Null),
            5 => s(&self.district),
            6 => s(&self.unit_code),
            7 => s(&self.unit),
            8 => self.duplicate_of.map(Val::Int).unwrap_or(Val::Null),
            9 => Val::Int(self.supporters as i64),
            10 => Val::Bool(self.near_border),
            11 => Val::Str(&self.channel),
            12 => Val::Time(self.created_at),
            13 => Val::Time(self.updated_at),
            14 => s(&self.address),
            15 => s(&self.address_street),
            16 => s(&self.address_number),
            17 => s(&self.routing_rule),
            18 => s(&self.lang),
            19 => t(self.first_response_at),
            20 => t(self.closed_at),
            _ => Val::Null,
        }
    }
}
