//! Spatial dedup: an R-tree per category over the open, original reports, in local metres.
use std::collections::HashMap;

use geo::{BoundingRect, Distance, Euclidean, Geometry, Point};
use rstar::{RTree, RTreeObject, AABB};

use crate::LocalMetres;

/// An open report that a newcomer could be a duplicate of.
#[derive(Clone, Debug)]
struct Entry {
    id: i64,
    created_at: i64,
    /// In local metres.
    geometry: Geometry<f64>,
    envelope: AABB<[f64; 2]>,
}

impl RTreeObject for Entry {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

/// A nearby open report and how far it is, in metres (0 where the geometries touch).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Candidate {
    pub id: i64,
    pub distance_m: f64,
}

/// How a category deduplicates: within `radius_m` metres of an open report created at most
/// `window_secs` seconds ago. A radius of 0 turns dedup off for the category (ideas, say).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DedupRule {
    pub radius_m: f64,
    pub window_secs: i64,
}

pub struct DedupIndex {
    proj: LocalMetres,
    trees: HashMap<String, RTree<Entry>>,
    /// Where each id lives (category and envelope), so that removing it when it closes or becomes
    /// a duplicate descends only the branches of the tree that can hold it.
    categories: HashMap<i64, (String, AABB<[f64; 2]>)>,
}

fn envelope_of(g: &Geometry<f64>) -> Option<AABB<[f64; 2]>> {
    let r = g.bounding_rect()?;
    Some(AABB::from_corners(
        [r.min().x, r.min().y],
        [r.max().x, r.max().y],
    ))
}

impl DedupIndex {
    pub fn new(proj: LocalMetres) -> Self {
        Self {
            proj,
            trees: HashMap::new(),
            categories: HashMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.categories.len()
    }

    pub fn is_empty(&self) -> bool {
        self.categories.is_empty()
    }

    /// Every report in the index with its category, in no particular order.
    pub fn ids(&self) -> impl Iterator<Item = (i64, &str)> {
        self.categories.iter().map(|(id, (c, _))| (*id, c.as_str()))
    }

    pub fn contains(&self, id: i64) -> bool {
        self.categories.contains_key(&id)
    }

    /// Adds (or replaces) an open original report; `geometry` is lon/lat.
    pub fn insert(&mut self, id: i64, category: &str, created_at: i64, geometry: &Geometry<f64>) {
        self.remove(id);
        let geometry = self.proj.project_geometry(geometry);
        let Some(envelope) = envelope_of(&geometry) else {
            return;
        };
        self.trees
            .entry(category.to_owned())
            .or_default()
            .insert(Entry {
                id,
                created_at,
                geometry,
                envelope,
            });
        self.categories.insert(id, (category.to_owned(), envelope));
    }

    /// Removes a report (closed, merged, recategorised); a no-op for unknown ids.
    pub fn remove(&mut self, id: i64) -> bool {
        let Some((category, envelope)) = self.categories.remove(&id) else {
            return false;
        };
        let Some(tree) = self.trees.get_mut(&category) else {
            return false;
        };
        // Entries compare by id; the probe only needs the same envelope to find its way down.
        let probe = Entry {
            id,
            created_at: 0,
            geometry: Geometry::Point(Point::new(0.0, 0.0)),
            envelope,
        };
        tree.remove(&probe).is_some()
    }

    /// Open reports of `category` within `radius_m` of `geometry` (lon/lat), created at or after
    /// `created_after` (unix seconds), nearest first, ties broken by the older (smaller) id.
    pub fn candidates(
        &self,
        category: &str,
        geometry: &Geometry<f64>,
        radius_m: f64,
        created_after: i64,
    ) -> Vec<Candidate> {
        let Some(tree) = self.trees.get(category) else {
            return Vec::new();
        };
        let g = self.proj.project_geometry(geometry);
        let Some(env) = envelope_of(&g) else {
            return Vec::new();
        };
        let (lo, hi) = (env.lower(), env.upper());
        let query = AABB::from_corners(
            [lo[0] - radius_m, lo[1] - radius_m],
            [hi[0] + radius_m, hi[1] + radius_m],
        );
        let mut out: Vec<Candidate> = tree
            .locate_in_envelope_intersecting(&query)
            .filter(|e| e.created_at >= created_after)
            .filter_map(|e| {
                let d = Euclidean.distance(&g, &e.geometry);
                (d <= radius_m).then_some(Candidate {
                    id: e.id,
                    distance_m: d,
                })
            })
            .collect();
        out.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m).then(a.id.cmp(&b.id)));
        out
    }

    /// The report a new submission duplicates, if any.
    pub fn find_original(
        &self,
        category: &str,
        geometry: &Geometry<f64>,
        rule: DedupRule,
        now: i64,
    ) -> Option<Candidate> {
        if rule.radius_m <= 0.0 {
            return None;
        }
        self.candidates(category, geometry, rule.radius_m, now - rule.window_secs)
            .into_iter()
            .next()
    }

    /// Open reports of any of `categories` (all when empty) within `radius_m` of a point, for the
    /// "already reported nearby?" screen.
    pub fn nearby(
        &self,
        point: Point<f64>,
        categories: &[&str],
        radius_m: f64,
        limit: usize,
    ) -> Vec<Candidate> {
        let g = Geometry::Point(point);
        let mut out: Vec<Candidate> = self
            .trees
            .keys()
            .filter(|c| categories.is_empty() || categories.contains(&c.as_str()))
            .flat_map(|c| self.candidates(c, &g, radius_m, i64::MIN))
            .collect();
        out.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m).then(a.id.cmp(&b.id)));
        out.truncate(limit);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{line_string, polygon};

    const DAY: i64 = 86_400;

    fn index() -> DedupIndex {
        DedupIndex::new(LocalMetres::around(19.94, 50.06))
    }

    /// A point `dx` metres east of (19.94, 50.06).
    fn east(dx: f64) -> Geometry<f64> {
        let proj = LocalMetres::around(19.94, 50.06);
        let c = proj.unproject(geo::Coord { x: dx, y: 0.0 });
        Geometry::Point(Point(c))
    }

    #[test]
    fn finds_the_nearest_open_report_of_the_category_within_radius_and_window() {
        let mut idx = index();
        let now = 100 * DAY;
        idx.insert(1, "pothole", now - DAY, &east(0.0));
        idx.insert(2, "pothole", now - DAY, &east(20.0));
        idx.insert(3, "street_lighting", now - DAY, &east(18.0));
        let rule = DedupRule {
            radius_m: 25.0,
            window_secs: 30 * DAY,
        };
        let hit = idx
            .find_original("pothole", &east(15.0), rule, now)
            .unwrap();
        assert_eq!(hit.id, 2);
        assert!((hit.distance_m - 5.0).abs() < 0.01);
        assert!(idx
            .find_original("pothole", &east(50.0), rule, now)
            .is_none());
        // Outside the time window: not a duplicate.
        let short = DedupRule {
            radius_m: 25.0,
            window_secs: DAY / 2,
        };
        assert!(idx
            .find_original("pothole", &east(15.0), short, now)
            .is_none());
        // Radius 0 turns dedup off.
        assert!(idx
            .find_original(
                "pothole",
                &east(0.0),
                DedupRule {
                    radius_m: 0.0,
                    window_secs: DAY
                },
                now
            )
            .is_none());
        // Removed (closed) reports no longer match.
        assert!(idx.remove(2));
        assert_eq!(
            idx.find_original("pothole", &east(15.0), rule, now)
                .unwrap()
                .id,
            1
        );
        assert!(!idx.remove(2));
    }

    #[test]
    fn lines_and_areas_dedup_by_distance_between_geometries() {
        let proj = LocalMetres::around(19.94, 50.06);
        let ll = |x: f64, y: f64| proj.unproject(geo::Coord { x, y });
        let mut idx = index();
        // A 200 m stretch of pavement along y = 0.
        let (a, b) = (ll(0.0, 0.0), ll(200.0, 0.0));
        idx.insert(7, "pavement", 0, &Geometry::LineString(line_string![a, b]));
        // A point 20 m off the middle of the line is 20 m from it, though 100 m from its ends.
        let (c, d) = (ll(100.0, 20.0), ll(100.0, 60.0));
        let rule = DedupRule {
            radius_m: 25.0,
            window_secs: 10 * DAY,
        };
        let hit = idx
            .find_original("pavement", &Geometry::Point(Point(c)), rule, DAY)
            .unwrap();
        assert_eq!(hit.id, 7);
        assert!((hit.distance_m - 20.0).abs() < 0.01);
        assert!(idx
            .find_original("pavement", &Geometry::Point(Point(d)), rule, DAY)
            .is_none());
        // An area overlapping the line is at distance 0.
        let area = polygon![
            ll(90.0, -10.0),
            ll(110.0, -10.0),
            ll(110.0, 10.0),
            ll(90.0, 10.0)
        ];
        let hit = idx
            .find_original("pavement", &Geometry::Polygon(area), rule, DAY)
            .unwrap();
        assert_eq!(hit.distance_m, 0.0);
    }

    #[test]
    fn nearby_spans_categories_nearest_first() {
        let mut idx = index();
        idx.insert(1, "pothole", 0, &east(30.0));
        idx.insert(2, "litter", 0, &east(10.0));
        idx.insert(3, "litter", 0, &east(500.0));
        let near = idx.nearby(Point::new(19.94, 50.06), &[], 100.0, 10);
        assert_eq!(near.iter().map(|c| c.id).collect::<Vec<_>>(), vec![2, 1]);
        let only = idx.nearby(Point::new(19.94, 50.06), &["pothole"], 100.0, 10);
        assert_eq!(only.iter().map(|c| c.id).collect::<Vec<_>>(), vec![1]);
    }
}
