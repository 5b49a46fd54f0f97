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
use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use geo::{Geometry, Point};
use parking_lot::{Mutex, RwLock};
use zglos_tiles::dedup::{Candidate, DedupIndex};
use zglos_tiles::mercator::{self, TileId};
use zglos_tiles::store::{Kind, ReportRec, ReportStore};
use zglos_tiles::tile::{self, Filter, ReportTileOptions};

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
}

struct Live {
    dedup: DedupIndex,
    store: ReportStore,
}

/// Per-category `rev` of the last row applied.
#[derive(Default)]
pub struct Cursor {
    pub last_seen: HashMap<String, i64>,
}

impl Cursor {
    pub fn get(&self, category: &str) -> i64 {
        self.last_seen.get(category).copied().unwrap_or(0)
    }
}

/// A cell where one category's reports grew unusually.
#[derive(Clone, Debug, PartialEq)]
pub struct Hotspot {
    pub category: u16,
    pub lon: f64,
    pub lat: f64,
    pub recent: u32,
    /// Reports expected in the recent window at the baseline rate.
    pub baseline: f64,
    pub ratio: f64,
}

/// What kind of tile a cache entry holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TileLayer {
    Reports,
    Heatmap,
    Districts,
}

type TileSlot = (TileLayer, u8, u32, u32);

/// Gzipped tiles by tile and filter. Districts never change; report and heatmap tiles are dropped
/// when a report in them changes.
struct TileCache {
    tiles: Mutex<HashMap<TileSlot, HashMap<String, Arc<Vec<u8>>>>>,
    entries: AtomicU64,
    /// Bumped on every change: a tile built while a change happened is served but not cached.
    generation: AtomicU64,
    capacity: u64,
}

pub struct Engine {
    catalogue: Arc<Catalogue>,
    live: RwLock<Live>,
    cursor: Mutex<Cursor>,
    cache: TileCache,
    pub tile_options: ReportTileOptions,
}

/// The highest zoom whose tiles are invalidated one by one; deeper tiles are rarely cached.
const MAX_CACHED_ZOOM: u8 = 22;

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 2 + 64),
        flate2::Compression::fast(),
    );
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

pub fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = flate2::read::GzDecoder::new(bytes).read_to_end(&mut out);
    out
}

fn parse_shape(text: &str) -> Option<Geometry<f64>> {
    let g: geojson::Geometry = text.parse().ok()?;
    g.try_into().ok()
}

impl Engine {
    pub fn new(catalogue: Arc<Catalogue>) -> Self {
        let proj = catalogue.proj;
        Self {
            catalogue,
            live: RwLock::new(Live {
                dedup: DedupIndex::new(proj),
                store: ReportStore::new(),
            }),
            cursor: Mutex::new(Cursor::default()),
            cache: TileCache {
                tiles: Mutex::new(HashMap::new()),
                entries: AtomicU64::new(0),
                generation: AtomicU64::new(0),
                capacity: 50_000,
            },
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

    /// Converts a row; None for a category or status this city does not know (never written by
    /// this service, since both are foreign keys, but a guard against hand-edited data).
    fn record(&self, row: &IndexRow) -> Option<(ReportRec, Option<Geometry<f64>>, bool)> {
        let (cat, _) = self.catalogue.category(&row.category)?;
        let (status, st) = self.catalogue.status(&row.status)?;
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
        Some((rec, shape, dedup_candidate))
    }

    /// Builds the indexes from all rows at start-up.
    pub fn load(&self, rows: impl IntoIterator<Item = IndexRow>) {
        let mut cursor = self.cursor.lock();
        let mut records = Vec::new();
        let mut shapes = Vec::new();
        let mut dedup = DedupIndex::new(self.catalogue.proj);
        for row in rows {
            let seen = cursor.last_seen.entry(row.category.clone()).or_insert(0);
            *seen = (*seen).max(row.rev);
            let Some((rec, shape, candidate)) = self.record(&row) else {
                continue;
            };
            if candidate {
                let g = shape
                    .clone()
                    .unwrap_or(Geometry::Point(Point::new(row.lon, row.lat)));
                dedup.insert(row.id, &row.category, rec.created_at, &g);
            }
            if let Some(s) = shape {
                shapes.push((rec.id, s));
            }
            records.push(rec);
        }
        let store = ReportStore::bulk_load(records, shapes);
        *self.live.write() = Live { dedup, store };
        self.invalidate_all();
    }

    /// Applies changed rows, given in `rev` order; rows not newer than what was applied are skipped.
    pub fn apply(&self, rows: &[IndexRow]) {
        if rows.is_empty() {
            return;
        }
        let mut touched = Vec::with_capacity(rows.len());
        {
            let mut cursor = self.cursor.lock();
            let mut live = self.live.write();
            for row in rows {
                let seen = cursor.last_seen.entry(row.category.clone()).or_insert(0);
                if row.rev <= *seen {
                    continue;
                }
                *seen = row.rev;
                let Some((rec, shape, candidate)) = self.record(row) else {
                    continue;
                };
                let previous = live.store.get(rec.id).copied();
                if candidate {
                    let g = shape
                        .clone()
                        .unwrap_or(Geometry::Point(Point::new(row.lon, row.lat)));
                    live.dedup.insert(row.id, &row.category, rec.created_at, &g);
                } else {
                    live.dedup.remove(row.id);
                }
                live.store.upsert(rec, shape.as_ref());
                touched.push((rec, previous, shape));
            }
        }
        self.cache.generation.fetch_add(1, Ordering::SeqCst);
        for (rec, previous, shape) in touched {
            self.invalidate_record(&rec, shape.as_ref());
            if let Some(prev) = previous.filter(|p| p.key != rec.key) {
                self.invalidate_record(&prev, None);
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
        const DAY: i64 = 86_400;
        let recent_from = now - recent_days * DAY;
        let baseline_from = recent_from - baseline_days * DAY;
        let mut cells: HashMap<(u16, u32, u32), (u32, u32, f64, f64)> = HashMap::new();
        {
            let live = self.live.read();
            for r in live
                .store
                .in_tile(TileId { z: 0, x: 0, y: 0 })
                .filter(|r| r.created_at >= baseline_from && r.created_at <= now)
            {
                let (ux, uy) = r.unit_position();
                let t = TileId::containing(15, ux, uy);
                let c = cells.entry((r.category, t.x, t.y)).or_default();
                if r.created_at >= recent_from {
                    c.0 += 1;
                    c.2 += ux;
                    c.3 += uy;
                } else {
                    c.1 += 1;
                }
            }
        }
        let scale = recent_days as f64 / baseline_days.max(1) as f64;
        let mut out: Vec<Hotspot> = cells
            .into_iter()
            .filter_map(|((category, _, _), (recent, base, sx, sy))| {
                let expected = base as f64 * scale;
                // At least three reports, and three times what the baseline predicts (plus one, so
                // that a quiet cell does not become a hotspot from a couple of reports).
                let ratio = recent as f64 / (expected + 1.0);
                (recent >= 3 && ratio >= 3.0).then(|| {
                    let (lon, lat) = mercator::from_unit(sx / recent as f64, sy / recent as f64);
                    Hotspot {
                        category,
                        lon,
                        lat,
                        recent,
                        baseline: expected,
                        ratio,
                    }
                })
            })
            .collect();
        out.sort_by(|a, b| b.ratio.total_cmp(&a.ratio));
        out
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
    ) -> Arc<Vec<u8>> {
        let slot = (layer, tile.z, tile.x, tile.y);
        if let Some(hit) = self
            .cache
            .tiles
            .lock()
            .get(&slot)
            .and_then(|m| m.get(filter_key))
        {
            metrics::counter!("zglos_tile_cache_hits_total").increment(1);
            return hit.clone();
        }
        metrics::counter!("zglos_tile_cache_misses_total").increment(1);
        let generation = self.cache.generation.load(Ordering::SeqCst);
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
        let bytes = Arc::new(gzip(&raw));
        let unchanged = layer == TileLayer::Districts
            || self.cache.generation.load(Ordering::SeqCst) == generation;
        if unchanged {
            if self.cache.entries.load(Ordering::Relaxed) >= self.cache.capacity {
                // Crude but bounded: start over rather than grow without limit. The old tiles are
                // freed after the lock is released, so other requests don't wait on that.
                let old = std::mem::take(&mut *self.cache.tiles.lock());
                self.cache.entries.store(0, Ordering::Relaxed);
                drop(old);
            }
            let mut tiles = self.cache.tiles.lock();
            if tiles
                .entry(slot)
                .or_default()
                .insert(filter_key.to_owned(), bytes.clone())
                .is_none()
            {
                self.cache.entries.fetch_add(1, Ordering::Relaxed);
            }
        }
        bytes
    }

    fn invalidate_all(&self) {
        self.cache.generation.fetch_add(1, Ordering::SeqCst);
        self.cache
            .tiles
            .lock()
            .retain(|k, _| k.0 == TileLayer::Districts);
    }

    /// Drops every cached report and heatmap tile that shows this record.
    fn invalidate_record(&self, rec: &ReportRec, shape: Option<&Geometry<f64>>) {
        let (ux, uy) = rec.unit_position();
        let mut tiles = self.cache.tiles.lock();
        for z in 0..=MAX_CACHED_ZOOM {
            let t = TileId::containing(z, ux, uy);
            for layer in [TileLayer::Reports, TileLayer::Heatmap] {
                tiles.remove(&(layer, t.z, t.x, t.y));
            }
        }
        if let Some(bounds) = shape.and_then(|s| geo::BoundingRect::bounding_rect(s)) {
            let (x0, y0) = mercator::to_unit(bounds.min().x, bounds.max().y);
            let (x1, y1) = mercator::to_unit(bounds.max().x, bounds.min().y);
            tiles.retain(|&(layer, z, x, y), _| {
                if layer != TileLayer::Reports {
                    return true;
                }
                let (a, b) = (TileId::containing(z, x0, y0), TileId::containing(z, x1, y1));
                !(a.x <= x && x <= b.x && a.y <= y && y <= b.y)
            });
        }
    }
}
