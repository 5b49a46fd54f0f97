//! Small geometric helpers over `geo` types.
use geo::line_measures::{Haversine, InterpolatableLine};
use geo::{Coord, Geometry, InteriorPoint, MapCoords, Point};

/// Mean Earth radius (IUGG), metres.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// An equirectangular projection around a reference point: lon/lat degrees to metres east/north.
///
/// Web-Mercator units are not ground metres (at 50° N one metre is ~1.56 units), so distances for
/// dedup and border checks are measured here instead. Within a city (tens of kilometres) the error
/// stays well below a metre, which is far finer than any dedup radius.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LocalMetres {
    lon0: f64,
    lat0: f64,
    kx: f64,
    ky: f64,
}

impl LocalMetres {
    pub fn around(lon0: f64, lat0: f64) -> Self {
        let ky = EARTH_RADIUS_M.to_radians();
        let kx = ky * lat0.to_radians().cos();
        Self { lon0, lat0, kx, ky }
    }

    pub fn project(&self, c: Coord<f64>) -> Coord<f64> {
        Coord {
            x: (c.x - self.lon0) * self.kx,
            y: (c.y - self.lat0) * self.ky,
        }
    }

    pub fn unproject(&self, c: Coord<f64>) -> Coord<f64> {
        Coord {
            x: c.x / self.kx + self.lon0,
            y: c.y / self.ky + self.lat0,
        }
    }

    pub fn project_geometry(&self, g: &Geometry<f64>) -> Geometry<f64> {
        g.map_coords(|c| self.project(c))
    }

    /// Ground distance in metres between two lon/lat points near the reference point.
    pub fn distance_m(&self, a: Point<f64>, b: Point<f64>) -> f64 {
        let (pa, pb) = (self.project(a.0), self.project(b.0));
        (pa.x - pb.x).hypot(pa.y - pb.y)
    }
}

/// The representative point of a report's geometry: the point itself, the middle of a line (along
/// its length), or a point guaranteed inside an area. Routing and clustering use it.
pub fn anchor_of(g: &Geometry<f64>) -> Option<Point<f64>> {
    match g {
        Geometry::Point(p) => Some(*p),
        // Halfway along the ground, not along degrees of longitude and latitude.
        Geometry::LineString(l) => l.point_at_ratio_from_start(&Haversine, 0.5),
        Geometry::MultiLineString(ml) => {
            ml.0.first()
                .and_then(|l| l.point_at_ratio_from_start(&Haversine, 0.5))
        }
        other => other.interior_point(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{line_string, polygon, Contains};

    #[test]
    fn local_metres_matches_haversine_within_a_city() {
        let proj = LocalMetres::around(19.94, 50.06);
        let a = Point::new(19.90, 50.05);
        let b = Point::new(20.00, 50.09);
        // Haversine reference distance for these two points is ~8,172 m.
        let d = proj.distance_m(a, b);
        let h = {
            use geo::{Distance, Haversine};
            Haversine.distance(a, b)
        };
        assert!((d - h).abs() < 2.0, "local {d} vs haversine {h}");
        let back = proj.unproject(proj.project(a.0));
        assert!((back.x - a.x()).abs() < 1e-12 && (back.y - a.y()).abs() < 1e-12);
    }

    #[test]
    fn anchor_is_mid_line_and_inside_areas() {
        let line = Geometry::LineString(line_string![(x: 0.0, y: 0.0), (x: 10.0, y: 0.0)]);
        let mid = anchor_of(&line).unwrap();
        assert!((mid.x() - 5.0).abs() < 1e-9 && mid.y().abs() < 1e-9);
        // A U-shaped area whose centroid lies outside it.
        let u = polygon![(x: 0., y: 0.), (x: 3., y: 0.), (x: 3., y: 3.), (x: 2., y: 3.), (x: 2., y: 1.),
            (x: 1., y: 1.), (x: 1., y: 3.), (x: 0., y: 3.)];
        let a = anchor_of(&Geometry::Polygon(u.clone())).unwrap();
        assert!(u.contains(&a));
    }
}
