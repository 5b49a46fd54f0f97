//! PMTiles version 3: a whole tile pyramid in one file (a fixed 127-byte header, a root
//! directory, JSON metadata, leaf directories, then the tile bytes). A city's basemap is written
//! into one at import and served from memory: one file to copy beside the service, readable by
//! range requests from any static host and by the PMTiles tools, no database and no SQLite.
//!
//! Tiles are addressed by a single id: the tiles of all lower zooms come first, and within a zoom
//! the tiles follow a Hilbert curve, so neighbours on the map are neighbours in the file.
//! Directories list runs of ids with their byte ranges; identical tiles are stored once.
use std::collections::HashMap;
use std::io::{Read, Write};

const MAGIC: &[u8; 7] = b"PMTiles";
const HEADER_LEN: usize = 127;
/// A client reads the first 16 KiB and expects header and root directory inside.
const ROOT_MAX: usize = 16_384 - HEADER_LEN;

/// Compression of the directories and of the tiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
}

impl Compression {
    fn code(self) -> u8 {
        match self {
            Compression::None => 1,
            Compression::Gzip => 2,
        }
    }

    fn from_code(c: u8) -> Result<Self, Error> {
        match c {
            1 => Ok(Compression::None),
            2 => Ok(Compression::Gzip),
            other => Err(Error::Unsupported(format!("compression {other}"))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Not a PMTiles v3 file, or cut short.
    Malformed(String),
    /// A feature of the format this reader does not implement (brotli, zstd).
    Unsupported(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Malformed(m) => write!(f, "not a valid PMTiles v3 file: {m}"),
            Error::Unsupported(m) => write!(f, "unsupported PMTiles feature: {m}"),
        }
    }
}

impl std::error::Error for Error {}

/// The id of tile z/x/y: every tile of the zooms below, then the Hilbert index within the zoom.
pub fn tile_id(z: u8, x: u32, y: u32) -> u64 {
    let base: u64 = (0..z as u32).map(|i| 1u64 << (2 * i)).sum();
    let mut d: u64 = 0;
    let (mut x, mut y) = (x as u64, y as u64);
    let mut s: u64 = (1u64 << z) >> 1;
    while s > 0 {
        let rx = u64::from(x & s > 0);
        let ry = u64::from(y & s > 0);
        d += s * s * ((3 * rx) ^ ry);
        // Rotate the quadrant so the curve continues.
        if ry == 0 {
            if rx == 1 {
                x = s - 1 - (x & (s - 1));
                y = s - 1 - (y & (s - 1));
            }
            std::mem::swap(&mut x, &mut y);
        }
        s >>= 1;
    }
    base + d
}

/// What the header says about the tiles, beside the layout.
#[derive(Debug, Clone, PartialEq)]
pub struct TileSetInfo {
    pub min_zoom: u8,
    pub max_zoom: u8,
    /// west, south, east, north in degrees.
    pub bounds: [f64; 4],
    pub center: [f64; 2],
    pub center_zoom: u8,
    pub tile_compression: Compression,
    /// 1 for Mapbox Vector Tiles.
    pub tile_type: u8,
}

/// Tiles waiting to be written, in any order.
pub struct Writer {
    info: TileSetInfo,
    metadata: String,
    tiles: Vec<(u64, Vec<u8>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    tile_id: u64,
    offset: u64,
    length: u32,
    /// How many consecutive ids share these bytes; 0 marks a pointer to a leaf directory.
    run_length: u32,
}

impl Writer {
    /// `metadata` is the JSON object stored beside the tiles (TileJSON-like: `vector_layers`,
    /// `attribution`, ...).
    pub fn new(info: TileSetInfo, metadata: String) -> Self {
        Self {
            info,
            metadata,
            tiles: Vec::new(),
        }
    }

    /// Adds a tile, already compressed as `info.tile_compression` says.
    pub fn add(&mut self, z: u8, x: u32, y: u32, bytes: Vec<u8>) {
        self.tiles.push((tile_id(z, x, y), bytes));
    }

    /// The whole file.
    pub fn finish(mut self) -> Vec<u8> {
        self.tiles.sort_by_key(|t| t.0);
        self.tiles.dedup_by_key(|t| t.0);
        let addressed = self.tiles.len() as u64;

        // Tile bytes in id order, identical contents stored once.
        let mut data: Vec<u8> = Vec::new();
        let mut seen: HashMap<&[u8], (u64, u32)> = HashMap::new();
        let mut entries: Vec<Entry> = Vec::new();
        for (id, bytes) in &self.tiles {
            let (offset, length) = *seen.entry(bytes.as_slice()).or_insert_with(|| {
                let at = data.len() as u64;
                data.extend_from_slice(bytes);
                (at, bytes.len() as u32)
            });
            match entries.last_mut() {
                Some(last)
                    if last.offset == offset
                        && last.length == length
                        && last.tile_id + last.run_length as u64 == *id =>
                {
                    last.run_length += 1
                }
                _ => entries.push(Entry {
                    tile_id: *id,
                    offset,
                    length,
                    run_length: 1,
                }),
            }
        }
        let contents = seen.len() as u64;

        let (root, leaves) = directories(&entries);
        let metadata = gzip(self.metadata.as_bytes());

        let root_offset = HEADER_LEN as u64;
        let metadata_offset = root_offset + root.len() as u64;
        let leaves_offset = metadata_offset + metadata.len() as u64;
        let data_offset = leaves_offset + leaves.len() as u64;

        let mut out = Vec::with_capacity(data_offset as usize + data.len());
        out.extend_from_slice(MAGIC);
        out.push(3);
        for v in [
            root_offset,
            root.len() as u64,
            metadata_offset,
            metadata.len() as u64,
            leaves_offset,
            leaves.len() as u64,
            data_offset,
            data.len() as u64,
            addressed,
            entries.len() as u64,
            contents,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        let info = &self.info;
        out.push(1); // clustered: tile bytes follow the ids
        out.push(Compression::Gzip.code()); // directories and metadata
        out.push(info.tile_compression.code());
        out.push(info.tile_type);
        out.push(info.min_zoom);
        out.push(info.max_zoom);
        for v in [
            info.bounds[0],
            info.bounds[1],
            info.bounds[2],
            info.bounds[3],
        ] {
            out.extend_from_slice(&e7(v).to_le_bytes());
        }
        out.push(info.center_zoom);
        out.extend_from_slice(&e7(info.center[0]).to_le_bytes());
        out.extend_from_slice(&e7(info.center[1]).to_le_bytes());
        debug_assert_eq!(out.len(), HEADER_LEN);
        out.extend_from_slice(&root);
        out.extend_from_slice(&metadata);
        out.extend_from_slice(&leaves);
        out.extend_from_slice(&data);
        out
    }
}

fn e7(deg: f64) -> i32 {
    (deg * 1e7).round() as i32
}

/// The root directory and the leaf directories: everything in the root when it fits in the
/// first 16 KiB, else leaves of growing size until the root of pointers fits.
fn directories(entries: &[Entry]) -> (Vec<u8>, Vec<u8>) {
    let root = gzip(&encode_directory(entries));
    if root.len() <= ROOT_MAX {
        return (root, Vec::new());
    }
    let mut leaf_size = 4096;
    loop {
        let mut leaves = Vec::new();
        let mut pointers = Vec::new();
        for chunk in entries.chunks(leaf_size) {
            let leaf = gzip(&encode_directory(chunk));
            pointers.push(Entry {
                tile_id: chunk[0].tile_id,
                offset: leaves.len() as u64,
                length: leaf.len() as u32,
                run_length: 0,
            });
            leaves.extend_from_slice(&leaf);
        }
        let root = gzip(&encode_directory(&pointers));
        if root.len() <= ROOT_MAX {
            return (root, leaves);
        }
        leaf_size *= 2;
    }
}

fn encode_directory(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    varint(&mut out, entries.len() as u64);
    let mut last = 0;
    for e in entries {
        varint(&mut out, e.tile_id - last);
        last = e.tile_id;
    }
    for e in entries {
        varint(&mut out, e.run_length as u64);
    }
    for e in entries {
        varint(&mut out, e.length as u64);
    }
    for (i, e) in entries.iter().enumerate() {
        // 0: right after the previous entry's bytes.
        match i.checked_sub(1).map(|p| &entries[p]) {
            Some(p) if e.offset == p.offset + p.length as u64 => varint(&mut out, 0),
            _ => varint(&mut out, e.offset + 1),
        }
    }
    out
}

fn decode_directory(bytes: &[u8]) -> Result<Vec<Entry>, Error> {
    let mut at = 0;
    let mut next = || read_varint(bytes, &mut at);
    let n = next()? as usize;
    if n > bytes.len() {
        return Err(Error::Malformed("directory entry count".into()));
    }
    let mut entries = vec![
        Entry {
            tile_id: 0,
            offset: 0,
            length: 0,
            run_length: 0
        };
        n
    ];
    let mut last: u64 = 0;
    for e in entries.iter_mut() {
        last = last
            .checked_add(next()?)
            .ok_or_else(|| Error::Malformed("tile id".into()))?;
        e.tile_id = last;
    }
    for e in entries.iter_mut() {
        e.run_length = u32::try_from(next()?).map_err(|_| Error::Malformed("run".into()))?;
    }
    for e in entries.iter_mut() {
        e.length = u32::try_from(next()?).map_err(|_| Error::Malformed("length".into()))?;
    }
    for i in 0..n {
        let v = next()?;
        entries[i].offset = match (v, i) {
            (0, 0) => return Err(Error::Malformed("first offset".into())),
            (0, _) => entries[i - 1]
                .offset
                .checked_add(entries[i - 1].length as u64)
                .ok_or_else(|| Error::Malformed("offset".into()))?,
            (v, _) => v - 1,
        };
    }
    Ok(entries)
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn read_varint(bytes: &[u8], at: &mut usize) -> Result<u64, Error> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let b = *bytes
            .get(*at)
            .ok_or_else(|| Error::Malformed("directory cut short".into()))?;
        *at += 1;
        v |= ((b & 0x7f) as u64) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(Error::Malformed("varint too long".into()))
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).expect("writing to memory");
    e.finish().expect("writing to memory")
}

pub fn gunzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out)?;
    Ok(out)
}

/// A PMTiles file in memory, its directories flattened into one sorted list.
pub struct Archive {
    bytes: Vec<u8>,
    data_offset: u64,
    entries: Vec<Entry>,
    pub info: TileSetInfo,
    /// The JSON metadata, decompressed.
    pub metadata: String,
}

impl Archive {
    pub fn open(bytes: Vec<u8>) -> Result<Self, Error> {
        if bytes.len() < HEADER_LEN || &bytes[..7] != MAGIC {
            return Err(Error::Malformed("no PMTiles header".into()));
        }
        if bytes[7] != 3 {
            return Err(Error::Unsupported(format!("version {}", bytes[7])));
        }
        let u = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        let i = |at: usize| i32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
        let internal = Compression::from_code(bytes[97])?;
        let slice = |offset: u64, len: u64, what: &str| -> Result<Vec<u8>, Error> {
            let end = offset
                .checked_add(len)
                .filter(|e| *e <= bytes.len() as u64)
                .ok_or_else(|| Error::Malformed(format!("{what} beyond the end")))?;
            let raw = &bytes[offset as usize..end as usize];
            match internal {
                Compression::None => Ok(raw.to_vec()),
                Compression::Gzip => {
                    gunzip(raw).map_err(|e| Error::Malformed(format!("{what}: {e}")))
                }
            }
        };
        let root = decode_directory(&slice(u(8), u(16), "root directory")?)?;
        let metadata = String::from_utf8(slice(u(24), u(32), "metadata")?)
            .map_err(|_| Error::Malformed("metadata is not UTF-8".into()))?;
        let (leaves_offset, leaves_len) = (u(40), u(48));
        let mut entries = Vec::new();
        for e in root {
            if e.run_length > 0 {
                entries.push(e);
                continue;
            }
            if e.offset.saturating_add(e.length as u64) > leaves_len {
                return Err(Error::Malformed("leaf directory beyond its section".into()));
            }
            for leaf in decode_directory(&slice(
                leaves_offset.saturating_add(e.offset),
                e.length as u64,
                "leaf",
            )?)? {
                if leaf.run_length == 0 {
                    return Err(Error::Unsupported(
                        "leaf directories nested deeper than one level".into(),
                    ));
                }
                entries.push(leaf);
            }
        }
        entries.sort_by_key(|e| e.tile_id);
        let data_offset = u(56);
        let data_len = u(64);
        if entries
            .iter()
            .any(|e| e.offset.saturating_add(e.length as u64) > data_len)
            || data_offset.saturating_add(data_len) > bytes.len() as u64
        {
            return Err(Error::Malformed("a tile lies beyond the tile data".into()));
        }
        let deg = |at: usize| i(at) as f64 / 1e7;
        let info = TileSetInfo {
            min_zoom: bytes[100],
            max_zoom: bytes[101],
            bounds: [deg(102), deg(106), deg(110), deg(114)],
            center_zoom: bytes[118],
            center: [deg(119), deg(123)],
            tile_compression: Compression::from_code(bytes[98])?,
            tile_type: bytes[99],
        };
        Ok(Self {
            bytes,
            data_offset,
            entries,
            info,
            metadata,
        })
    }

    /// The stored bytes of tile z/x/y (compressed as `info.tile_compression`), if there is one.
    pub fn get(&self, z: u8, x: u32, y: u32) -> Option<&[u8]> {
        if z > 31 || x >= (1u32 << z.min(31)) || y >= (1u32 << z.min(31)) {
            return None;
        }
        let id = tile_id(z, x, y);
        let at = self
            .entries
            .partition_point(|e| e.tile_id <= id)
            .checked_sub(1)?;
        let e = self.entries[at];
        if id >= e.tile_id.saturating_add(e.run_length as u64) {
            return None;
        }
        let start = (self.data_offset + e.offset) as usize;
        Some(&self.bytes[start..start + e.length as usize])
    }

    /// How many tiles the file addresses.
    pub fn len(&self) -> usize {
        self.entries.iter().map(|e| e.run_length as usize).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests;
