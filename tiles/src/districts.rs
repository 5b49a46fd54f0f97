//! Which district holds a point: point-in-polygon over the district layer, indexed with an R-tree.
use geo::{BoundingRect, Contains, Distance, Euclidean, MapCoords, MultiPolygon, Point};
use rstar::{primitives::GeomWithData, primitives::Rectangle, RTree, AABB};

use crate::LocalMetres;

/// A district as the city loaded it (lon/lat).
#[derive(Clone, Debug)]
pub struct District {
    pub id: i32,
    pub code: String,
    pub name: String,
    pub geometry: MultiPolygon<f64>,
}

/// Where a district's label goes: inside its largest polygon, in the middle of the widest
/// stretch of the horizontal line through that polygon's middle. Plain arithmetic on the rings:
/// geo's interior-point search and its validity check go through `relate`, which panics on
/// some polygons that are not valid (rings crossing themselves), and district files are data.
pub fn label_point(geometry: &MultiPolygon<f64>) -> Option<Point<f64>> {
    use geo::{Area, BoundingRect};
    let polygon = geometry
        .0
        .iter()
        .filter(|p| p.unsigned_area().is_finite())
        .max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()))?;
    let rect = polygon.bounding_rect()?;
    let y = (rect.min().y + rect.max().y) / 2.0;
    let mut xs: Vec<f64> = std::iter::once(polygon.exterior())
        .chain(polygon.interiors())
        .flat_map(|ring| ring.lines())
        .filter(|l| (l.start.y > y) != (l.end.y > y))
        .map(|l| l.start.x + (y - l.start.y) * (l.end.x - l.start.x) / (l.end.y - l.start.y))
        .filter(|x| x.is_finite())
        .collect();
    xs.sort_by(f64::total_cmp);
    let widest = xs
        .chunks_exact(2)
        .max_by(|a, b| (a[1] - a[0]).total_cmp(&(b[1] - b[0])));
    match widest {
        Some(pair) => Some(Point::new((pair[0] + pair[1]) / 2.0, y)),
        // A polygon with no width there (degenerate): the middle of its box.
        None => Some(Point::new((rect.min().x + rect.max().x) / 2.0, y)),
    }
}

/// Where a point fell.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DistrictHit {
    /// Position in [`DistrictIndex::districts`].
    pub index: usize,
    pub id: i32,
    /// Distance in metres from the point to the district's boundary.
    pub border_distance_m: f64,
}

type Entry = GeomWithData<Rectangle<[f64; 2]>, usize>;

pub struct DistrictIndex {
    districts: Vec<District>,
    /// The same polygons in local metres, for border distances.
    local: Vec<MultiPolygon<f64>>,
    tree: RTree<Entry>,
    proj: LocalMetres,
}

impl DistrictIndex {
    pub fn new(districts: Vec<District>, proj: LocalMetres) -> Self {
        let local = districts
            .iter()
            .map(|d| d.geometry.map_coords(|c| proj.project(c)))
            .collect();
        let entries = districts
            .iter()
            .enumerate()
            .filter_map(|(i, d)| {
                let r = d.geometry.bounding_rect()?;
                Some(Entry::new(
                    Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                    i,
                ))
            })
            .collect();
        Self {
            districts,
            local,
            tree: RTree::bulk_load(entries),
            proj,
        }
    }

    pub fn districts(&self) -> &[District] {
        &self.districts
    }

    pub fn get(&self, index: usize) -> &District {
        &self.districts[index]
    }

    pub fn by_id(&self, id: i32) -> Option<&District> {
        self.districts.iter().find(|d| d.id == id)
    }

    /// The district holding `p`, if any. Where districts overlap (they should not), the first loaded
    /// wins, so the answer is stable.
    pub fn locate(&self, p: Point<f64>) -> Option<DistrictHit> {
        let mut candidates: Vec<usize> = self
            .tree
            .locate_all_at_point(&[p.x(), p.y()])
            .map(|e| e.data)
            .filter(|&i| self.districts[i].geometry.contains(&p))
            .collect();
        candidates.sort_unstable();
        let index = *candidates.first()?;
        Some(DistrictHit {
            index,
            id: self.districts[index].id,
            border_distance_m: self.border_distance_m(index, p),
        })
    }

    /// Distance in metres from `p` to the boundary (any ring) of district `index`.
    pub fn border_distance_m(&self, index: usize, p: Point<f64>) -> f64 {
        let lp = Point(self.proj.project(p.0));
        self.local[index]
            .0
            .iter()
            .flat_map(|poly| std::iter::once(poly.exterior()).chain(poly.interiors()))
            .map(|ring| Euclidean.distance(&lp, ring))
            .fold(f64::INFINITY, f64::min)
    }

    /// Whether a district other than `except` lies within `metres` of `p`: the point is then
    /// close to a border between two districts (a city's outer edge does not count).
    pub fn other_within(&self, p: Point<f64>, except: usize, metres: f64) -> bool {
        // Degrees per metre, generously rounded up so the box never misses a candidate.
        let dlat = metres / 110_000.0;
        let dlon = metres / (110_000.0 * p.y().to_radians().cos().max(0.1));
        let env = AABB::from_corners([p.x() - dlon, p.y() - dlat], [p.x() + dlon, p.y() + dlat]);
        self.tree
            .locate_in_envelope_intersecting(&env)
            .map(|e| e.data)
            .filter(|&i| i != except)
            .any(|i| {
                self.districts[i].geometry.contains(&p) || self.border_distance_m(i, p) <= metres
            })
    }

    /// Districts whose bounding box intersects a lon/lat box, for tiles.
    pub fn in_bbox(&self, min: [f64; 2], max: [f64; 2]) -> impl Iterator<Item = &District> {
        self.tree
            .locate_in_envelope_intersecting(&AABB::from_corners(min, max))
            .map(|e| &self.districts[e.data])
    }
}

/// The city boundary: a report must lie inside it.
pub struct Boundary {
    polygon: MultiPolygon<f64>,
    /// None for an empty boundary, which contains nothing.
    bbox: Option<geo::Rect<f64>>,
}

impl Boundary {
    pub fn new(polygon: MultiPolygon<f64>) -> Self {
        let bbox = polygon.bounding_rect();
        Self { polygon, bbox }
    }

    pub fn contains(&self, p: Point<f64>) -> bool {
        self.bbox.is_some_and(|b| b.contains(&p)) && self.polygon.contains(&p)
    }

    pub fn bbox(&self) -> geo::Rect<f64> {
        self.bbox
            .unwrap_or_else(|| geo::Rect::new((0.0, 0.0), (0.0, 0.0)))
    }

    pub fn polygon(&self) -> &MultiPolygon<f64> {
        &self.polygon
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    fn square(id: i32, x0: f64, y0: f64, size: f64) -> District {
        let p = polygon![(x: x0, y: y0), (x: x0 + size, y: y0), (x: x0 + size, y: y0 + size), (x: x0, y: y0 + size)];
        District {
            id,
            code: id.to_string(),
            name: format!("D{id}"),
            geometry: MultiPolygon(vec![p]),
        }
    }

    fn two_squares() -> DistrictIndex {
        // Two 0.01° squares side by side at 50° N, sharing the border x = 20.01.
        DistrictIndex::new(
            vec![square(1, 20.0, 50.0, 0.01), square(2, 20.01, 50.0, 0.01)],
            LocalMetres::around(20.0, 50.0),
        )
    }

    #[test]
    fn locates_points_and_measures_the_border() {
        let idx = two_squares();
        let hit = idx.locate(Point::new(20.005, 50.005)).unwrap();
        assert_eq!(hit.id, 1);
        // 0.005° of latitude is ~556 m; 0.005° of longitude at 50° N is ~357 m: the nearest edge.
        assert!(
            (hit.border_distance_m - 357.4).abs() < 1.0,
            "{}",
            hit.border_distance_m
        );
        let east = idx.locate(Point::new(20.0101, 50.005)).unwrap();
        assert_eq!(east.id, 2);
        assert!(east.border_distance_m < 8.0, "{}", east.border_distance_m);
        assert!(idx.locate(Point::new(20.03, 50.005)).is_none());
        // Near the shared border there is another district close by; near the outer edge there is not.
        assert!(idx.other_within(Point::new(20.0101, 50.005), east.index, 10.0));
        assert!(!idx.other_within(Point::new(20.0199, 50.005), 1, 10.0));
    }

    #[test]
    fn boundary_contains() {
        let b = Boundary::new(square(0, 20.0, 50.0, 0.02).geometry);
        assert!(b.contains(Point::new(20.01, 50.01)));
        // A bow tie (a ring crossing itself) still gets a label point, and no panic.
        let bow: MultiPolygon<f64> = MultiPolygon(vec![geo::polygon![
            (x: 0.0, y: 0.0), (x: 2.0, y: 2.0), (x: 2.0, y: 0.0), (x: 0.0, y: 2.0), (x: 0.0, y: 0.0)
        ]]);
        assert!(label_point(&bow).is_some());
        // An L-shaped district: the label is inside it, not at its centroid's corner.
        let l: MultiPolygon<f64> = MultiPolygon(vec![geo::polygon![
            (x: 0.0, y: 0.0), (x: 10.0, y: 0.0), (x: 10.0, y: 1.0), (x: 1.0, y: 1.0),
            (x: 1.0, y: 10.0), (x: 0.0, y: 10.0), (x: 0.0, y: 0.0)
        ]]);
        let p = label_point(&l).unwrap();
        assert!(l.contains(&p), "{p:?}");
        assert!(!b.contains(Point::new(19.99, 50.01)));
    }
}
