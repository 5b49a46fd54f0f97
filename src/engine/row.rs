//! Report rows as PostGIS gives them, and what the indexes make of one.
use chrono::{DateTime, Utc};
use geo::{Geometry, Point};
use zglos_tiles::record::{Kind, ReportRec};

use crate::catalogue::Catalogue;

/// A report row as the engine needs it (also read as JSON, when a statement returns it beside
/// another row).
#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize)]
pub struct IndexRow {
    pub id: i64,
    pub category: String,
    pub status: String,
    pub lon: f64,
    pub lat: f64,
    pub created_at: DateTime<Utc>,
    pub supporters: i32,
    pub duplicate_of: Option<i64>,
    pub rev: i64,
    /// GeoJSON of a line or area; None for points.
    pub shape: Option<String>,
    /// Held for moderation: not public, so not indexed (and removed if it was).
    #[serde(default)]
    pub held: bool,
}

/// A row as the indexes take it.
pub(super) struct Indexed {
    pub rec: ReportRec,
    /// Lon/lat geometry of a line or area; None for points.
    pub shape: Option<Geometry<f64>>,
    /// Open and not a duplicate: a report later submissions may duplicate.
    pub dedup_candidate: bool,
}

impl Indexed {
    /// Converts a row; None for a category or status this city does not know (never written by
    /// this service, since both are foreign keys, but a guard against hand-edited data).
    pub fn of(catalogue: &Catalogue, row: &IndexRow) -> Option<Self> {
        let (cat, _) = catalogue.category(&row.category)?;
        let (status, st) = catalogue.status(&row.status)?;
        let shape = row.shape.as_deref().and_then(parse_shape);
        let kind = shape.as_ref().map(Kind::of).unwrap_or(Kind::Point);
        let rec = ReportRec::new(
            row.id as u64,
            row.lon,
            row.lat,
            cat,
            status,
            row.created_at.timestamp(),
            row.supporters.max(0) as u32,
            kind,
        );
        let dedup_candidate = st.is_open && row.duplicate_of.is_none();
        Some(Self {
            rec,
            shape,
            dedup_candidate,
        })
    }

    /// The geometry the dedup index compares: the line or area, or the point.
    pub fn dedup_geometry(&self, row: &IndexRow) -> Geometry<f64> {
        self.shape
            .clone()
            .unwrap_or(Geometry::Point(Point::new(row.lon, row.lat)))
    }
}

fn parse_shape(text: &str) -> Option<Geometry<f64>> {
    let g: geojson::Geometry = text.parse().ok()?;
    g.try_into().ok()
}
