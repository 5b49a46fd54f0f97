//! Every report as a compact record, sorted along a Z-order curve.
//!
//! A map tile is a square of the Z-order curve, so the reports of any tile are one contiguous
//! slice found by two binary searches: a tile's cost is the number of reports in it, whatever the
//! size of the city. New reports land in a small sorted delta that is merged into the base in
//! batches, so a submission never moves a million records. Lines and areas are also kept whole in
//! an R-tree, to be drawn at the zooms where reports are shown one by one.
use std::collections::HashMap;

use geo::{BoundingRect, Geometry, MapCoords};
use rstar::{primitives::GeomWithData, primitives::Rectangle, RTree, AABB};

use crate::aggregate::HeatIndex;
use crate::mercator::{self, TileId};
use crate::record::merge_sorted;
// The records' types, also reachable here as before they had a module of their own.
pub use crate::record::{Kind, ReportRec};

/// Status value of a record that was moved elsewhere and awaits the next merge.
const TOMBSTONE: u8 = u8::MAX;

/// The order of records in the store: by key, then by id.
#[inline]
fn order(r: &ReportRec) -> (u64, u64) {
    (r.key, r.id)
}

/// Where a record sits.
#[derive(Clone, Copy)]
enum Slot {
    Base(usize),
    Delta(usize),
}

type ShapeEntry = GeomWithData<Rectangle<[f64; 2]>, u64>;

pub struct ReportStore {
    base: Vec<ReportRec>,
    /// Every live record again, arranged for heatmaps.
    heat: HeatIndex,
    delta: Vec<ReportRec>,
    keys: HashMap<u64, u64>,
    /// Lines and areas on the unit square, by id, with their envelope in `shape_tree`.
    shapes: HashMap<u64, (Geometry<f64>, ShapeEntry)>,
    shape_tree: RTree<ShapeEntry>,
    delta_limit: usize,
}

impl Default for ReportStore {
    fn default() -> Self {
        Self::new()
    }
}

fn unit_geometry(g: &Geometry<f64>) -> Geometry<f64> {
    g.map_coords(|c| {
        let (x, y) = mercator::to_unit(c.x, c.y);
        geo::Coord { x, y }
    })
}

impl ReportStore {
    pub fn new() -> Self {
        Self::with_delta_limit(8192)
    }

    /// `delta_limit`: how many new records wait in the delta before a merge. A merge costs one
    /// pass over all records; a bigger delta costs every tile a little more.
    pub fn with_delta_limit(delta_limit: usize) -> Self {
        Self {
            base: Vec::new(),
            heat: HeatIndex::default(),
            delta: Vec::new(),
            keys: HashMap::new(),
            shapes: HashMap::new(),
            shape_tree: RTree::new(),
            delta_limit: delta_limit.max(1),
        }
    }

    /// Builds the store in one go (start-up): records, and the lon/lat geometry of lines and areas.
    pub fn bulk_load(mut records: Vec<ReportRec>, shapes: Vec<(u64, Geometry<f64>)>) -> Self {
        records.sort_unstable_by_key(order);
        let mut store = Self::new();
        store.keys = records.iter().map(|r| (r.id, r.key)).collect();
        store.heat = HeatIndex::build(&records);
        store.base = records;
        let mut entries = Vec::with_capacity(shapes.len());
        for (id, g) in shapes {
            if let Some(entry) = store.shape_entry(id, &g) {
                entries.push(entry.1);
                store.shapes.insert(id, entry);
            }
        }
        store.shape_tree = RTree::bulk_load(entries);
        store
    }

    fn shape_entry(&self, id: u64, lonlat: &Geometry<f64>) -> Option<(Geometry<f64>, ShapeEntry)> {
        let g = unit_geometry(lonlat);
        let r = g.bounding_rect()?;
        let rect = Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
        Some((g, ShapeEntry::new(rect, id)))
    }

    /// Number of live records.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn get(&self, id: u64) -> Option<&ReportRec> {
        let key = *self.keys.get(&id)?;
        let find = |v: &[ReportRec]| v.binary_search_by(|r| order(r).cmp(&(key, id))).ok();
        // The delta first: a record moved back to an old position has a tombstone in the base.
        if let Some(i) = find(&self.delta).filter(|&i| self.delta[i].status != TOMBSTONE) {
            return Some(&self.delta[i]);
        }
        find(&self.base)
            .map(|i| &self.base[i])
            .filter(|r| r.status != TOMBSTONE)
    }

    fn locate(&self, id: u64, key: u64) -> Option<Slot> {
        let target = (key, id);
        if let Ok(i) = self.delta.binary_search_by(|r| order(r).cmp(&target)) {
            if self.delta[i].status != TOMBSTONE {
                return Some(Slot::Delta(i));
            }
        }
        match self.base.binary_search_by(|r| order(r).cmp(&target)) {
            Ok(i) if self.base[i].status != TOMBSTONE => Some(Slot::Base(i)),
            _ => None,
        }
    }

    fn set(&mut self, slot: Slot, rec: ReportRec) {
        match slot {
            Slot::Delta(i) => self.delta[i] = rec,
            Slot::Base(i) => self.base[i] = rec,
        }
    }

    /// Adds a report or replaces what the store knows of it. `shape` is the lon/lat geometry of a
    /// line or area report (None for points).
    pub fn upsert(&mut self, rec: ReportRec, shape: Option<&Geometry<f64>>) {
        let slot = self
            .keys
            .get(&rec.id)
            .and_then(|&key| self.locate(rec.id, key));
        let old = slot.map(|s| self.record(s));
        if let Some(old) = &old {
            self.heat.remove(old);
        }
        self.heat.add(&rec);
        match (slot, old) {
            (Some(slot), Some(old)) if old.key == rec.key => self.set(slot, rec),
            (Some(slot), Some(old)) => {
                self.set(
                    slot,
                    ReportRec {
                        status: TOMBSTONE,
                        ..old
                    },
                );
                self.insert_delta(rec);
            }
            _ => self.insert_delta(rec),
        }
        self.keys.insert(rec.id, rec.key);
        if let Some((_, old)) = self.shapes.remove(&rec.id) {
            self.shape_tree.remove(&old);
        }
        if let Some(entry) = shape.and_then(|g| self.shape_entry(rec.id, g)) {
            self.shape_tree.insert(entry.1);
            self.shapes.insert(rec.id, entry);
        }
        if self.delta.len() > self.delta_limit {
            self.merge();
        }
    }

    /// Forgets a report (one that is no longer public); returns what the store knew of it.
    pub fn remove(&mut self, id: u64) -> Option<ReportRec> {
        let key = *self.keys.get(&id)?;
        let slot = self.locate(id, key)?;
        let old = self.record(slot);
        self.heat.remove(&old);
        self.set(
            slot,
            ReportRec {
                status: TOMBSTONE,
                ..old
            },
        );
        self.keys.remove(&id);
        if let Some((_, entry)) = self.shapes.remove(&id) {
            self.shape_tree.remove(&entry);
        }
        Some(old)
    }

    fn record(&self, slot: Slot) -> ReportRec {
        match slot {
            Slot::Delta(i) => self.delta[i],
            Slot::Base(i) => self.base[i],
        }
    }

    fn insert_delta(&mut self, rec: ReportRec) {
        let at = self.delta.partition_point(|r| order(r) < order(&rec));
        self.delta.insert(at, rec);
    }

    /// Folds the delta into the base, dropping tombstones.
    fn merge(&mut self) {
        let base = std::mem::take(&mut self.base);
        let delta = std::mem::take(&mut self.delta);
        let mut merged = Vec::with_capacity(base.len() + delta.len());
        merged.extend(merge_sorted(base, delta, order).filter(|r| r.status != TOMBSTONE));
        self.base = merged;
    }

    /// The live records whose anchor lies in `tile`.
    pub fn in_tile(&self, tile: TileId) -> impl Iterator<Item = &ReportRec> {
        let (lo, hi) = tile.key_range();
        let slice = |v: &'_ [ReportRec]| -> std::ops::Range<usize> {
            v.partition_point(|r| r.key < lo)..v.partition_point(|r| r.key <= hi)
        };
        let (rb, rd) = (slice(&self.base), slice(&self.delta));
        self.base[rb]
            .iter()
            .chain(self.delta[rd].iter())
            .filter(|r| r.status != TOMBSTONE)
    }

    /// The live records arranged for heatmaps.
    pub fn heat(&self) -> &HeatIndex {
        &self.heat
    }

    /// Lines and areas (unit-square geometry) whose envelope meets the given unit-square box.
    pub fn shapes_in(
        &self,
        min: [f64; 2],
        max: [f64; 2],
    ) -> impl Iterator<Item = (u64, &Geometry<f64>)> {
        self.shape_tree
            .locate_in_envelope_intersecting(&AABB::from_corners(min, max))
            .filter_map(|e| self.shapes.get(&e.data).map(|(g, _)| (e.data, g)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::line_string;

    fn rec(id: u64, lon: f64, lat: f64, status: u8) -> ReportRec {
        ReportRec::new(id, lon, lat, 0, status, 0, 1, Kind::Point)
    }

    fn ids(store: &ReportStore, tile: TileId) -> Vec<u64> {
        let mut v: Vec<u64> = store.in_tile(tile).map(|r| r.id).collect();
        v.sort();
        v
    }

    #[test]
    fn tiles_see_exactly_their_reports_through_inserts_moves_and_merges() {
        let mut store = ReportStore::with_delta_limit(2);
        let old_town = (19.9383, 50.0614);
        let nowa_huta = (20.0375, 50.0720);
        let z14 = |p: (f64, f64)| {
            let (x, y) = mercator::to_unit(p.0, p.1);
            TileId::containing(14, x, y)
        };
        for id in 1..=5 {
            store.upsert(rec(id, old_town.0 + id as f64 * 1e-5, old_town.1, 0), None);
        }
        store.upsert(rec(6, nowa_huta.0, nowa_huta.1, 0), None);
        assert_eq!(store.len(), 6);
        assert_eq!(ids(&store, z14(old_town)), vec![1, 2, 3, 4, 5]);
        assert_eq!(ids(&store, z14(nowa_huta)), vec![6]);
        assert_eq!(ids(&store, TileId::new(0, 0, 0).unwrap()).len(), 6);
        // A status change keeps the position.
        store.upsert(rec(3, old_town.0 + 3e-5, old_town.1, 4), None);
        assert_eq!(store.get(3).unwrap().status, 4);
        // A move (geometry edit) leaves the old tile and appears in the new one, then moves back.
        store.upsert(rec(2, nowa_huta.0, nowa_huta.1, 0), None);
        assert_eq!(ids(&store, z14(old_town)), vec![1, 3, 4, 5]);
        assert_eq!(ids(&store, z14(nowa_huta)), vec![2, 6]);
        store.upsert(rec(2, old_town.0 + 2e-5, old_town.1, 1), None);
        assert_eq!(ids(&store, z14(old_town)), vec![1, 2, 3, 4, 5]);
        assert_eq!(store.get(2).unwrap().status, 1);
        assert_eq!(store.len(), 6);
        assert_eq!(store.in_tile(TileId::new(0, 0, 0).unwrap()).count(), 6);
    }

    #[test]
    fn bulk_load_equals_incremental_inserts() {
        let recs: Vec<ReportRec> = (0..1000)
            .map(|i| {
                rec(
                    i,
                    19.8 + (i % 37) as f64 * 0.01,
                    50.0 + (i % 11) as f64 * 0.01,
                    0,
                )
            })
            .collect();
        let bulk = ReportStore::bulk_load(recs.clone(), vec![]);
        let mut inc = ReportStore::with_delta_limit(64);
        for r in &recs {
            inc.upsert(*r, None);
        }
        for z in [8u8, 11, 13] {
            let (x, y) = mercator::to_unit(19.95, 50.05);
            let t = TileId::containing(z, x, y);
            assert_eq!(ids(&bulk, t), ids(&inc, t), "z{z}");
        }
    }

    #[test]
    fn shapes_are_found_by_envelope_and_replaced() {
        let mut store = ReportStore::new();
        let line = Geometry::LineString(line_string![(x: 19.93, y: 50.06), (x: 19.94, y: 50.06)]);
        store.upsert(
            ReportRec::new(9, 19.935, 50.06, 0, 0, 0, 1, Kind::Line),
            Some(&line),
        );
        let (x0, y0) = mercator::to_unit(19.92, 50.07);
        let (x1, y1) = mercator::to_unit(19.95, 50.05);
        assert_eq!(store.shapes_in([x0, y0], [x1, y1]).count(), 1);
        let moved = Geometry::LineString(line_string![(x: 20.03, y: 50.07), (x: 20.04, y: 50.07)]);
        store.upsert(
            ReportRec::new(9, 20.035, 50.07, 0, 0, 0, 1, Kind::Line),
            Some(&moved),
        );
        assert_eq!(store.shapes_in([x0, y0], [x1, y1]).count(), 0);
    }
}

#[cfg(test)]
mod heat_tests;
