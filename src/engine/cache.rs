//! Gzipped tiles by tile and filter, dropped when a report they show changes.
use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use geo::{BoundingRect, Geometry};
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
/// The cached versions of one tile, by filter.
type TileVersions = HashMap<String, Arc<Tile>>;

/// A built tile: its gzipped bytes and the tag of what it shows (a digest of the encoded tile,
/// taken once when it is built), from which HTTP validators (ETag) are made. Two builds of the
/// same content, in this process or another, have the same tag.
#[derive(Debug)]
pub struct Tile {
    pub gz: Vec<u8>,
    pub tag: u64,
}

impl Tile {
    /// Gzips a freshly encoded tile and tags its content.
    pub fn new(raw: &[u8]) -> Self {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(raw);
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        Self {
            gz: gzip(raw),
            tag: u64::from_be_bytes(first),
        }
    }
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

/// Gzipped tiles by tile and filter. Districts never change; report and heatmap tiles are dropped
/// when a report in them changes.
pub(super) struct TileCache {
    tiles: Mutex<HashMap<TileSlot, TileVersions>>,
    /// The number of tiles in `tiles`. Changed only while `tiles` is locked, so that it always
    /// equals what the map holds.
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
    pub fn get(&self, layer: TileLayer, tile: TileId, filter_key: &str) -> Option<Arc<Tile>> {
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
        bytes: Arc<Tile>,
        generation: u64,
    ) {
        let unchanged = layer == TileLayer::Districts || self.generation() == generation;
        if !unchanged {
            return;
        }
        let slot = (layer, tile.z, tile.x, tile.y);
        let old = {
            let mut tiles = self.tiles.lock();
            // Crude but bounded: start over rather than grow without limit.
            let old = (self.entries.load(Ordering::Relaxed) >= self.capacity).then(|| {
                self.entries.store(0, Ordering::Relaxed);
                std::mem::take(&mut *tiles)
            });
            if tiles
                .entry(slot)
                .or_default()
                .insert(filter_key.to_owned(), bytes)
                .is_none()
            {
                self.entries.fetch_add(1, Ordering::Relaxed);
            }
            old
        };
        // The old tiles are freed after the lock is released, so other requests don't wait on that.
        drop(old);
    }

    /// Drops every report and heatmap tile (reports were reloaded); districts stay.
    pub fn invalidate_all(&self) {
        self.changed();
        let mut tiles = self.tiles.lock();
        let mut dropped = 0;
        tiles.retain(|k, m| {
            let keep = k.0 == TileLayer::Districts;
            if !keep {
                dropped += m.len() as u64;
            }
            keep
        });
        self.entries.fetch_sub(dropped, Ordering::Relaxed);
    }

    /// Drops every cached report and heatmap tile that shows this record (`shape`: the lon/lat
    /// geometry of a line or area, whose report tiles are dropped over its whole extent).
    pub fn invalidate_record(&self, rec: &ReportRec, shape: Option<&Geometry<f64>>) {
        let (ux, uy) = rec.unit_position();
        let mut tiles = self.tiles.lock();
        let mut dropped = 0;
        for z in 0..=MAX_CACHED_ZOOM {
            let t = TileId::containing(z, ux, uy);
            for layer in [TileLayer::Reports, TileLayer::Heatmap] {
                if let Some(m) = tiles.remove(&(layer, t.z, t.x, t.y)) {
                    dropped += m.len() as u64;
                }
            }
        }
        if let Some(bounds) = shape.and_then(BoundingRect::bounding_rect) {
            let (x0, y0) = mercator::to_unit(bounds.min().x, bounds.max().y);
            let (x1, y1) = mercator::to_unit(bounds.max().x, bounds.min().y);
            tiles.retain(|&(layer, z, x, y), m| {
                if layer != TileLayer::Reports {
                    return true;
                }
                let (a, b) = (TileId::containing(z, x0, y0), TileId::containing(z, x1, y1));
                let keep = !(a.x <= x && x <= b.x && a.y <= y && y <= b.y);
                if !keep {
                    dropped += m.len() as u64;
                }
                keep
            });
        }
        self.entries.fetch_sub(dropped, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tiles_tag_follows_its_content_and_not_its_build() {
        let a = Tile::new(b"one tile");
        assert_eq!(a.tag, Tile::new(b"one tile").tag);
        assert_ne!(a.tag, Tile::new(b"one tile, changed").tag);
        assert_eq!(gunzip(&a.gz), b"one tile");
    }
    use zglos_tiles::record::Kind;

    impl TileCache {
        /// The counter, and the tiles actually held.
        fn counts(&self) -> (u64, u64) {
            let tiles = self.tiles.lock();
            let held = tiles.values().map(|m| m.len() as u64).sum();
            (self.entries.load(Ordering::Relaxed), held)
        }
    }

    const OLD_TOWN: (f64, f64) = (19.9383, 50.0614);
    const NOWA_HUTA: (f64, f64) = (20.0375, 50.0720);

    fn tile_at(z: u8, (lon, lat): (f64, f64)) -> TileId {
        let (x, y) = mercator::to_unit(lon, lat);
        TileId::containing(z, x, y)
    }

    fn put(cache: &TileCache, layer: TileLayer, tile: TileId, key: &str) {
        let generation = cache.generation();
        cache.put(layer, tile, key, Arc::new(Tile::new(&[tile.z])), generation);
    }

    fn report_at((lon, lat): (f64, f64)) -> ReportRec {
        ReportRec::new(1, lon, lat, 0, 0, 0, 1, Kind::Point)
    }

    #[test]
    fn invalidated_tiles_make_room_instead_of_counting_towards_a_start_over() {
        let cache = TileCache::new(10);
        // Six tiles that show the old town, three that do not: nine of ten.
        for z in 10..16 {
            put(&cache, TileLayer::Reports, tile_at(z, OLD_TOWN), "all");
        }
        for z in 10..13 {
            put(&cache, TileLayer::Reports, tile_at(z, NOWA_HUTA), "all");
        }
        assert_eq!(cache.counts(), (9, 9));
        // A report in the old town changes: its six tiles go.
        cache.changed();
        cache.invalidate_record(&report_at(OLD_TOWN), None);
        assert_eq!(cache.counts(), (3, 3));
        // Six new tiles fit beside the three left: nothing starts over.
        for z in 13..19 {
            put(&cache, TileLayer::Reports, tile_at(z, NOWA_HUTA), "all");
        }
        assert_eq!(cache.counts(), (9, 9));
        for z in 10..19 {
            let tile = tile_at(z, NOWA_HUTA);
            assert!(cache.get(TileLayer::Reports, tile, "all").is_some(), "z{z}");
        }
    }

    #[test]
    fn the_count_follows_replacements_shapes_reloads_and_start_overs() {
        let cache = TileCache::new(8);
        let tile = tile_at(14, OLD_TOWN);
        // The same tile and filter again replaces the entry; another filter is another entry.
        put(&cache, TileLayer::Reports, tile, "all");
        put(&cache, TileLayer::Reports, tile, "all");
        put(&cache, TileLayer::Reports, tile, "open");
        put(&cache, TileLayer::Heatmap, tile, "all");
        put(&cache, TileLayer::Districts, tile, "");
        assert_eq!(cache.counts(), (4, 4));
        // A line across the old town drops the report tiles along it (not the heatmap's, which
        // only its anchor is in).
        let line: Geometry<f64> =
            geo::LineString::from(vec![(19.93, OLD_TOWN.1), (19.95, OLD_TOWN.1)]).into();
        put(
            &cache,
            TileLayer::Reports,
            tile_at(16, (19.949, OLD_TOWN.1)),
            "all",
        );
        cache.changed();
        cache.invalidate_record(&report_at((20.5, 50.3)), Some(&line));
        assert_eq!(cache.counts(), (2, 2));
        // A reload keeps only districts.
        put(&cache, TileLayer::Reports, tile, "all");
        cache.invalidate_all();
        assert_eq!(cache.counts(), (1, 1));
        assert!(cache.get(TileLayer::Districts, tile, "").is_some());
        // Full: the next tile starts the cache over, holding only itself.
        for z in 0..7 {
            put(&cache, TileLayer::Reports, tile_at(z, NOWA_HUTA), "all");
        }
        assert_eq!(cache.counts(), (8, 8));
        put(&cache, TileLayer::Heatmap, tile, "all");
        assert_eq!(cache.counts(), (1, 1));
        assert!(cache.get(TileLayer::Heatmap, tile, "all").is_some());
    }

    #[test]
    fn a_tile_built_across_a_change_is_not_cached() {
        let cache = TileCache::new(8);
        let tile = tile_at(14, OLD_TOWN);
        let generation = cache.generation();
        cache.changed();
        cache.put(
            TileLayer::Reports,
            tile,
            "all",
            Arc::new(Tile::new(&[])),
            generation,
        );
        assert!(cache.get(TileLayer::Reports, tile, "all").is_none());
        cache.put(
            TileLayer::Districts,
            tile,
            "",
            Arc::new(Tile::new(&[])),
            generation,
        );
        assert!(cache.get(TileLayer::Districts, tile, "").is_some());
        assert_eq!(cache.counts(), (1, 1));
    }
}
