//! Request and response shapes of the JSON API, as types: they are what the handlers serialize
//! (where a body has a fixed shape) and what the OpenAPI document describes. GeoJSON assembled
//! from storage rows stays `serde_json::Value` inside typed wrappers. The bodies the handlers read
//! member by member ([`Member`], rules in `http::extract` and the handlers) document each member
//! with the type it must have (`value_type`).
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::extract::Member;

// ------------------------------------------------------------------ errors

/// Every error of the JSON API.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable.
    #[schema(example = "outside_city")]
    pub code: String,
    /// For people.
    pub message: String,
    /// The field, parameter or header that was wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "geometry.coordinates")]
    pub field: Option<String>,
    /// Extra machine-readable detail (allowed transitions, the existing report...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<Value>,
}

// ------------------------------------------------------------------ reports

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub enum GeometryType {
    Point,
    LineString,
    Polygon,
}

/// GeoJSON Point, LineString (≤ 500 vertices) or Polygon (valid, ≤ 500 vertices) in WGS84
/// [longitude, latitude]
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Geometry {
    #[serde(rename = "type")]
    pub kind: GeometryType,
    pub coordinates: Vec<Value>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub enum FeatureType {
    Feature,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub enum FeatureCollectionType {
    FeatureCollection,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChannelName {
    Web,
    Mobile,
    Phone,
    Email,
    Open311,
    Staff,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Pl,
    En,
    Uk,
}

/// Never shown publicly
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NewContact {
    pub name: Option<String>,
    #[schema(format = "email")]
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NewReportProperties {
    #[schema(example = "pothole")]
    pub category: String,
    #[schema(max_length = 5000)]
    pub description: String,
    pub contact: Option<NewContact>,
    #[schema(default = "web")]
    pub channel: Option<ChannelName>,
    #[schema(default = "pl")]
    pub lang: Option<Lang>,
    /// Ids returned by POST /api/v1/photos
    #[schema(max_items = 3)]
    pub photos: Option<Vec<String>>,
}

/// A report to submit: a GeoJSON Feature.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NewReport {
    #[serde(rename = "type")]
    pub kind: FeatureType,
    pub geometry: Geometry,
    pub properties: NewReportProperties,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DistrictRef {
    pub id: i32,
    pub name: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UnitRef {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TimelineEntry {
    pub at: chrono::DateTime<chrono::Utc>,
    pub kind: String,
    pub status: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReportProperties {
    pub id: i64,
    pub category: String,
    pub status: String,
    pub description: String,
    pub district: Option<DistrictRef>,
    pub unit: Option<UnitRef>,
    pub duplicate_of: Option<i64>,
    pub supporters: i64,
    /// Within a few metres of a district border: flagged for triage
    pub near_border: bool,
    pub channel: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// On single-report responses
    pub timeline: Option<Vec<TimelineEntry>>,
    /// On nearby results
    pub distance_m: Option<f64>,
    pub photos: Vec<Photo>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReportFeature {
    #[serde(rename = "type")]
    pub kind: FeatureType,
    pub id: i64,
    pub geometry: Geometry,
    pub properties: ReportProperties,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Link {
    pub rel: String,
    pub href: String,
    #[serde(rename = "type")]
    pub media_type: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReportCollection {
    #[serde(rename = "type")]
    pub kind: FeatureCollectionType,
    pub features: Vec<ReportFeature>,
    #[serde(rename = "numberReturned")]
    pub number_returned: Option<i64>,
    pub links: Option<Vec<Link>>,
    pub next: Option<String>,
    /// On nearby results: the radius searched, in metres
    pub radius_m: Option<f64>,
}

/// "Me too": all optional.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct SupportBody {
    /// Subscribes to updates
    #[schema(value_type = Option<String>, format = "email")]
    pub email: Option<Member<String>>,
    #[schema(value_type = Option<Lang>)]
    pub lang: Option<Member<String>>,
    #[schema(value_type = Option<ChannelName>)]
    pub channel: Option<Member<String>>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct SubscribeBody {
    #[schema(value_type = String, required = true, format = "email")]
    pub email: Option<Member<String>>,
    #[schema(value_type = Option<Lang>)]
    pub lang: Option<Member<String>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Subscribed {
    pub subscribed: bool,
    pub report_id: i64,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ReopenBody {
    /// The email given with the report, or a subscriber's
    #[schema(value_type = String, required = true, format = "email")]
    pub email: Option<Member<String>>,
    /// What is still wrong (at most 5000 characters)
    #[schema(value_type = String, required = true, max_length = 5000)]
    pub note: Option<Member<String>>,
    /// Checked when given, not used
    #[schema(value_type = Option<Lang>)]
    pub lang: Option<Member<String>>,
}

/// Query parameters of the reports list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// west,south,east,north in degrees
    pub bbox: Option<String>,
    /// Category codes, comma-separated
    pub category: Option<String>,
    /// Status codes, comma-separated, or open, or all
    pub status: Option<String>,
    /// District ids, comma-separated
    pub district: Option<String>,
    /// Unit codes, comma-separated
    pub unit: Option<String>,
    /// Created at or after (RFC 3339 or YYYY-MM-DD)
    pub since: Option<String>,
    /// Created before (RFC 3339 or YYYY-MM-DD)
    pub until: Option<String>,
    /// CQL2 text filter (see /ogc/collections/reports/queryables)
    pub filter: Option<String>,
    /// cql2-text (default) or cql2-json
    #[serde(rename = "filter-lang")]
    #[param(rename = "filter-lang")]
    pub filter_lang: Option<String>,
    /// 1..1000, default 100
    pub limit: Option<i64>,
    /// Opaque cursor from the previous page's next link
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NearbyQuery {
    /// Longitude
    pub lon: f64,
    /// Latitude
    pub lat: f64,
    /// Category codes, comma-separated
    pub category: Option<String>,
    /// Metres, 1..2000 (default twice the category's dedup radius, at least 50; 100 without a
    /// category)
    pub radius: Option<f64>,
    /// 1..100, default 20
    pub limit: Option<i64>,
}

// ------------------------------------------------------------------ vocabulary

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum GeometryKind {
    Point,
    Line,
    Area,
}

/// A report category.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Category {
    pub code: String,
    pub name_pl: String,
    pub name_en: String,
    /// The Ukrainian name, when the city pack gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_uk: Option<String>,
    /// The names in every language the city pack gives, by language code (`pl`, `en`, `uk`,
    /// …); each is also a `name_{lang}` member.
    #[schema(value_type = std::collections::BTreeMap<String, String>, example = json!({"pl": "Dziura w jezdni", "en": "Pothole", "uk": "Яма на дорозі"}))]
    pub names: std::collections::BTreeMap<String, String>,
    /// `name_{lang}` of the pack's further languages.
    #[serde(flatten)]
    #[schema(ignore)]
    pub other_names: std::collections::BTreeMap<String, String>,
    pub group: String,
    #[schema(value_type = Vec<GeometryKind>)]
    pub geometry_kinds: Vec<String>,
    pub dedup_radius_m: f64,
    pub dedup_window_days: i32,
    pub color: String,
    /// A text symbol (emoji) of the category: the fallback where `icon_url` is null.
    pub icon: String,
    /// The category's SVG pictogram (`/icons/{code}.svg`), or null when the city has none.
    pub icon_url: Option<String>,
}

impl From<&crate::catalogue::Category> for Category {
    fn from(c: &crate::catalogue::Category) -> Self {
        Category {
            code: c.code.clone(),
            name_pl: c.name_pl.clone(),
            name_en: c.name_en.clone(),
            name_uk: c.names.exact("uk").map(str::to_owned),
            names: c.names.as_map().clone(),
            other_names: other_names(&c.names),
            group: c.group.clone(),
            geometry_kinds: c.geometry_kinds.clone(),
            dedup_radius_m: c.dedup_radius_m,
            dedup_window_days: c.dedup_window_days,
            color: c.color.clone(),
            icon: c.icon.clone(),
            icon_url: None,
        }
    }
}

/// `name_{lang}` members for the languages beyond pl, en and uk (which have their own fields).
fn other_names(names: &crate::domain::Names) -> std::collections::BTreeMap<String, String> {
    names
        .iter()
        .filter(|(l, _)| !["pl", "en", "uk"].contains(l))
        .map(|(l, n)| (format!("name_{l}"), n.to_owned()))
        .collect()
}

impl From<&crate::catalogue::Status> for Status {
    fn from(s: &crate::catalogue::Status) -> Self {
        Status {
            code: s.code.clone(),
            name_pl: s.name_pl.clone(),
            name_en: s.name_en.clone(),
            name_uk: s.names.exact("uk").map(str::to_owned),
            names: s.names.as_map().clone(),
            other_names: other_names(&s.names),
            is_open: s.is_open,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Categories {
    pub categories: Vec<Category>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Status {
    pub code: String,
    pub name_pl: String,
    pub name_en: String,
    /// The Ukrainian name, when the city pack gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_uk: Option<String>,
    /// The names in every language the city pack gives, by language code.
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub names: std::collections::BTreeMap<String, String>,
    /// `name_{lang}` of the pack's further languages.
    #[serde(flatten)]
    #[schema(ignore)]
    pub other_names: std::collections::BTreeMap<String, String>,
    /// Counts as open (shown on the map by default, in the inbox)
    pub is_open: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Statuses {
    pub statuses: Vec<Status>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Unit {
    pub code: String,
    pub name: String,
    /// What the unit takes care of
    pub handles: String,
    pub contact: String,
    /// How its reports reach it: `inbox` (the Zgłoś inbox), `email`, `open311` or `webhook`
    /// (the unit's own system)
    pub delivery: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Units {
    pub units: Vec<Unit>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DistrictProperties {
    pub id: i32,
    pub code: String,
    pub name: String,
    pub full_name: String,
    pub area_km2: f64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DistrictFeature {
    #[serde(rename = "type")]
    pub kind: FeatureType,
    pub id: i32,
    /// GeoJSON (Multi)Polygon
    #[schema(value_type = Object)]
    pub geometry: Value,
    pub properties: DistrictProperties,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DistrictCollection {
    #[serde(rename = "type")]
    pub kind: FeatureCollectionType,
    pub features: Vec<DistrictFeature>,
    pub attribution: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CityRef {
    pub slug: String,
    pub name: String,
    pub attribution: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MapConfig {
    /// [longitude, latitude]
    pub center: [f64; 2],
    pub zoom: f64,
    /// west, south, east, north
    pub bbox: [f64; 4],
    /// The MapLibre style drawn under the city's layers: the city's own
    /// (`/styles/basemap.json`, served from this origin) unless it prefers an external one;
    /// null when it has neither.
    pub basemap_style_url: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClientConfig {
    pub city: CityRef,
    pub map: MapConfig,
    pub languages: Vec<String>,
}

/// The interface language negotiated from `Accept-Language`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Language {
    /// One of `languages`: the most wanted of them, else the city's first language.
    #[schema(example = "uk")]
    pub lang: String,
    /// False when the header named none of the languages (and `lang` is the default).
    pub negotiated: bool,
    /// The languages the interface and the mails are written in.
    pub languages: Vec<String>,
}

// ------------------------------------------------------------------ service

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Ready {
    #[schema(example = "ready")]
    pub status: String,
    pub reports_indexed: u64,
    pub open_reports_indexed: u64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NotReady {
    #[schema(example = "unavailable")]
    pub status: String,
    pub reason: String,
}

// ------------------------------------------------------------------ tiles

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VectorLayer {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Attribute name → type (Number, String)
    pub fields: std::collections::BTreeMap<String, String>,
}

/// TileJSON 3.0.0
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TileJson {
    pub tilejson: String,
    pub name: String,
    pub scheme: String,
    pub tiles: Vec<String>,
    pub minzoom: u8,
    pub maxzoom: u8,
    pub bounds: [f64; 4],
    /// [longitude, latitude, zoom]
    #[schema(value_type = Vec<f64>)]
    pub center: (f64, f64, u8),
    pub attribution: String,
    pub vector_layers: Vec<VectorLayer>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TileQuery {
    /// open (default), all, or status codes comma-separated
    pub status: Option<String>,
    /// Category codes, comma-separated
    pub category: Option<String>,
}

// ------------------------------------------------------------------ photos

/// A stored photo.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Photo {
    pub id: String,
    pub url: String,
    pub thumbnail_url: String,
    /// On upload
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// On upload
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

/// A photo as a form field.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PhotoForm {
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

// ------------------------------------------------------------------ exports

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// west,south,east,north
    pub bbox: Option<String>,
    /// Category codes, comma-separated
    pub category: Option<String>,
    /// Status codes, comma-separated, or open, or all
    pub status: Option<String>,
    /// District ids, comma-separated
    pub district: Option<String>,
    /// Unit codes, comma-separated
    pub unit: Option<String>,
    /// Created at or after (RFC 3339 or YYYY-MM-DD)
    pub since: Option<String>,
    /// Created before (RFC 3339 or YYYY-MM-DD)
    pub until: Option<String>,
    /// CQL2 text, e.g. status IN ('new','planned') AND supporters > 2
    pub filter: Option<String>,
    /// cql2-text (default) or cql2-json
    #[serde(rename = "filter-lang")]
    #[param(rename = "filter-lang")]
    pub filter_lang: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Geojson,
    Csv,
    Fgb,
    Gpkg,
}

// ------------------------------------------------------------------ staff

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct LoginBody {
    #[schema(value_type = String, required = true)]
    pub login: Option<Member<String>>,
    #[schema(value_type = String, required = true)]
    pub password: Option<Member<String>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StaffUser {
    pub id: i64,
    pub login: String,
    pub name: String,
    /// admin, unit_staff, consultant, analyst
    pub roles: Vec<String>,
    pub units: Vec<String>,
    pub lang: String,
}

/// The staff member and the session's CSRF token (send it as X-CSRF-Token).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StaffSession {
    pub user: StaffUser,
    pub csrf_token: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct StatusChangeBody {
    #[schema(value_type = String, required = true)]
    pub status: Option<Member<String>>,
    /// Mailed to the reporter and subscribers
    #[schema(value_type = String, required = true)]
    pub public_note: Option<Member<String>>,
    #[schema(value_type = Option<String>)]
    pub internal_note: Option<Member<String>>,
    #[schema(value_type = Option<String>, format = Date)]
    pub expected_at: Option<Member<String>>,
    /// With rejected: the unit the report is rerouted to
    #[schema(value_type = Option<String>)]
    pub unit: Option<Member<String>>,
    /// 'After' photos (ids from POST /api/v1/photos)
    #[schema(value_type = Option<Vec<String>>)]
    pub photos: Option<Member<Vec<Member<String>>>>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct MergeBody {
    /// The report this one duplicates
    #[schema(value_type = i64, required = true)]
    pub into: Option<Member<i64>>,
    #[schema(value_type = Option<String>)]
    pub note: Option<Member<String>>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ReassignBody {
    #[schema(value_type = String, required = true)]
    pub unit: Option<Member<String>>,
    #[schema(value_type = String, required = true)]
    pub note: Option<Member<String>>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct EditBody {
    #[schema(value_type = Option<String>)]
    pub category: Option<Member<String>>,
    // Read by `ReportGeometry::parse`, which names the failing part.
    #[schema(value_type = Option<Geometry>)]
    pub geometry: Option<Value>,
    /// Logged in the audit trail
    #[schema(value_type = String, required = true)]
    pub reason: Option<Member<String>>,
}

/// A report as staff see it: the public properties plus unit, routing rule, contact, expected
/// date, overdue and age, with the whole timeline (internal notes), the audit log and the allowed
/// transitions.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StaffReportFeature {
    #[serde(rename = "type")]
    pub kind: FeatureType,
    pub id: i64,
    pub geometry: Geometry,
    #[schema(value_type = Object)]
    pub properties: Value,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InboxCounts {
    pub open: i64,
    pub overdue: i64,
    pub new: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Inbox {
    #[serde(rename = "type")]
    pub kind: FeatureCollectionType,
    pub features: Vec<StaffReportFeature>,
    pub counts: InboxCounts,
    pub next: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// Unit codes (default: the member's units)
    pub unit: Option<String>,
    /// open (default), all, or codes
    pub status: Option<String>,
    /// Category codes
    pub category: Option<String>,
    /// District ids
    pub district: Option<String>,
    /// Created more than N days ago
    pub older_than_days: Option<i64>,
    /// true: only reports flagged for triage
    pub near_border: Option<bool>,
    /// newest (default) or oldest
    pub sort: Option<String>,
    /// 1..500
    pub limit: Option<i64>,
    /// From next
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Hotspot {
    pub category: String,
    pub lon: f64,
    pub lat: f64,
    pub recent: u32,
    pub baseline: f64,
    pub ratio: f64,
    pub unit: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Hotspots {
    pub hotspots: Vec<Hotspot>,
    pub recent_days: u32,
    pub baseline_days: u32,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HeatmapQuery {
    /// Category codes
    pub category: Option<String>,
    /// open (default), all, or codes
    pub status: Option<String>,
    /// Created at or after (date or RFC 3339)
    pub from: Option<String>,
    /// Created before
    pub to: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Figures {
    pub reported: i64,
    pub resolved: i64,
    pub open: i64,
    pub median_days_to_resolve: Option<f64>,
}

/// Accountability figures.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Stats {
    /// Per district
    #[schema(value_type = Vec<Object>)]
    pub districts: Vec<Value>,
    /// Per unit
    #[schema(value_type = Vec<Object>)]
    pub units: Vec<Value>,
    pub generated_at: chrono::DateTime<chrono::Utc>,
    pub attribution: String,
}

// ------------------------------------------------------------------ response wrappers

/// A JSON body served as `application/geo+json`.
pub struct GeoJson<T>(pub T);

impl<T: Serialize> axum::response::IntoResponse for GeoJson<T> {
    fn into_response(self) -> axum::response::Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => (
                [(axum::http::header::CONTENT_TYPE, "application/geo+json")],
                body,
            )
                .into_response(),
            Err(e) => crate::http::error::ApiError::internal(e).into_response(),
        }
    }
}

// ------------------------------------------------------------------ OGC API – Features

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OgcLink {
    pub href: String,
    pub rel: String,
    #[serde(rename = "type")]
    pub media_type: String,
    pub title: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LandingPage {
    pub title: String,
    pub description: String,
    pub attribution: String,
    pub links: Vec<OgcLink>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Conformance {
    #[serde(rename = "conformsTo")]
    pub conforms_to: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SpatialExtent {
    /// west, south, east, north
    pub bbox: Vec<[f64; 4]>,
    pub crs: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TemporalExtent {
    /// [start, end]; null is open
    #[schema(value_type = Vec<Vec<Option<String>>>)]
    pub interval: Vec<[Option<chrono::DateTime<chrono::Utc>>; 2]>,
    pub trs: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Extent {
    pub spatial: SpatialExtent,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temporal: Option<TemporalExtent>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CollectionInfo {
    pub id: String,
    pub title: String,
    pub description: String,
    pub attribution: String,
    #[serde(rename = "itemType")]
    pub item_type: String,
    pub crs: Vec<String>,
    #[serde(rename = "storageCrs")]
    pub storage_crs: String,
    pub extent: Extent,
    pub links: Vec<OgcLink>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Collections {
    pub links: Vec<OgcLink>,
    pub collections: Vec<CollectionInfo>,
}

/// A page of features; `features` follows these members.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FeaturePage {
    #[serde(rename = "type")]
    pub kind: FeatureCollectionType,
    #[serde(rename = "timeStamp")]
    pub time_stamp: chrono::DateTime<chrono::Utc>,
    #[serde(rename = "numberMatched")]
    pub number_matched: i64,
    #[serde(rename = "numberReturned")]
    pub number_returned: i64,
    pub links: Vec<OgcLink>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    /// json (default) or html; without it, a browser's Accept header asks for HTML
    pub f: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemsQuery {
    /// json (default) or html
    pub f: Option<String>,
    /// Items per page (default 100); above 10000 the maximum applies
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    /// west,south,east,north in degrees
    pub bbox: Option<String>,
    /// http://www.opengis.net/def/crs/OGC/1.3/CRS84
    #[serde(rename = "bbox-crs")]
    #[param(rename = "bbox-crs")]
    pub bbox_crs: Option<String>,
    /// Reported at: an instant, a date, or start/end with '..' for an open end
    pub datetime: Option<String>,
    /// CQL2 expression over the collection's queryables
    pub filter: Option<String>,
    /// cql2-text (default) or cql2-json
    #[serde(rename = "filter-lang")]
    #[param(rename = "filter-lang")]
    pub filter_lang: Option<String>,
    /// CRS84 (or EPSG:4326) for the filter's geometries
    #[serde(rename = "filter-crs")]
    #[param(rename = "filter-crs")]
    pub filter_crs: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub enum CollectionId {
    #[serde(rename = "reports")]
    Reports,
    #[serde(rename = "districts")]
    Districts,
    #[serde(rename = "reports-internal")]
    ReportsInternal,
}

// ------------------------------------------------------------------ Open311 GeoReport v2

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Open311Endpoint {
    pub specification: String,
    pub url: String,
    pub changeset: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub formats: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Discovery {
    pub changeset: String,
    pub contact: String,
    pub key_service: String,
    pub endpoints: Vec<Open311Endpoint>,
}

/// One service per report category.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Service {
    pub service_code: String,
    pub service_name: String,
    pub description: String,
    pub metadata: bool,
    #[serde(rename = "type")]
    pub kind: String,
    pub keywords: String,
    pub group: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AttributeValue {
    pub key: String,
    pub name: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ServiceAttribute {
    pub variable: bool,
    pub code: String,
    pub datatype: String,
    pub required: bool,
    pub datatype_description: String,
    pub order: u32,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<AttributeValue>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ServiceDefinition {
    pub service_code: String,
    pub attributes: Vec<ServiceAttribute>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ServiceRequest {
    pub service_request_id: String,
    /// open or closed
    pub status: String,
    pub status_notes: String,
    pub service_name: String,
    pub service_code: String,
    pub description: String,
    pub agency_responsible: String,
    pub service_notice: String,
    pub requested_datetime: String,
    pub updated_datetime: String,
    pub expected_datetime: Option<String>,
    pub address: String,
    pub address_id: Option<String>,
    pub zipcode: Option<String>,
    pub lat: f64,
    pub long: f64,
    pub media_url: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RequestToken {
    pub service_request_id: String,
    pub token: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RequestCreated {
    pub service_request_id: String,
    pub token: String,
    pub service_notice: String,
    pub account_id: Option<String>,
}

/// Open311's error body: `[{code, description}]` (XML: `<errors><error>…`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Open311Error {
    pub code: u16,
    pub description: String,
}

/// A status change from a unit's own system, form-encoded (a Zgłoś extension of GeoReport v2).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StatusUpdateForm {
    /// A key of the role `unit_system`, issued for the request's unit
    pub api_key: String,
    /// One of the city's status codes (GET /api/v1/statuses)
    #[schema(example = "in_progress")]
    pub status: String,
    /// The public note: on the request's timeline and mailed to the reporter and subscribers
    pub status_notes: String,
    /// When the fix is expected: YYYY-MM-DD or RFC 3339
    pub expected_datetime: Option<String>,
}

/// A new service request, form-encoded.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NewServiceRequest {
    /// The app's key, from the city
    pub api_key: String,
    pub jurisdiction_id: Option<String>,
    /// A category code (see services)
    pub service_code: String,
    pub lat: f64,
    pub long: f64,
    /// Kept in the description; it cannot place the request alone
    pub address_string: Option<String>,
    pub address_id: Option<String>,
    pub email: Option<String>,
    /// With the same content, a retried POST from one device is the same request
    pub device_id: Option<String>,
    pub account_id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub description: Option<String>,
    pub media_url: Option<String>,
    #[serde(rename = "attribute[landmark]")]
    pub attribute_landmark: Option<String>,
    /// pl (default) or en
    #[serde(rename = "attribute[lang]")]
    pub attribute_lang: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Open311Format {
    Json,
    Xml,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Open311Resource {
    Discovery,
    Services,
    Requests,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Open311SearchQuery {
    /// Request ids, comma-separated: overrides every other filter
    pub service_request_id: Option<String>,
    /// Service codes, comma-separated
    pub service_code: Option<String>,
    /// w3 date-time (default: 90 days before end_date or now)
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    /// open, closed, or both comma-separated
    pub status: Option<String>,
    pub jurisdiction_id: Option<String>,
    /// Extension: west,south,east,north
    pub bbox: Option<String>,
    /// Extension: from 1
    pub page: Option<i64>,
    /// Extension: 1..1000 (default 1000)
    pub page_size: Option<i64>,
    /// On services: the language of names
    pub lang: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JurisdictionQuery {
    pub jurisdiction_id: Option<String>,
}
