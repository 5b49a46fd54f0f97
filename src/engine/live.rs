//! The indexes kept in step with PostGIS: the dedup R-trees (open originals per category) and the
//! report store the tiles are drawn from.
use zglos_tiles::dedup::DedupIndex;
use zglos_tiles::record::ReportRec;
use zglos_tiles::store::ReportStore;
use zglos_tiles::LocalMetres;

use super::row::{IndexRow, Indexed};

pub(super) struct Live {
    pub dedup: DedupIndex,
    pub store: ReportStore,
}

/// The indexes being built from all rows at start-up.
pub(super) struct Loading {
    dedup: DedupIndex,
    records: Vec<ReportRec>,
    shapes: Vec<(u64, geo::Geometry<f64>)>,
}

impl Live {
    pub fn new(proj: LocalMetres) -> Self {
        Self {
            dedup: DedupIndex::new(proj),
            store: ReportStore::new(),
        }
    }

    pub fn loading(proj: LocalMetres) -> Loading {
        Loading {
            dedup: DedupIndex::new(proj),
            records: Vec::new(),
            shapes: Vec::new(),
        }
    }

    /// Applies one changed row; returns what the store knew of the report before.
    pub fn apply(&mut self, row: &IndexRow, indexed: &Indexed) -> Option<ReportRec> {
        let rec = indexed.rec;
        let previous = self.store.get(rec.id).copied();
        if indexed.dedup_candidate {
            let g = indexed.dedup_geometry(row);
            self.dedup.insert(row.id, &row.category, rec.created_at, &g);
        } else {
            self.dedup.remove(row.id);
        }
        self.store.upsert(rec, indexed.shape.as_ref());
        previous
    }
}

impl Live {
    /// Forgets a report that is no longer public; returns what the store knew of it.
    pub fn remove(&mut self, id: i64) -> Option<ReportRec> {
        self.dedup.remove(id);
        self.store.remove(id as u64)
    }
}

impl Loading {
    pub fn add(&mut self, row: &IndexRow, indexed: Indexed) {
        let rec = indexed.rec;
        if indexed.dedup_candidate {
            let g = indexed.dedup_geometry(row);
            self.dedup.insert(row.id, &row.category, rec.created_at, &g);
        }
        if let Some(s) = indexed.shape {
            self.shapes.push((rec.id, s));
        }
        self.records.push(rec);
    }

    pub fn finish(self) -> Live {
        Live {
            dedup: self.dedup,
            store: ReportStore::bulk_load(self.records, self.shapes),
        }
    }
}
