//! What the gazetteer takes from a basemap in the OpenMapTiles schema: named street lines
//! (`transportation_name`), house-number points (`housenumber`) and named points of interest
//! and places (`poi`, `place`), read from the vector tiles of one zoom level.
//!
//! Tiles are cut with a buffer, so a feature near a tile edge is in every tile it touches: the
//! reader merges street lines by name and drops repeated points (the same number within a metre,
//! the same place name within 50 m). One name can belong to streets in places far apart; lines
//! of one name are grouped by whether they come within [`Options::split_distance_m`] of each
//! other, and each group is a street of its own.
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::decode::{decode_only, DecodeError, Feature, Layer};
use crate::geometry::LocalMetres;
use crate::mercator::{from_unit, TileId};

use super::text::{display_number, fold};
use super::{Kind, Options};

/// Basemap layers the reader uses.
pub const LAYERS: [&str; 4] = ["transportation_name", "housenumber", "poi", "place"];

/// `transportation_name` classes that are streets residents give as addresses; rail lines,
/// platforms, ferries and the like are left out.
const STREET_CLASSES: &[(&str, u8)] = &[
    ("motorway", 3),
    ("trunk", 3),
    ("primary", 3),
    ("secondary", 3),
    ("tertiary", 3),
    ("minor", 2),
    ("pedestrian", 2),
    ("living_street", 2),
    ("residential", 2),
    ("unclassified", 2),
    ("busway", 1),
    ("service", 1),
    ("track", 1),
    ("path", 1),
    ("construction", 1),
];

/// `poi` classes and subclasses that are public-transport stops.
const STOP_CLASSES: &[&str] = &["bus", "bus_stop", "bus_station", "tram_stop", "tram"];

/// All lines of one street: one name, near each other.
#[derive(Clone, Debug, PartialEq)]
pub struct StreetLines {
    pub name: String,
    /// 3 main roads, 2 ordinary streets, 1 service roads, paths and tracks (the best class of
    /// any of its lines).
    pub class_rank: u8,
    /// Lines as lon/lat vertices.
    pub lines: Vec<Vec<[f64; 2]>>,
}

/// A house-number point of the basemap: the number only, no street.
#[derive(Clone, Debug, PartialEq)]
pub struct NumberPoint {
    /// As shown ([`super::text::display_number`]: "12A", "18/2A").
    pub number: String,
    pub lon: f64,
    pub lat: f64,
}

/// A named point: a point of interest, a stop, or a named area (neighbourhood, quarter).
#[derive(Clone, Debug, PartialEq)]
pub struct Place {
    pub name: String,
    /// [`Kind::Poi`] or [`Kind::Stop`].
    pub kind: Kind,
    /// The basemap's subclass or class ("pharmacy", "bus_stop"); for named areas of the `place`
    /// layer their class ("neighbourhood", "suburb").
    pub category: String,
    /// Whether it names an area (the `place` layer) rather than one building or object.
    pub area: bool,
    pub lon: f64,
    pub lat: f64,
}

/// Counts of what the reader saw and kept.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BasemapStats {
    pub tiles: usize,
    pub street_pieces: usize,
    pub street_names: usize,
    pub streets: usize,
    pub numbers_read: usize,
    pub numbers_repeated: usize,
    pub places_read: usize,
    pub places_repeated: usize,
}

/// The basemap's names, merged across tiles.
#[derive(Clone, Debug, Default)]
pub struct Basemap {
    pub streets: Vec<StreetLines>,
    pub numbers: Vec<NumberPoint>,
    pub places: Vec<Place>,
    pub stats: BasemapStats,
}

/// A street's pieces as read: its best class rank and its lines (lon/lat vertices).
type Pieces = (u8, Vec<Vec<[f64; 2]>>);

/// A name at a lon/lat.
type NamedPoint = (String, [f64; 2]);

/// Collects names from tiles, one tile at a time; [`BasemapReader::finish`] merges them.
#[derive(Debug, Default)]
pub struct BasemapReader {
    /// Name → (best class, pieces), in the order names were first seen.
    lines: HashMap<String, Pieces>,
    numbers: Vec<NumberPoint>,
    places: Vec<Place>,
    tiles: usize,
    pieces: usize,
}

fn name_of(f: &Feature) -> Option<&str> {
    ["name", "name:latin"]
        .iter()
        .find_map(|k| f.properties.get(*k).and_then(|v| v.as_str()))
        .map(str::trim)
        .filter(|n| !n.is_empty())
}

fn prop<'a>(f: &'a Feature, key: &str) -> &'a str {
    f.properties.get(key).and_then(|v| v.as_str()).unwrap_or("")
}

impl BasemapReader {
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads one encoded (uncompressed) tile.
    pub fn add_tile_bytes(&mut self, tile: TileId, bytes: &[u8]) -> Result<(), DecodeError> {
        let layers = decode_only(bytes, &LAYERS)?;
        self.add_tile(tile, &layers);
        Ok(())
    }

    /// Reads the layers of one decoded tile.
    pub fn add_tile(&mut self, tile: TileId, layers: &[Layer]) {
        self.tiles += 1;
        for layer in layers {
            let extent = layer.extent.max(1) as f64;
            let n = (1u64 << tile.z) as f64;
            let lonlat = |(x, y): (i32, i32)| {
                let (lon, lat) = from_unit(
                    (tile.x as f64 + x as f64 / extent) / n,
                    (tile.y as f64 + y as f64 / extent) / n,
                );
                [lon, lat]
            };
            for f in &layer.features {
                match (layer.name.as_str(), f.geom_type) {
                    ("transportation_name", 2) => {
                        let Some(name) = name_of(f) else { continue };
                        let class = prop(f, "class");
                        let subclass = prop(f, "subclass");
                        let Some(rank) = STREET_CLASSES
                            .iter()
                            .find(|(c, _)| *c == class || *c == subclass)
                            .map(|&(_, r)| r)
                        else {
                            continue;
                        };
                        let entry = self.lines.entry(name.to_string()).or_default();
                        entry.0 = entry.0.max(rank);
                        for part in f.parts.iter().filter(|p| p.len() >= 2) {
                            entry.1.push(part.iter().map(|&p| lonlat(p)).collect());
                            self.pieces += 1;
                        }
                    }
                    ("housenumber", 1) => {
                        let number = display_number(prop(f, "housenumber"));
                        if number.is_empty() {
                            continue;
                        }
                        for &p in f.parts.iter().flatten() {
                            let [lon, lat] = lonlat(p);
                            self.numbers.push(NumberPoint {
                                number: number.clone(),
                                lon,
                                lat,
                            });
                        }
                    }
                    (layer_name @ ("poi" | "place"), 1) => {
                        let Some(name) = name_of(f) else { continue };
                        let (class, subclass) = (prop(f, "class"), prop(f, "subclass"));
                        let area = layer_name == "place";
                        let stop = !area
                            && (STOP_CLASSES.contains(&class) || STOP_CLASSES.contains(&subclass));
                        let category = if subclass.is_empty() { class } else { subclass };
                        for &p in f.parts.iter().flatten() {
                            let [lon, lat] = lonlat(p);
                            self.places.push(Place {
                                name: name.to_string(),
                                kind: if stop { Kind::Stop } else { Kind::Poi },
                                category: category.to_string(),
                                area,
                                lon,
                                lat,
                            });
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// Merges what the tiles held: street lines by name (split into far-apart groups), house
    /// numbers and places without the repeats of neighbouring tiles.
    pub fn finish(self, options: &Options) -> Basemap {
        let proj = centre_of(
            self.numbers.iter().map(|n| [n.lon, n.lat]).chain(
                self.lines
                    .values()
                    .flat_map(|(_, p)| p.iter().flatten().copied()),
            ),
        );
        let mut stats = BasemapStats {
            tiles: self.tiles,
            street_pieces: self.pieces,
            street_names: self.lines.len(),
            numbers_read: self.numbers.len(),
            places_read: self.places.len(),
            ..Default::default()
        };
        let mut names: Vec<(String, Pieces)> = self.lines.into_iter().collect();
        names.sort_by(|a, b| a.0.cmp(&b.0));
        let mut streets = Vec::new();
        for (name, (class_rank, pieces)) in names {
            for lines in split_far_apart(pieces, &proj, options.split_distance_m) {
                streets.push(StreetLines {
                    name: name.clone(),
                    class_rank,
                    lines,
                });
            }
        }
        stats.streets = streets.len();

        let numbers = dedup_points(self.numbers, &proj, options.dedup_radius_m, |n| {
            (n.lon, n.lat, n.number.clone())
        });
        stats.numbers_repeated = stats.numbers_read - numbers.len();
        let places = dedup_points(self.places, &proj, 50.0, |p| {
            (p.lon, p.lat, format!("{:?}\u{0}{}", p.kind, fold(&p.name)))
        });
        stats.places_repeated = stats.places_read - places.len();
        Basemap {
            streets,
            numbers,
            places,
            stats,
        }
    }
}

/// A local projection around the middle of the bounding box of `points` (Kraków's centre when
/// there are none, so that an empty basemap still gives a usable projection).
pub(super) fn centre_of(points: impl Iterator<Item = [f64; 2]>) -> LocalMetres {
    let (mut min, mut max) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for p in points {
        for i in 0..2 {
            min[i] = min[i].min(p[i]);
            max[i] = max[i].max(p[i]);
        }
    }
    if min[0].is_finite() {
        LocalMetres::around((min[0] + max[0]) / 2.0, (min[1] + max[1]) / 2.0)
    } else {
        LocalMetres::around(19.94, 50.06)
    }
}

/// Keeps the first of the points that share a key and lie within `radius_m` of each other.
fn dedup_points<T>(
    points: Vec<T>,
    proj: &LocalMetres,
    radius_m: f64,
    key: impl Fn(&T) -> (f64, f64, String),
) -> Vec<T> {
    let cell = radius_m.max(0.01);
    let mut grid: HashMap<(i64, i64), Vec<NamedPoint>> = HashMap::new();
    let mut kept = Vec::with_capacity(points.len());
    for p in points {
        let (lon, lat, k) = key(&p);
        let c = proj.project(geo::Coord { x: lon, y: lat });
        let (cx, cy) = ((c.x / cell).floor() as i64, (c.y / cell).floor() as i64);
        let near = (-1..=1).any(|dx| {
            (-1..=1).any(|dy| {
                grid.get(&(cx + dx, cy + dy)).is_some_and(|v| {
                    v.iter()
                        .any(|(qk, q)| *qk == k && (q[0] - c.x).hypot(q[1] - c.y) <= radius_m)
                })
            })
        });
        if near {
            continue;
        }
        grid.entry((cx, cy)).or_default().push((k, [c.x, c.y]));
        kept.push(p);
    }
    kept
}

/// Distance in metres from point `p` to segment `a`–`b` (local metres).
pub(super) fn point_segment_m(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 {
        0.0
    } else {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0)
    };
    (p[0] - a[0] - t * dx).hypot(p[1] - a[1] - t * dy)
}

/// Groups the pieces of one name: two pieces are in one group when some vertex of one lies
/// within `gap_m` of the other (transitively).
fn split_far_apart(
    pieces: Vec<Vec<[f64; 2]>>,
    proj: &LocalMetres,
    gap_m: f64,
) -> Vec<Vec<Vec<[f64; 2]>>> {
    let local: Vec<Vec<[f64; 2]>> = pieces
        .iter()
        .map(|l| {
            l.iter()
                .map(|&[x, y]| {
                    let c = proj.project(geo::Coord { x, y });
                    [c.x, c.y]
                })
                .collect()
        })
        .collect();
    let boxes: Vec<[f64; 4]> = local
        .iter()
        .map(|l| {
            l.iter().fold(
                [
                    f64::INFINITY,
                    f64::INFINITY,
                    f64::NEG_INFINITY,
                    f64::NEG_INFINITY,
                ],
                |b, p| {
                    [
                        b[0].min(p[0]),
                        b[1].min(p[1]),
                        b[2].max(p[0]),
                        b[3].max(p[1]),
                    ]
                },
            )
        })
        .collect();
    let mut parent: Vec<usize> = (0..pieces.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for i in 0..pieces.len() {
        for j in i + 1..pieces.len() {
            let (a, b) = (boxes[i], boxes[j]);
            let gap = (a[0] - b[2])
                .max(b[0] - a[2])
                .max(0.0)
                .hypot((a[1] - b[3]).max(b[1] - a[3]).max(0.0));
            if gap > gap_m || root(&mut parent, i) == root(&mut parent, j) {
                continue;
            }
            let near = local[i].iter().any(|&p| {
                local[j]
                    .windows(2)
                    .any(|s| point_segment_m(p, s[0], s[1]) <= gap_m)
            }) || local[j].iter().any(|&p| {
                local[i]
                    .windows(2)
                    .any(|s| point_segment_m(p, s[0], s[1]) <= gap_m)
            });
            if near {
                let (ri, rj) = (root(&mut parent, i), root(&mut parent, j));
                parent[rj] = ri;
            }
        }
    }
    let mut groups: Vec<(usize, Vec<Vec<[f64; 2]>>)> = Vec::new();
    for (i, piece) in pieces.into_iter().enumerate() {
        let r = root(&mut parent, i);
        match groups.iter_mut().find(|(g, _)| *g == r) {
            Some((_, g)) => g.push(piece),
            None => groups.push((r, vec![piece])),
        }
    }
    groups.into_iter().map(|(_, g)| g).collect()
}

/// The z-level tiles of a `{z}/{x}/{y}.pbf` folder, sorted (the only function of the gazetteer
/// that touches the file system; reading and decoding the files is the caller's).
pub fn basemap_tiles(dir: &Path, z: u8) -> std::io::Result<Vec<(TileId, PathBuf)>> {
    let mut out = Vec::new();
    let zdir = dir.join(z.to_string());
    for x in std::fs::read_dir(&zdir)? {
        let x = x?;
        let Some(xi) = x.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        for y in std::fs::read_dir(x.path())? {
            let path = y?.path();
            let Some(yi) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".pbf").or_else(|| n.strip_suffix(".mvt")))
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            if let Some(t) = TileId::new(z, xi, yi) {
                out.push((t, path));
            }
        }
    }
    out.sort();
    Ok(out)
}
