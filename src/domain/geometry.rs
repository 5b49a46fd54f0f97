//! A report's geometry: a point, a line or an area in WGS84, valid by construction.
use geo::{Coord, Geometry, LineString, Point, Polygon, Validation};
use serde_json::Value;

use crate::domain::Invalid;

/// The most vertices a line or area may have (a resident draws a few; more is a mistake or abuse).
pub const MAX_VERTICES: usize = 500;

#[derive(Clone, Debug, PartialEq)]
pub struct ReportGeometry(Geometry<f64>);

fn invalid(field: &str, message: impl Into<String>) -> Invalid {
    Invalid::malformed("invalid_geometry", message).at(field)
}

fn position(v: &Value, field: &str) -> Result<Coord<f64>, Invalid> {
    let arr = v
        .as_array()
        .ok_or_else(|| invalid(field, "a position must be an array [longitude, latitude]"))?;
    if arr.len() < 2 || arr.len() > 3 {
        return Err(invalid(
            field,
            "a position must have 2 numbers: [longitude, latitude]",
        ));
    }
    let num = |i: usize| -> Result<f64, Invalid> {
        arr[i].as_f64().filter(|n| n.is_finite()).ok_or_else(|| {
            invalid(
                &format!("{field}[{i}]"),
                "coordinates must be finite numbers",
            )
        })
    };
    let (lon, lat) = (num(0)?, num(1)?);
    if !(-180.0..=180.0).contains(&lon) {
        return Err(Invalid::malformed(
            "coordinate_out_of_range",
            format!("longitude {lon} is outside -180..180"),
        )
        .at(format!("{field}[0]")));
    }
    if !(-90.0..=90.0).contains(&lat) {
        return Err(Invalid::malformed(
            "coordinate_out_of_range",
            format!(
                "latitude {lat} is outside -90..90 (GeoJSON positions are [longitude, latitude])"
            ),
        )
        .at(format!("{field}[1]")));
    }
    Ok(Coord { x: lon, y: lat })
}

fn positions(v: &Value, field: &str) -> Result<Vec<Coord<f64>>, Invalid> {
    let arr = v
        .as_array()
        .ok_or_else(|| invalid(field, "expected an array of positions"))?;
    if arr.len() > MAX_VERTICES + 1 {
        return Err(Invalid::malformed(
            "too_many_vertices",
            format!(
                "{} vertices; at most {MAX_VERTICES} are accepted",
                arr.len()
            ),
        )
        .at(field));
    }
    arr.iter()
        .enumerate()
        .map(|(i, p)| position(p, &format!("{field}[{i}]")))
        .collect()
}

impl ReportGeometry {
    /// Parses a GeoJSON geometry object (`field` names it in errors, e.g. `geometry`).
    pub fn parse(v: &Value, field: &str) -> Result<Self, Invalid> {
        let obj = v
            .as_object()
            .ok_or_else(|| invalid(field, "geometry must be a GeoJSON geometry object"))?;
        let kind = obj
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(&format!("{field}.type"), "geometry.type is required"))?;
        let coords_field = format!("{field}.coordinates");
        let coords = obj
            .get("coordinates")
            .ok_or_else(|| invalid(&coords_field, "coordinates are required"))?;
        let g = match kind {
            "Point" => Geometry::Point(Point(position(coords, &coords_field)?)),
            "LineString" => {
                let mut pts = positions(coords, &coords_field)?;
                pts.dedup();
                if pts.len() < 2 {
                    return Err(invalid(
                        &coords_field,
                        "a line needs at least 2 distinct positions",
                    ));
                }
                Geometry::LineString(LineString(pts))
            }
            "Polygon" => {
                let rings = coords
                    .as_array()
                    .ok_or_else(|| invalid(&coords_field, "expected an array of rings"))?;
                if rings.is_empty() {
                    return Err(invalid(&coords_field, "an area needs an outer ring"));
                }
                let total: usize = rings.iter().filter_map(Value::as_array).map(Vec::len).sum();
                if total > MAX_VERTICES + rings.len() {
                    return Err(Invalid::malformed(
                        "too_many_vertices",
                        format!("{total} vertices; at most {MAX_VERTICES} are accepted"),
                    )
                    .at(coords_field));
                }
                let mut parsed = Vec::with_capacity(rings.len());
                for (i, ring) in rings.iter().enumerate() {
                    let f = format!("{coords_field}[{i}]");
                    let pts = positions(ring, &f)?;
                    if pts.len() < 4 {
                        return Err(invalid(
                            &f,
                            "a ring needs at least 4 positions (the first repeated last)",
                        ));
                    }
                    if pts.first() != pts.last() {
                        return Err(invalid(
                            &f,
                            "a ring must be closed: its last position must equal its first",
                        ));
                    }
                    parsed.push(LineString(pts));
                }
                let exterior = parsed.remove(0);
                let polygon = Polygon::new(exterior, parsed);
                if let Err(e) = polygon.check_validation() {
                    return Err(Invalid::unacceptable(
                        "invalid_polygon",
                        format!("the area is not a valid polygon: {e}"),
                    )
                    .at(coords_field));
                }
                Geometry::Polygon(polygon)
            }
            other => {
                return Err(invalid(
                    &format!("{field}.type"),
                    format!(
                        "geometry type {other} is not accepted; use Point, LineString or Polygon"
                    ),
                ))
            }
        };
        Ok(Self(g))
    }

    pub fn from_point(lon: f64, lat: f64) -> Result<Self, Invalid> {
        Self::parse(
            &serde_json::json!({"type": "Point", "coordinates": [lon, lat]}),
            "geometry",
        )
    }

    pub fn geometry(&self) -> &Geometry<f64> {
        &self.0
    }

    /// `point`, `line` or `area`: what a category allows.
    pub fn kind(&self) -> &'static str {
        zglos_tiles::store::Kind::of(&self.0).as_str()
    }

    pub fn anchor(&self) -> Point<f64> {
        // A valid point, line or area always has a representative point.
        zglos_tiles::anchor_of(&self.0).unwrap_or_else(|| Point::new(0.0, 0.0))
    }

    /// GeoJSON text for PostGIS (`ST_GeomFromGeoJSON`).
    pub fn to_geojson(&self) -> String {
        geojson::Geometry::from(&self.0).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(v: Value) -> Invalid {
        ReportGeometry::parse(&v, "geometry").unwrap_err()
    }

    #[test]
    fn accepts_points_lines_and_areas() {
        let p = ReportGeometry::parse(
            &json!({"type": "Point", "coordinates": [19.94, 50.06]}),
            "geometry",
        )
        .unwrap();
        assert_eq!(p.kind(), "point");
        let l = ReportGeometry::parse(
            &json!({"type": "LineString", "coordinates": [[19.94, 50.06], [19.95, 50.06]]}),
            "g",
        )
        .unwrap();
        assert_eq!(l.kind(), "line");
        let a = ReportGeometry::parse(
            &json!({"type": "Polygon", "coordinates": [[[19.94, 50.06], [19.95, 50.06], [19.95, 50.07], [19.94, 50.06]]]}),
            "g",
        )
        .unwrap();
        assert_eq!(a.kind(), "area");
    }

    #[test]
    fn names_the_offending_field() {
        let e = err(json!({"type": "Point", "coordinates": [200.0, 50.0]}));
        assert_eq!(
            (e.code, e.field.as_deref()),
            ("coordinate_out_of_range", Some("geometry.coordinates[0]"))
        );
        let e = err(json!({"type": "Point", "coordinates": [19.0, "x"]}));
        assert_eq!(e.field.as_deref(), Some("geometry.coordinates[1]"));
        let e = err(json!({"type": "MultiPoint", "coordinates": []}));
        assert_eq!(e.field.as_deref(), Some("geometry.type"));
        let e = err(json!({"type": "LineString", "coordinates": [[19.0, 50.0], [19.0, 50.0]]}));
        assert_eq!(e.code, "invalid_geometry");
    }

    #[test]
    fn rejects_self_intersecting_and_huge_areas() {
        // A bow tie.
        let e = err(
            json!({"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]]}),
        );
        assert_eq!(e.code, "invalid_polygon");
        assert_eq!(e.kind, crate::domain::InvalidKind::Unacceptable);
        let many: Vec<Value> = (0..=MAX_VERTICES + 1)
            .map(|i| json!([19.0 + i as f64 * 1e-5, 50.0]))
            .collect();
        let e = err(json!({"type": "LineString", "coordinates": many}));
        assert_eq!(e.code, "too_many_vertices");
        let e = err(
            json!({"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.5, 0.5]]]}),
        );
        assert!(e.message.contains("closed"));
    }
}
