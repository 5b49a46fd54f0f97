//! The city's own basemap: its vector tiles in one PMTiles file, its MapLibre style, and the
//! label glyphs drawn from a font on the machine, so the map needs no other host.
//!
//! At import (`zglos setup`), the pack's `{z}/{x}/{y}.pbf` folder becomes
//! `{data_dir}/{slug}/basemap.pmtiles` (tiles gzipped, identical tiles stored once) and the
//! style is copied beside it as `basemap-style.json`. Every instance serves the two files from
//! memory; nothing about the basemap is in PostgreSQL, so a new basemap is a new file, not a
//! migration. PMTiles rather than MBTiles: one file with no SQLite at serve time, small enough
//! to hold in memory, and readable as it is by range requests from any static host, by the
//! PMTiles tools and by GDAL 3.8 and later.
//!
//! Glyphs are made on first request per font and range (a 256-code-point range is ~20 ms in a
//! release build) and kept gzipped; a few dozen ranges cover Polish, English and Ukrainian.
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use serde_json::Value;
use zglos_tiles::gazetteer::basemap_tiles;
use zglos_tiles::glyphs;
use zglos_tiles::pmtiles::{self, Archive, Compression, TileSetInfo, Writer};

use crate::city::{BasemapSource, CityPack};

pub const TILES_FILE: &str = "basemap.pmtiles";
pub const STYLE_FILE: &str = "basemap-style.json";

/// Where a city's basemap files live.
pub fn city_dir(data_dir: &Path, slug: &str) -> PathBuf {
    data_dir.join(slug)
}

/// Writes the pack's category icons and its basemap (if it names one) into
/// `{data_dir}/{slug}/`; the number of tiles.
pub fn import_pack(pack: &CityPack, data_dir: &Path) -> Result<Option<usize>> {
    crate::icons::write(
        &city_dir(data_dir, &pack.slug).join(crate::icons::DIR),
        &pack.icons,
    )?;
    let Some(source) = &pack.basemap else {
        return Ok(None);
    };
    import(source, &city_dir(data_dir, &pack.slug), pack.map.center).map(Some)
}

/// Writes the city's basemap file and style into `dir`; returns how many tiles were written.
pub fn import(source: &BasemapSource, dir: &Path, center: Option<[f64; 2]>) -> Result<usize> {
    let meta_path = source.tiles.join("metadata.json");
    let meta: Value = match std::fs::read_to_string(&meta_path) {
        Ok(text) => serde_json::from_str(&text)
            .with_context(|| format!("{} is not JSON", meta_path.display()))?,
        Err(_) => Value::Null,
    };
    let style_text = std::fs::read_to_string(&source.style)
        .with_context(|| format!("cannot read the basemap style {}", source.style.display()))?;
    let style: Value = serde_json::from_str(&style_text)
        .with_context(|| format!("{} is not JSON", source.style.display()))?;
    anyhow::ensure!(
        style.get("version") == Some(&Value::from(8))
            && style.get("layers").is_some_and(Value::is_array),
        "{} is not a MapLibre style (version 8 with layers)",
        source.style.display()
    );

    let (mut min_zoom, mut max_zoom) = (u8::MAX, 0u8);
    let mut tiles = Vec::new();
    for z in 0..=22u8 {
        let Ok(found) = basemap_tiles(&source.tiles, z) else {
            continue;
        };
        if !found.is_empty() {
            min_zoom = min_zoom.min(z);
            max_zoom = max_zoom.max(z);
        }
        tiles.extend(found);
    }
    anyhow::ensure!(
        !tiles.is_empty(),
        "no {{z}}/{{x}}/{{y}}.pbf tiles under {}",
        source.tiles.display()
    );
    // The extent of the deepest zoom's tiles: clients ask for nothing outside it.
    let deepest = tiles.iter().filter(|(id, _)| id.z == max_zoom);
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    for (id, _) in deepest {
        (x0, y0, x1, y1) = (
            x0.min(id.x),
            y0.min(id.y),
            x1.max(id.x + 1),
            y1.max(id.y + 1),
        );
    }
    let (west, north) = tile_corner(max_zoom, x0, y0);
    let (east, south) = tile_corner(max_zoom, x1, y1);
    let bounds = [west, south, east, north];
    let center = center.unwrap_or([(west + east) / 2.0, (south + north) / 2.0]);
    let metadata = serde_json::json!({
        "name": meta.get("name").cloned().unwrap_or_else(|| "basemap".into()),
        "description": meta.get("description").cloned().unwrap_or(Value::Null),
        "version": meta.get("version").cloned().unwrap_or(Value::Null),
        "attribution": source.attribution,
        "type": "baselayer",
        "format": "pbf",
        "vector_layers": meta.get("vector_layers").cloned().unwrap_or_else(|| Value::Array(vec![])),
    });
    let info = TileSetInfo {
        min_zoom,
        max_zoom,
        bounds,
        center,
        center_zoom: 12.min(max_zoom),
        tile_compression: Compression::Gzip,
        tile_type: 1,
    };
    let mut writer = Writer::new(info, metadata.to_string());
    let count = tiles.len();
    for (id, path) in tiles {
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let gz = if bytes.starts_with(&[0x1f, 0x8b]) {
            bytes
        } else {
            pmtiles::gzip(&bytes)
        };
        writer.add(id.z, id.x, id.y, gz);
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    write_atomically(&dir.join(TILES_FILE), &writer.finish())?;
    write_atomically(&dir.join(STYLE_FILE), style_text.as_bytes())?;
    Ok(count)
}

/// The north-west corner of tile x/y of zoom z, in degrees.
fn tile_corner(z: u8, x: u32, y: u32) -> (f64, f64) {
    let n = f64::from(1u32 << z);
    zglos_tiles::mercator::from_unit(f64::from(x) / n, f64::from(y) / n)
}

/// Written beside and renamed over, so a running instance never reads half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// A city's basemap as served.
pub struct Basemap {
    pub archive: Archive,
    /// A digest of the file (hex): a new file, new tile validators.
    pub version: String,
    /// The style as the pack has it (paths relative to the service's origin).
    pub style: Value,
    /// The metadata's `vector_layers`, for TileJSON.
    pub vector_layers: Value,
    pub attribution: String,
}

impl Basemap {
    /// The basemap in `dir`; None when the city has none there. A file that is there but
    /// unreadable is an error: better to refuse to start than to serve a blank map.
    pub fn open(dir: &Path) -> Result<Option<Self>> {
        let path = dir.join(TILES_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let version = {
            use sha2::{Digest, Sha256};
            hex::encode(&Sha256::digest(&bytes)[..6])
        };
        let archive = Archive::open(bytes).with_context(|| format!("{}", path.display()))?;
        let meta: Value = serde_json::from_str(&archive.metadata)
            .with_context(|| format!("{}: its metadata is not JSON", path.display()))?;
        let style_path = dir.join(STYLE_FILE);
        let style: Value = serde_json::from_slice(
            &std::fs::read(&style_path)
                .with_context(|| format!("cannot read {}", style_path.display()))?,
        )
        .with_context(|| format!("{} is not JSON", style_path.display()))?;
        Ok(Some(Self {
            version,
            vector_layers: meta
                .get("vector_layers")
                .cloned()
                .unwrap_or_else(|| Value::Array(vec![])),
            attribution: meta
                .get("attribution")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            archive,
            style,
        }))
    }

    /// The style with the paths that start with `/` (sources, glyphs, sprite) made absolute:
    /// MapLibre resolves them against no page.
    pub fn style_for(&self, base: &str) -> Value {
        let mut style = self.style.clone();
        let absolute = |v: &mut Value| {
            if let Some(s) = v.as_str().filter(|s| s.starts_with('/')) {
                *v = Value::String(format!("{base}{s}"));
            }
        };
        for key in ["glyphs", "sprite"] {
            if let Some(v) = style.get_mut(key) {
                absolute(v);
            }
        }
        if let Some(sources) = style.get_mut("sources").and_then(Value::as_object_mut) {
            for source in sources.values_mut() {
                if let Some(v) = source.get_mut("url") {
                    absolute(v);
                }
                if let Some(tiles) = source.get_mut("tiles").and_then(Value::as_array_mut) {
                    tiles.iter_mut().for_each(absolute);
                }
            }
        }
        style
    }
}

/// Glyph ranges made so far, gzipped, by font name and first code point.
type GlyphCache = HashMap<(String, u32), Arc<Vec<u8>>>;

/// The fonts labels can use, by the name a style gives them ("DejaVu Sans Book").
pub struct Fonts {
    fonts: HashMap<String, Arc<Vec<u8>>>,
    ranges: Mutex<GlyphCache>,
}

impl Fonts {
    /// Every TrueType and OpenType file directly in `dir` (none if it does not exist).
    pub fn scan(dir: &Path) -> Self {
        let mut fonts = HashMap::new();
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                let path = e.path();
                let is_font = path.extension().and_then(|x| x.to_str()).is_some_and(|x| {
                    x.eq_ignore_ascii_case("ttf") || x.eq_ignore_ascii_case("otf")
                });
                if !is_font {
                    continue;
                }
                let Ok(bytes) = std::fs::read(&path) else {
                    continue;
                };
                if let Some(name) = glyphs::font_name(&bytes) {
                    fonts.entry(name).or_insert_with(|| Arc::new(bytes));
                }
            }
        }
        Self {
            fonts,
            ranges: Mutex::new(HashMap::new()),
        }
    }

    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.fonts.keys().cloned().collect();
        names.sort();
        names
    }

    /// The first font of a comma-separated stack that is here.
    pub fn pick(&self, stack: &str) -> Option<(String, Arc<Vec<u8>>)> {
        stack
            .split(',')
            .map(str::trim)
            .find_map(|name| self.fonts.get(name).map(|f| (name.to_owned(), f.clone())))
    }

    /// A range already made, if it was.
    pub fn cached(&self, name: &str, start: u32) -> Option<Arc<Vec<u8>>> {
        self.ranges
            .lock()
            .expect("glyph cache")
            .get(&(name.to_owned(), start))
            .cloned()
    }

    /// Makes (CPU-bound: call it off the async workers) and keeps a range, gzipped.
    pub fn make(&self, name: &str, font: &[u8], start: u32) -> Result<Arc<Vec<u8>>, glyphs::Error> {
        let pbf = Arc::new(pmtiles::gzip(&glyphs::glyph_range(font, name, start)?));
        self.ranges
            .lock()
            .expect("glyph cache")
            .insert((name.to_owned(), start), pbf.clone());
        Ok(pbf)
    }
}
