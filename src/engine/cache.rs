//! Gzipped tiles by tile and filter, dropped when a report they show changes.
use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use geo::Geometry;
use parking_lot::Mutex;
use zglos_tiles::mercator::{self, TileId};
use zglos_tiles::record::ReportRec;

/// What kind of tile a cache entry holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TileLayer {
    Reports,
    Heatmap,
    Districts,
}

type TileSlot = (TileLayer, u8, u32, u32);

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

/// Gzipped tiles by tile and filter. Districts never change; report and heatmap tiles are dropped
/// when a report in them changes.
pub(super) struct TileCache {
    tiles: Mutex<HashMap<TileSlot, HashMap<String, Arc<Vec<u8>>>>>,
    entries: AtomicU64,
    /// Bumped on every change: a tile built while a change happened is served but not cached.
    generation: AtomicU64,
    capacity: u64,
}

impl TileCache {
    pub fn new(capacity: u64) -> Self {
        Self {
            tiles: Mutex::new(HashMap::new()),
            entries: AtomicU64::new(0),
            generation: AtomicU64::new(0),
            capacity,
        }
    }

    #[inline]
    pub fn get(&self, layer: TileLayer, tile: TileId, filter_key: &str) -> Option<Arc<Vec<u8>>> {
        self.tiles
            .lock()
            .get(&(layer, tile.z, tile.x, tile.y))
            .and_then(|m| m.get(filter_key))
            .cloned()
    }

    /// The generation to note before building a tile, for [`TileCache::put`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Notes that reports changed: tiles being built now are not cached.
    pub fn changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Caches a tile built at `generation`, unless reports changed since (districts never do).
    pub fn put(
        &self,
        layer: TileLayer,
        tile: TileId,
        filter_key: &str,
        bytes: Arc<Vec<u8>>,
        generation: u64,
    ) {
        let unchanged = layer == TileLayer::Districts || self.generation() == generation;
        if !unchanged {
            return;
        }
        let slot = (layer, tile.z, tile.x, tile.y);
        if self.entries.load(Ordering::Relaxed) >= self.capacity {
            // Crude but bounded: start over rather than grow without limit. The old tiles are
            // freed after the lock is released, so other requests don't wait on that.
            let old = std::mem::take(&mut *self.tiles.lock());
            self.entries.store(0, Ordering::Relaxed);
            drop(old);
        }
        let mut tiles = self.tiles.lock();
        if tiles
            .entry(slot)
            .or_default()
            .insert(filter_key.to_owned(), bytes)
            .is_none()
        {
            self.entries.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Drops every report and heatmap tile (reports were reloaded); districts stay.
    pub fn invalidate_all(&self) {
        self.changed();
        self.tiles.lock().retain(|k, _| k.0 == TileLayer::Districts);
    }

    /// Drops every cached report and heatmap tile that shows this record (`shape`: the lon/lat
    /// geometry of a line or area, whose report tiles are dropped over its whole extent).
    pub fn invalidate_record(&self, rec: &ReportRec, shape: Option<&Geometry<f64>>) {
        let (ux, uy) = rec.unit_position();
        let mut tiles = self.tiles.lock();
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
