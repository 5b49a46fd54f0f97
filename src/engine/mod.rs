//! The in-memory side of the service: the dedup R-trees and the tile store, kept in step with
//! PostGIS (the truth), and a cache of compressed tiles.
//!
//! How it stays in sync: every report row carries `rev`, a sequence value taken on each insert or
//! update while the writer holds its category's advisory lock. Within a category `rev` therefore
//! grows in commit order, and an engine that remembers the last `rev` it applied per category can
//! catch up with one indexed query (`category = $1 AND rev > $2`). Catch-ups are serialised by the
//! `cursor` mutex, so an older row can never overwrite a newer one. A submission catches up its
//! category while holding the lock (so dedup sees every committed report, whichever process wrote
//! it), and after commit applies the rows its own statements returned instead of querying again:
//! nothing older in the category can be missing (it caught up under the lock, and nobody else
//! could write there until it committed), and if a catch-up applied those rows first the cursor
//! skips them. A LISTEN/NOTIFY listener and a periodic sweep bring in changes made by other
//! processes for the tiles.
//!
//! The parts: `cursor` (the per-category `rev` bookkeeping), `row` (rows as the indexes take
//! them), `live` (the dedup R-trees and the report store), `cache` (gzipped tiles and their
//! invalidation) and `hotspots` (counted from the store). [`Engine`] holds them together; it
//! takes the cursor before the indexes, and never holds the cache's lock while taking another.
use std::sync::Arc;

use geo::{Geometry, Point};
use parking_lot::{Mutex, RwLock};
use zglos_tiles::dedup::Candidate;
use zglos_tiles::filter::Filter;
use zglos_tiles::mercator::TileId;
use zglos_tiles::tile::{self, ReportTileOptions};

use crate::catalogue::Catalogue;

mod cache;
mod cursor;
mod hotspots;
mod live;
mod row;

pub use cache::{gunzip, gzip, Tile, TileLayer};
pub use cursor::Cursor;
pub use hotspots::Hotspot;
pub use row::IndexRow;

use cache::TileCache;
use live::Live;
use row::Indexed;

/// Tiles the cache holds before it starts over.
const CACHE_CAPACITY: u64 = 50_000;

/// See [`Engine::holdings`].
pub struct Holdings {
    pub counts: Vec<((String, String), u64)>,
    pub last_rev: std::collections::HashMap<String, i64>,
    pub dedup: Vec<(i64, String)>,
}

pub struct Engine {
    catalogue: Arc<Catalogue>,
    live: RwLock<Live>,
    cursor: Mutex<Cursor>,
    cache: TileCache,
    pub tile_options: ReportTileOptions,
}

impl Engine {
    pub fn new(catalogue: Arc<Catalogue>) -> Self {
        let proj = catalogue.proj;
        Self {
            catalogue,
            live: RwLock::new(Live::new(proj)),
            cursor: Mutex::new(Cursor::default()),
            cache: TileCache::new(CACHE_CAPACITY),
            tile_options: ReportTileOptions::default(),
        }
    }

    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    /// The last `rev` applied per category, for a catch-up query.
    pub fn last_seen(&self, categories: &[String]) -> Vec<i64> {
        let cursor = self.cursor.lock();
        categories.iter().map(|c| cursor.get(c)).collect()
    }

    /// Builds the indexes from all rows at start-up.
    pub fn load(&self, rows: impl IntoIterator<Item = IndexRow>) {
        let mut cursor = self.cursor.lock();
        let mut loading = Live::loading(self.catalogue.proj);
        for row in rows {
            cursor.note(&row.category, row.rev);
            if row.held {
                continue;
            }
            let Some(indexed) = Indexed::of(&self.catalogue, &row) else {
                continue;
            };
            loading.add(&row, indexed);
        }
        *self.live.write() = loading.finish();
        self.cache.invalidate_all();
    }

    /// Applies changed rows, given in `rev` order; rows not newer than what was applied are skipped.
    pub fn apply(&self, rows: &[IndexRow]) {
        if rows.is_empty() {
            return;
        }
        let mut touched = Vec::with_capacity(rows.len());
        let mut removed = Vec::new();
        {
            let mut cursor = self.cursor.lock();
            let mut live = self.live.write();
            for row in rows {
                if !cursor.advance(&row.category, row.rev) {
                    continue;
                }
                if row.held {
                    // Held for moderation (or a withdrawal): no longer public.
                    removed.extend(live.remove(row.id));
                    continue;
                }
                let Some(indexed) = Indexed::of(&self.catalogue, row) else {
                    continue;
                };
                let previous = live.apply(row, &indexed);
                touched.push((indexed.rec, previous, indexed.shape));
            }
        }
        self.cache.changed();
        for rec in removed {
            self.cache.invalidate_record(&rec, None);
        }
        for (rec, previous, shape) in touched {
            self.cache.invalidate_record(&rec, shape.as_ref());
            if let Some(prev) = previous.filter(|p| p.key != rec.key) {
                self.cache.invalidate_record(&prev, None);
            }
        }
    }

    /// The open report a submission duplicates, if any.
    pub fn find_original(
        &self,
        category: &str,
        geometry: &Geometry<f64>,
        now: i64,
    ) -> Option<Candidate> {
        let (_, cat) = self.catalogue.category(category)?;
        self.live
            .read()
            .dedup
            .find_original(category, geometry, cat.dedup_rule(), now)
    }

    /// Open original reports near a point, nearest first.
    pub fn nearby(
        &self,
        point: Point<f64>,
        categories: &[&str],
        radius_m: f64,
        limit: usize,
    ) -> Vec<Candidate> {
        self.live
            .read()
            .dedup
            .nearby(point, categories, radius_m, limit)
    }

    /// Cells (about 1 km) where reports of one category grew unusually: the last `recent_days`
    /// against the weekly rate of the `baseline_days` before them.
    pub fn hotspots(&self, now: i64, recent_days: i64, baseline_days: i64) -> Vec<Hotspot> {
        let cells = hotspots::count(&self.live.read().store, now, recent_days, baseline_days);
        hotspots::rank(cells, recent_days, baseline_days)
    }

    /// What the indexes hold, for comparing with the database: reports per (category, status)
    /// code, the last `rev` applied per category, and the dedup originals (id, category).
    pub fn holdings(&self) -> Holdings {
        let last_rev = self.cursor.lock().last_seen.clone();
        let live = self.live.read();
        let mut counts: std::collections::HashMap<(u16, u8), u64> = Default::default();
        for rec in live.store.in_tile(TileId { z: 0, x: 0, y: 0 }) {
            *counts.entry((rec.category, rec.status)).or_default() += 1;
        }
        let code =
            |i: usize, codes: &[String]| codes.get(i).cloned().unwrap_or_else(|| format!("#{i}"));
        let categories: Vec<String> = self
            .catalogue
            .categories
            .iter()
            .map(|c| c.code.clone())
            .collect();
        let statuses: Vec<String> = self
            .catalogue
            .statuses
            .iter()
            .map(|s| s.code.clone())
            .collect();
        Holdings {
            counts: counts
                .into_iter()
                .map(|((c, s), n)| {
                    (
                        (code(c as usize, &categories), code(s as usize, &statuses)),
                        n,
                    )
                })
                .collect(),
            last_rev,
            dedup: live.dedup.ids().map(|(id, c)| (id, c.to_owned())).collect(),
        }
    }

    pub fn report_count(&self) -> usize {
        self.live.read().store.len()
    }

    pub fn open_count(&self) -> usize {
        self.live.read().dedup.len()
    }

    /// A gzipped tile from the cache, or built and cached.
    pub fn tile(
        &self,
        layer: TileLayer,
        tile: TileId,
        filter: &Filter,
        filter_key: &str,
        heat_grid_bits: u32,
    ) -> Arc<Tile> {
        if let Some(hit) = self.cache.get(layer, tile, filter_key) {
            metrics::counter!("zglos_tile_cache_hits_total").increment(1);
            return hit;
        }
        metrics::counter!("zglos_tile_cache_misses_total").increment(1);
        let generation = self.cache.generation();
        let raw = match layer {
            TileLayer::Reports => {
                let live = self.live.read();
                tile::reports_tile(
                    &live.store,
                    tile,
                    filter,
                    &self.catalogue.vocabulary,
                    &self.tile_options,
                )
            }
            TileLayer::Heatmap => {
                tile::heatmap_tile(&self.live.read().store, tile, filter, heat_grid_bits)
            }
            TileLayer::Districts => {
                tile::districts_tile(self.catalogue.districts.districts(), tile)
            }
        };
        let bytes = Arc::new(Tile::new(&raw));
        self.cache
            .put(layer, tile, filter_key, bytes.clone(), generation);
        bytes
    }
}
