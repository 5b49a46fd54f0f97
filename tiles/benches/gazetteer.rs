//! Benchmark of the address gazetteer on the real OpenStreetMap basemap of Kraków (the z14 tiles
//! the service imports, with the city's 18 districts), each lookup beside a plain linear scan
//! measured in the same run:
//!
//! * building: reading the tile files, decoding them, collecting and merging their names
//!   (`BasemapReader`), and `Gazetteer::build`, each timed on its own; the bytes the built index
//!   holds, per address, counted by a global allocator that wraps the system one;
//! * forward search: p50 / p99 / max of `search(q, 5)` over a few thousand queries drawn from the
//!   index itself (streets with and without numbers, "12 Floriańska", lowercase, no diacritics,
//!   "ul.", one typo, a half-typed last word, "Floriańskiej"), beside a scan of every label for
//!   the query's words as substrings;
//! * reverse lookup: p50 / p99 / max of `reverse(lon, lat)` at random points of the city's bbox,
//!   beside a scan of every address point for the nearest;
//! * accuracy: a tenth of the house-number points held out, the index built without them, and
//!   "<street> <number>" searched for each: how often the answer lies within 25 m and 100 m of
//!   the true point.
//!
//!   cargo bench -p zglos-tiles --bench gazetteer
//!   ZGLOS_BASEMAP_TILES=/path/to/basemap-osm cargo bench -p zglos-tiles --bench gazetteer
//!
//! The tiles are read from `ZGLOS_BASEMAP_TILES`, else from `../shared/data/krakow/basemap-osm`
//! beside the repository (as the city pack names them); the districts from `ZGLOS_DISTRICTS`,
//! else `krakow_dzielnice.geojson` next to the tile folder. Memory is the bytes requested from
//! the allocator and not yet freed (not the allocator's own overhead, not RSS).
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use geo::Contains;
use geo_types::{Geometry, MultiPolygon};
use rand::{rngs::StdRng, seq::SliceRandom, Rng, SeedableRng};
use zglos_tiles::decode::decode_only;
use zglos_tiles::districts::{District, DistrictIndex};
use zglos_tiles::gazetteer::{
    basemap_tiles, BasemapReader, Gazetteer, Hit, Inputs, Kind, Note, Options, Reverse, LAYERS,
};
use zglos_tiles::mercator::{to_unit, TileId};
use zglos_tiles::LocalMetres;

/// The system allocator, counting the bytes live and the most ever live.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(n: usize) {
    let now = LIVE.fetch_add(n, Relaxed) + n;
    PEAK.fetch_max(now, Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        LIVE.fetch_sub(layout.size(), Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn live() -> usize {
    LIVE.load(Relaxed)
}

const ZOOM: u8 = 14;
/// The city's bbox: west, south, east, north.
const BBOX: [f64; 4] = [19.79, 49.96, 20.22, 50.13];
const LIMIT: usize = 5;
const FORWARD_TARGET_P99: Duration = Duration::from_millis(5);
const REVERSE_TARGET_P99: Duration = Duration::from_micros(50);

fn tiles_dir() -> PathBuf {
    std::env::var_os("ZGLOS_BASEMAP_TILES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/krakow/basemap-osm")
        })
}

fn districts_file(tiles: &Path) -> PathBuf {
    std::env::var_os("ZGLOS_DISTRICTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| tiles.join("../krakow_dzielnice.geojson"))
}

fn read_districts(path: &Path) -> Vec<District> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let gj: geojson::GeoJson = text.parse().expect("districts: not GeoJSON");
    let geojson::GeoJson::FeatureCollection(fc) = gj else {
        panic!("districts: expected a FeatureCollection");
    };
    fc.features
        .into_iter()
        .map(|f| {
            let text = |k: &str| {
                f.property(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string()
            };
            let id = f.property("id").and_then(|v| v.as_i64()).unwrap_or(0) as i32;
            let g: Geometry<f64> = f
                .geometry
                .clone()
                .expect("a district without geometry")
                .try_into()
                .expect("a district geometry geo cannot read");
            let geometry = match g {
                Geometry::Polygon(p) => MultiPolygon(vec![p]),
                Geometry::MultiPolygon(mp) => mp,
                other => panic!("district {id}: not a polygon: {other:?}"),
            };
            District {
                id,
                code: text("roman"),
                name: text("name"),
                geometry,
            }
        })
        .collect()
}

struct Latency {
    n: usize,
    p50: Duration,
    p99: Duration,
    max: Duration,
}

fn latency(mut samples: Vec<Duration>) -> Latency {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    Latency {
        n: samples.len(),
        p50: at(0.5),
        p99: at(0.99),
        max: *samples.last().unwrap(),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
}

fn us(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e6)
}

fn mb(bytes: usize) -> String {
    format!("{:.1}", bytes as f64 / 1e6)
}

fn pct(n: usize, of: usize) -> String {
    format!("{:.1}%", 100.0 * n as f64 / of.max(1) as f64)
}

/// Great-circle distance in metres.
fn haversine_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, la2) = (a.1.to_radians(), b.1.to_radians());
    let (dla, dlo) = ((b.1 - a.1).to_radians(), (b.0 - a.0).to_radians());
    let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * h.sqrt().asin()
}

/// Polish (and a few other) letters without their diacritics, case kept.
fn strip_diacritics(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'ą' => 'a',
            'Ą' => 'A',
            'ć' => 'c',
            'Ć' => 'C',
            'ę' => 'e',
            'Ę' => 'E',
            'ł' => 'l',
            'Ł' => 'L',
            'ń' => 'n',
            'Ń' => 'N',
            'ó' => 'o',
            'Ó' => 'O',
            'ś' => 's',
            'Ś' => 'S',
            'ź' | 'ż' => 'z',
            'Ź' | 'Ż' => 'Z',
            'á' | 'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' | 'ě' => 'e',
            'í' | 'î' => 'i',
            'ö' | 'ô' => 'o',
            'ü' | 'ú' | 'ů' => 'u',
            'č' => 'c',
            'š' => 's',
            'ž' => 'z',
            'ř' => 'r',
            c => c,
        })
        .collect()
}

fn fold(s: &str) -> String {
    strip_diacritics(&s.to_lowercase())
}

/// The words of a folded text, split at anything but letters, digits and the slash of "12/3".
fn words(folded: &str) -> Vec<&str> {
    folded
        .split(|c: char| !(c.is_alphanumeric() || c == '/'))
        .filter(|w| !w.is_empty())
        .collect()
}

/// An address as the full index has it: a basemap number point and the street the gazetteer
/// gives it.
#[derive(Clone)]
struct Addr {
    /// Index in `Basemap::numbers`.
    point: usize,
    street: String,
    number: String,
    lon: f64,
    lat: f64,
}

/// What each kind of query looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variant {
    Street,
    StreetNumber,
    NumberStreet,
    Lowercase,
    NoDiacritics,
    UlPrefix,
    Typo,
    TypeAhead,
    Declined,
}

const VARIANTS: [(Variant, &str); 9] = [
    (Variant::Street, "street (\"Floriańska\")"),
    (
        Variant::StreetNumber,
        "street and number (\"Floriańska 12\")",
    ),
    (Variant::NumberStreet, "number first (\"12 Floriańska\")"),
    (Variant::Lowercase, "lowercase (\"floriańska 12\")"),
    (Variant::NoDiacritics, "no diacritics (\"florianska 12\")"),
    (Variant::UlPrefix, "\"ul.\" prefix (\"ul. Floriańska 12\")"),
    (
        Variant::Typo,
        "one typo (\"Florainska\", half with a number)",
    ),
    (Variant::TypeAhead, "half-typed last word (\"Floria\")"),
    (
        Variant::Declined,
        "declined (\"ul. Floriańskiej\", half with a number)",
    ),
];

struct Query {
    variant: Variant,
    text: String,
    street: String,
    number: Option<String>,
}

const TYPE_WORDS: &[&str] = &[
    "ul", "ulica", "al", "aleja", "aleje", "os", "osiedle", "pl", "plac", "rondo", "park",
    "bulwar", "skwer", "most",
];

fn has_type_word(name: &str) -> bool {
    words(&fold(name))
        .first()
        .is_some_and(|w| TYPE_WORDS.contains(w))
}

/// One edit (substitution, deletion, insertion or swap of neighbours) in the longest word of
/// `name`, not at its first letter; None when no word has five letters.
fn with_typo(name: &str, rng: &mut StdRng) -> Option<String> {
    let mut ws: Vec<Vec<char>> = name.split(' ').map(|w| w.chars().collect()).collect();
    let (i, _) = ws
        .iter()
        .enumerate()
        .filter(|(_, w)| w.len() >= 5 && w.iter().all(|c| c.is_alphabetic()))
        .max_by_key(|(_, w)| w.len())?;
    let w = &mut ws[i];
    let at = rng.gen_range(1..w.len() - 1);
    let op = rng.gen_range(0..4);
    let mut letter = (b'a' + rng.gen_range(0..26u8)) as char;
    match op {
        0 => {
            while w[at].to_lowercase().eq(letter.to_lowercase()) {
                letter = (b'a' + rng.gen_range(0..26u8)) as char;
            }
            w[at] = letter;
        }
        1 => {
            w.remove(at);
        }
        2 => w.insert(at, letter),
        _ => {
            if w[at] == w[at + 1] {
                w.remove(at);
            } else {
                w.swap(at, at + 1);
            }
        }
    }
    Some(
        ws.iter()
            .map(|w| w.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// The genitive of a name's feminine adjectives ("Floriańska" → "Floriańskiej", "Nowa" →
/// "Nowej", "Różana" → "Różanej"); None when the name has none.
fn declined(name: &str) -> Option<String> {
    let mut any = false;
    let out: Vec<String> = name
        .split(' ')
        .map(|w| {
            let lower = w.to_lowercase();
            let starts_upper = w.chars().next().is_some_and(char::is_uppercase);
            let rule = [
                ("ska", "skiej"),
                ("cka", "ckiej"),
                ("owa", "owej"),
                ("na", "nej"),
            ]
            .iter()
            .find(|(end, _)| lower.ends_with(end) && lower.chars().count() > end.len() + 2);
            match rule {
                Some((end, to)) if starts_upper => {
                    any = true;
                    format!("{}{}", &w[..w.len() - end.len()], to)
                }
                _ => w.to_string(),
            }
        })
        .collect();
    any.then(|| out.join(" "))
}

fn make_queries(
    n_per_variant: usize,
    streets: &[String],
    addrs: &[Addr],
    rng: &mut StdRng,
) -> Vec<Query> {
    let with_diacritics: Vec<&Addr> = addrs
        .iter()
        .filter(|a| strip_diacritics(&a.street) != a.street)
        .collect();
    let plain_named: Vec<&Addr> = addrs.iter().filter(|a| !has_type_word(&a.street)).collect();
    let declinable: Vec<(&Addr, String)> = addrs
        .iter()
        .filter_map(|a| declined(&a.street).map(|d| (a, d)))
        .collect();
    let mut out = Vec::new();
    for (variant, _) in VARIANTS {
        let mut made = 0;
        let mut tries = 0;
        while made < n_per_variant && tries < n_per_variant * 50 {
            tries += 1;
            let a = &addrs[rng.gen_range(0..addrs.len())];
            let s = &streets[rng.gen_range(0..streets.len())];
            let with_number = rng.gen_bool(0.5);
            let q = match variant {
                Variant::Street => Some((s.clone(), s.clone(), None)),
                Variant::StreetNumber => Some((
                    format!("{} {}", a.street, a.number),
                    a.street.clone(),
                    Some(a.number.clone()),
                )),
                Variant::NumberStreet => Some((
                    format!("{} {}", a.number, a.street),
                    a.street.clone(),
                    Some(a.number.clone()),
                )),
                Variant::Lowercase => Some((
                    format!("{} {}", a.street, a.number).to_lowercase(),
                    a.street.clone(),
                    Some(a.number.clone()),
                )),
                Variant::NoDiacritics => {
                    let a = with_diacritics
                        .get(rng.gen_range(0..with_diacritics.len().max(1)))
                        .copied()
                        .unwrap_or(a);
                    Some((
                        fold(&format!("{} {}", a.street, a.number)),
                        a.street.clone(),
                        Some(a.number.clone()),
                    ))
                }
                Variant::UlPrefix => {
                    let a = plain_named
                        .get(rng.gen_range(0..plain_named.len().max(1)))
                        .copied()
                        .unwrap_or(a);
                    Some((
                        format!("ul. {} {}", a.street, a.number),
                        a.street.clone(),
                        Some(a.number.clone()),
                    ))
                }
                Variant::Typo => {
                    if with_number {
                        with_typo(&a.street, rng).map(|t| {
                            (
                                format!("{t} {}", a.number),
                                a.street.clone(),
                                Some(a.number.clone()),
                            )
                        })
                    } else {
                        with_typo(s, rng).map(|t| (t, s.clone(), None))
                    }
                }
                Variant::TypeAhead => {
                    let chars: Vec<char> = s.chars().collect();
                    let last_start = s.rfind(' ').map(|i| s[..i].chars().count() + 1);
                    let start = last_start.unwrap_or(0);
                    let last_len = chars.len() - start;
                    (last_len >= 3).then(|| {
                        let keep = rng.gen_range(2..last_len);
                        (
                            chars[..start + keep].iter().collect(),
                            s.clone(),
                            None::<String>,
                        )
                    })
                }
                Variant::Declined => declinable
                    .get(rng.gen_range(0..declinable.len().max(1)))
                    .map(|(a, d)| {
                        let ul = if rng.gen_bool(0.5) { "ul. " } else { "" };
                        if with_number {
                            (
                                format!("{ul}{d} {}", a.number),
                                a.street.clone(),
                                Some(a.number.clone()),
                            )
                        } else {
                            (format!("{ul}{d}"), a.street.clone(), None)
                        }
                    }),
            };
            if let Some((text, street, number)) = q {
                out.push(Query {
                    variant,
                    text,
                    street,
                    number,
                });
                made += 1;
            }
        }
    }
    out
}

/// Whether `hit` is what `q` was written for: its street, and its number when it had one.
fn is_meant(hit: &Hit, q: &Query) -> bool {
    hit.street.as_deref() == Some(q.street.as_str())
        && match &q.number {
            Some(n) => hit.kind == Kind::Address && hit.number.as_deref() == Some(n.as_str()),
            None => hit.kind == Kind::Street,
        }
}

/// The peer of forward search: every label folded once, and a query matches a label when each
/// of its folded words is a substring of it; the shortest matching labels first.
struct LabelScan {
    labels: Vec<(String, String)>,
}

impl LabelScan {
    fn search(&self, query: &str, limit: usize) -> Vec<&str> {
        let q = fold(query);
        let ws = words(&q);
        if ws.is_empty() {
            return Vec::new();
        }
        let mut found: Vec<&(String, String)> = self
            .labels
            .iter()
            .filter(|(folded, _)| ws.iter().all(|w| folded.contains(w)))
            .collect();
        found.sort_by_key(|(f, _)| f.len());
        found.truncate(limit);
        found.into_iter().map(|(_, l)| l.as_str()).collect()
    }
}

/// The peer of reverse lookup: the nearest of all address points, by a scan.
struct PointScan {
    points: Vec<[f64; 2]>,
    proj: LocalMetres,
}

impl PointScan {
    fn nearest(&self, lon: f64, lat: f64) -> Option<(usize, f64)> {
        let c = self.proj.project(geo_types::Coord { x: lon, y: lat });
        let mut best = (usize::MAX, f64::INFINITY);
        for (i, p) in self.points.iter().enumerate() {
            let d = (p[0] - c.x).powi(2) + (p[1] - c.y).powi(2);
            if d < best.1 {
                best = (i, d);
            }
        }
        (best.0 != usize::MAX).then(|| (best.0, best.1.sqrt()))
    }
}

/// The projection the gazetteer builds with: around the middle of the bbox of the basemap's
/// street vertices and numbers.
fn projection_of(inputs: &Inputs) -> LocalMetres {
    let (mut min, mut max) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    let basemap = &inputs.basemap;
    let points = basemap
        .streets
        .iter()
        .flat_map(|s| s.lines.iter().flatten().copied())
        .chain(basemap.numbers.iter().map(|n| [n.lon, n.lat]));
    for p in points {
        for i in 0..2 {
            min[i] = min[i].min(p[i]);
            max[i] = max[i].max(p[i]);
        }
    }
    LocalMetres::around((min[0] + max[0]) / 2.0, (min[1] + max[1]) / 2.0)
}

fn build_measured(inputs: &Inputs, options: &Options) -> (Gazetteer, Duration, usize, usize) {
    let before = live();
    let copy = inputs.clone();
    let with_inputs = live();
    PEAK.store(with_inputs, Relaxed);
    let t = Instant::now();
    let g = Gazetteer::build(copy, options);
    let took = t.elapsed();
    let held = live() - before;
    let peak_extra = PEAK.load(Relaxed) - with_inputs;
    (g, took, held, peak_extra)
}

fn median_and_fastest(v: &mut [Duration]) -> (Duration, Duration) {
    v.sort();
    (v[v.len() / 2], v[0])
}

/// Reads, decodes and merges the tiles, builds the index `reps` times; prints the timings and
/// the memory. Returns the inputs and the first index built.
fn build_section(
    tiles: &[(TileId, PathBuf)],
    districts: Vec<District>,
    options: &Options,
    reps: usize,
) -> (Inputs, Gazetteer) {
    let t = Instant::now();
    let bytes: Vec<(TileId, Vec<u8>)> = tiles
        .iter()
        .map(|(id, path)| (*id, std::fs::read(path).expect("a tile file")))
        .collect();
    let t_read = t.elapsed();
    let total_bytes: usize = bytes.iter().map(|(_, b)| b.len()).sum();
    let (mut t_decode, mut t_collect, mut t_merge) = (Vec::new(), Vec::new(), Vec::new());
    let mut basemap = None;
    for _ in 0..reps {
        let t = Instant::now();
        let decoded: Vec<_> = bytes
            .iter()
            .map(|(id, b)| (*id, decode_only(b, &LAYERS).expect("a readable tile")))
            .collect();
        t_decode.push(t.elapsed());
        let t = Instant::now();
        let mut reader = BasemapReader::new();
        for (id, layers) in &decoded {
            reader.add_tile(*id, layers);
        }
        t_collect.push(t.elapsed());
        drop(decoded);
        let t = Instant::now();
        basemap = Some(reader.finish(&Options::default()));
        t_merge.push(t.elapsed());
    }
    let inputs = Inputs {
        basemap: basemap.unwrap(),
        stops: Vec::new(),
        districts,
        official: Vec::new(),
    };
    let before = live();
    let copy = inputs.clone();
    let inputs_bytes = live() - before;
    drop(copy);
    let mut t_build = Vec::new();
    let mut first = None;
    for _ in 0..reps {
        let (g, took, held, peak) = build_measured(&inputs, options);
        t_build.push(took);
        if first.is_none() {
            first = Some((g, held, peak));
        }
    }
    let (g, held, peak) = first.unwrap();
    let before = live();
    let district_index = DistrictIndex::new(inputs.districts.clone(), projection_of(&inputs));
    let district_bytes = live() - before;
    drop(district_index);

    let st = g.stats();
    println!(
        "\nindex: {} streets, {} addresses, {} entries ({} points of interest and areas, {} \
         stops, {} districts), {} words; basemap: {} street names, {} number points read, {} \
         repeats dropped, {} numbers without a street within 150 m dropped",
        g.street_count(),
        g.address_count(),
        st.entries,
        st.pois,
        st.stops,
        st.districts,
        st.vocabulary,
        st.basemap.street_names,
        st.basemap.numbers_read,
        st.basemap.numbers_repeated,
        st.numbers_without_street,
    );
    println!("\nbuilding the whole index ({reps} runs: median, fastest)");
    println!("| step | median s | fastest s |");
    println!("|---|---:|---:|");
    println!(
        "| read {} tile files ({} MB; once) | {:.3} | |",
        bytes.len(),
        mb(total_bytes),
        t_read.as_secs_f64()
    );
    for (name, v) in [
        ("decode the 4 layers used (decode_only)", &mut t_decode),
        ("collect names (BasemapReader::add_tile)", &mut t_collect),
        ("merge across tiles (BasemapReader::finish)", &mut t_merge),
        ("Gazetteer::build", &mut t_build),
    ] {
        let (m, f) = median_and_fastest(v);
        println!(
            "| {name} | {:.3} | {:.3} |",
            m.as_secs_f64(),
            f.as_secs_f64()
        );
    }
    let n = g.address_count() as f64;
    println!("\nmemory: bytes requested from the allocator and not freed");
    println!("| what | MB | bytes per address |");
    println!("|---|---:|---:|");
    for (what, bytes) in [
        ("the built index", held),
        (
            "of which the district index (polygons in lon/lat and local metres)",
            district_bytes,
        ),
        ("the inputs (merged basemap and districts)", inputs_bytes),
        ("build's transient peak above its inputs", peak),
    ] {
        println!("| {what} | {} | {:.0} |", mb(bytes), bytes as f64 / n);
    }
    println!(
        "index per entry ({} entries): {:.0} bytes",
        st.entries,
        held as f64 / st.entries as f64
    );
    (inputs, g)
}

/// Times `search(q, 5)` on queries of every variant and beside the label scan; returns the
/// latency over all of them and the peer's ratio at p50.
fn forward_section(
    g: &Gazetteer,
    inputs: &Inputs,
    streets: &[String],
    addrs: &[Addr],
    quick: bool,
) -> (Latency, f64) {
    let mut rng = StdRng::seed_from_u64(2024);
    let per_variant = if quick { 10 } else { 500 };
    let queries = make_queries(per_variant, streets, addrs, &mut rng);
    for q in make_queries(20, streets, addrs, &mut StdRng::seed_from_u64(1)) {
        black_box(g.search(&q.text, LIMIT));
    }
    let t_overhead = {
        let t = Instant::now();
        for _ in 0..1000 {
            black_box(Instant::now());
        }
        t.elapsed() / 1000
    };
    let mut samples = Vec::with_capacity(queries.len());
    let mut top1 = vec![0usize; VARIANTS.len()];
    let mut top5 = vec![0usize; VARIANTS.len()];
    let mut empty = vec![0usize; VARIANTS.len()];
    let mut per: Vec<Vec<Duration>> = vec![Vec::new(); VARIANTS.len()];
    for q in &queries {
        let t = Instant::now();
        let hits = g.search(&q.text, LIMIT);
        let took = t.elapsed();
        let vi = VARIANTS.iter().position(|(v, _)| *v == q.variant).unwrap();
        samples.push(took);
        per[vi].push(took);
        top1[vi] += usize::from(hits.first().is_some_and(|h| is_meant(h, q)));
        top5[vi] += usize::from(hits.iter().any(|h| is_meant(h, q)));
        empty[vi] += usize::from(hits.is_empty());
        black_box(hits);
    }
    let fwd = latency(samples.clone());
    println!(
        "\nforward search, search(q, {LIMIT}), {} queries drawn from the index (timer overhead \
         {} ns a call); \"meant\": the street, or the address with that number",
        queries.len(),
        t_overhead.as_nanos()
    );
    println!(
        "| queries | n | p50 ms | p99 ms | max ms | meant hit first | in top {LIMIT} | no hit |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (vi, (_, name)) in VARIANTS.iter().enumerate() {
        let n = per[vi].len();
        if n == 0 {
            continue;
        }
        let l = latency(per[vi].clone());
        println!(
            "| {name} | {n} | {} | {} | {} | {} | {} | {} |",
            ms(l.p50),
            ms(l.p99),
            ms(l.max),
            pct(top1[vi], n),
            pct(top5[vi], n),
            empty[vi]
        );
    }
    println!(
        "| **all** | {} | **{}** | **{}** | {} | {} | {} | {} |",
        fwd.n,
        ms(fwd.p50),
        ms(fwd.p99),
        ms(fwd.max),
        pct(top1.iter().sum(), fwd.n),
        pct(top5.iter().sum(), fwd.n),
        empty.iter().sum::<usize>()
    );
    let mut slowest: Vec<(Duration, &Query)> = samples.iter().copied().zip(&queries).collect();
    slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
    println!("slowest queries, each run again 5 times (the fastest of the 5):");
    for (took, q) in slowest.iter().take(8) {
        let again = (0..5)
            .map(|_| {
                let t = Instant::now();
                black_box(g.search(&q.text, LIMIT));
                t.elapsed()
            })
            .min()
            .unwrap();
        println!(
            "  {:?} ({:?}): {} ms, again {} ms",
            q.text,
            q.variant,
            ms(*took),
            ms(again)
        );
    }

    // The peer, on every k-th query (a scan costs milliseconds).
    let scan = LabelScan {
        labels: addrs
            .iter()
            .map(|a| format!("{} {}", a.street, a.number))
            .chain(streets.iter().cloned())
            .chain(inputs.basemap.places.iter().map(|p| p.name.clone()))
            .chain(inputs.districts.iter().map(|d| d.name.clone()))
            .map(|l| (fold(&l), l))
            .collect(),
    };
    let step = if quick { 3 } else { 6 };
    let (mut ours, mut peer) = (Vec::new(), Vec::new());
    let (mut ours_found, mut peer_found) = (0, 0);
    for q in queries.iter().step_by(step) {
        let t = Instant::now();
        let hits = g.search(&q.text, LIMIT);
        ours.push(t.elapsed());
        ours_found += usize::from(hits.iter().any(|h| is_meant(h, q)));
        let t = Instant::now();
        let found = scan.search(&q.text, LIMIT);
        peer.push(t.elapsed());
        let meant = match &q.number {
            Some(n) => format!("{} {n}", q.street),
            None => q.street.clone(),
        };
        peer_found += usize::from(found.contains(&meant.as_str()));
    }
    let (ours, peer) = (latency(ours), latency(peer));
    println!(
        "\nforward peer: a scan of all {} labels (addresses, streets, places, districts; folded \
         once beforehand) for the labels that hold every folded query word, shortest first; on \
         every {step}th query ({}), each timed for both",
        scan.labels.len(),
        ours.n
    );
    println!("| | p50 ms | p99 ms | max ms | meant hit in top {LIMIT} |");
    println!("|---|---:|---:|---:|---:|");
    for (name, l, found) in [
        ("gazetteer", &ours, ours_found),
        ("label scan", &peer, peer_found),
    ] {
        println!(
            "| {name} | {} | {} | {} | {} |",
            ms(l.p50),
            ms(l.p99),
            ms(l.max),
            pct(found, l.n)
        );
    }
    let ratio = peer.p50.as_secs_f64() / ours.p50.as_secs_f64();
    println!(
        "scan ÷ gazetteer: {ratio:.0}× at p50, {:.0}× at p99",
        peer.p99.as_secs_f64() / ours.p99.as_secs_f64()
    );
    (fwd, ratio)
}

/// Times `reverse` at random points of the bbox, its parts, and the point scan; returns the
/// latency over all points and the peer's ratio at p50.
fn reverse_section(
    g: &Gazetteer,
    inputs: &Inputs,
    addrs: &[Addr],
    options: &Options,
    quick: bool,
) -> (Latency, f64) {
    let n_points = if quick { 2_000 } else { 100_000 };
    let mut rng = StdRng::seed_from_u64(7);
    let points: Vec<(f64, f64)> = (0..n_points)
        .map(|_| {
            (
                rng.gen_range(BBOX[0]..BBOX[2]),
                rng.gen_range(BBOX[1]..BBOX[3]),
            )
        })
        .collect();
    for &(lon, lat) in points.iter().take(1000) {
        black_box(g.reverse(lon, lat));
    }
    let mut samples = Vec::with_capacity(points.len());
    let mut tiers = [0usize; 4];
    for &(lon, lat) in &points {
        let t = Instant::now();
        let r = g.reverse(lon, lat);
        samples.push(t.elapsed());
        tiers[match r {
            Reverse::Address { .. } => 0,
            Reverse::NearStreet { .. } => 1,
            Reverse::District { .. } => 2,
            Reverse::Nothing => 3,
        }] += 1;
        black_box(r);
    }
    let rev = latency(samples);
    let part = |f: &dyn Fn(f64, f64)| {
        latency(
            points
                .iter()
                .map(|&(lon, lat)| {
                    let t = Instant::now();
                    f(lon, lat);
                    t.elapsed()
                })
                .collect(),
        )
    };
    let proj = projection_of(inputs);
    let districts = DistrictIndex::new(inputs.districts.clone(), proj);
    let street_part = part(&|lon, lat| {
        black_box(g.nearest_street(lon, lat, options.reverse_street_m));
    });
    let district_part = part(&|lon, lat| {
        let p = geo_types::Point::new(lon, lat);
        black_box(
            districts
                .in_bbox([lon, lat], [lon, lat])
                .find(|d| d.geometry.contains(&p))
                .map(|d| d.name.clone()),
        );
    });
    let locate_part = part(&|lon, lat| {
        black_box(districts.locate(geo_types::Point::new(lon, lat)));
    });
    println!(
        "\nreverse lookup, {} random points of the bbox {:?}: {} addresses ({}), {} near a \
         street, {} district only, {} nothing (outside the city)",
        points.len(),
        BBOX,
        tiers[0],
        pct(tiers[0], points.len()),
        tiers[1],
        tiers[2],
        tiers[3]
    );
    let scan = PointScan {
        points: addrs
            .iter()
            .map(|a| {
                let c = proj.project(geo_types::Coord { x: a.lon, y: a.lat });
                [c.x, c.y]
            })
            .collect(),
        proj,
    };
    let peer_points = if quick { 200 } else { 2_000 };
    let (mut ours, mut peer) = (Vec::new(), Vec::new());
    let (mut agree, mut compared) = (0, 0);
    for &(lon, lat) in points.iter().take(peer_points) {
        let t = Instant::now();
        let r = g.reverse(lon, lat);
        ours.push(t.elapsed());
        let t = Instant::now();
        let nearest = scan.nearest(lon, lat);
        peer.push(t.elapsed());
        // Within 50 m both must name the same point (or one at the same distance).
        let peer_addr = nearest.filter(|&(_, d)| d <= options.reverse_address_m);
        match (&r, peer_addr) {
            (Reverse::Address { distance_m, .. }, Some((_, d))) => {
                compared += 1;
                agree += usize::from((distance_m - d).abs() < 0.01);
            }
            (Reverse::Address { .. }, None) | (_, Some(_)) => compared += 1,
            _ => {}
        }
    }
    let (ours, peer) = (latency(ours), latency(peer));
    println!("| | n | p50 µs | p99 µs | max µs |");
    println!("|---|---:|---:|---:|---:|");
    let rows = [
        ("gazetteer, reverse(lon, lat)".to_string(), &rev),
        (
            "its street step alone: nearest_street within 500 m".to_string(),
            &street_part,
        ),
        (
            "its district step alone: the district's name by point-in-polygon (every answer \
             but the district one names it too)"
                .to_string(),
            &district_part,
        ),
        (
            "for comparison: DistrictIndex::locate, which also measures the border distance"
                .to_string(),
            &locate_part,
        ),
        (format!("gazetteer, the first {peer_points} points"), &ours),
        (
            format!(
                "scan of all {} address points for the nearest, the same {peer_points}",
                scan.points.len()
            ),
            &peer,
        ),
    ];
    for (name, l) in rows {
        println!(
            "| {name} | {} | {} | {} | {} |",
            l.n,
            us(l.p50),
            us(l.p99),
            us(l.max)
        );
    }
    let ratio = peer.p50.as_secs_f64() / ours.p50.as_secs_f64();
    println!(
        "scan ÷ gazetteer: {ratio:.0}× at p50, {:.0}× at p99; where either found an address \
         within 50 m, both found one at the same distance in {agree} of {compared}",
        peer.p99.as_secs_f64() / ours.p99.as_secs_f64()
    );
    (rev, ratio)
}

/// Holds out a share of the addresses (a street and number with every point that carries it),
/// builds the index without them and searches "<street> <number>" for each.
fn accuracy_section(g: &Gazetteer, inputs: &Inputs, addrs: &[Addr], options: &Options) {
    // Points of one street and number: tile edges repeat a building's number point away from
    // the 1 m the reader merges, and a building may carry its number at two entrances.
    let mut groups: BTreeMap<(&str, &str), Vec<&Addr>> = BTreeMap::new();
    for a in addrs {
        groups
            .entry((a.street.as_str(), a.number.as_str()))
            .or_default()
            .push(a);
    }
    let spread = |ps: &[&Addr]| {
        ps.iter()
            .map(|p| haversine_m((p.lon, p.lat), (ps[0].lon, ps[0].lat)))
            .fold(0.0, f64::max)
    };
    let multi: Vec<f64> = groups
        .values()
        .filter(|ps| ps.len() > 1)
        .map(|ps| spread(ps))
        .collect();
    println!(
        "\naccuracy: {} addresses (street and number) over {} points; {} addresses have more \
         than one point: {} of them within 25 m of each other, {} more than 100 m apart",
        groups.len(),
        addrs.len(),
        multi.len(),
        multi.iter().filter(|&&d| d <= 25.0).count(),
        multi.iter().filter(|&&d| d > 100.0).count()
    );
    let share = 0.10;
    let mut keys: Vec<(&str, &str)> = groups.keys().copied().collect();
    keys.shuffle(&mut StdRng::seed_from_u64(99));
    keys.truncate((groups.len() as f64 * share).round() as usize);
    let held_out: Vec<(&(&str, &str), &Vec<&Addr>)> =
        keys.iter().map(|k| (k, &groups[k])).collect();
    let out_points: HashSet<usize> = held_out
        .iter()
        .flat_map(|(_, ps)| ps.iter().map(|a| a.point))
        .collect();
    let mut reduced = inputs.clone();
    reduced.basemap.numbers = inputs
        .basemap
        .numbers
        .iter()
        .enumerate()
        .filter(|(i, _)| !out_points.contains(i))
        .map(|(_, n)| n.clone())
        .collect();
    let g2 = Gazetteer::build(reduced, options);
    println!(
        "held out: {} of the addresses ({:.0}%, seeded), {} points; the index built without them \
         holds {} addresses; \"<street> <number>\" searched for each, search(q, {LIMIT}); \
         distance on the ground (haversine) to the nearest of the address's true points",
        held_out.len(),
        share * 100.0,
        out_points.len(),
        g2.address_count()
    );
    println!(
        "| index | answer taken | within 25 m | within 100 m | median m | no answer | the answer's \
         number: exact / similar / nearest |"
    );
    println!("|---|---|---:|---:|---:|---:|---|");
    for (name, index) in [("without them", &g2), ("full (with them, the ceiling)", g)] {
        let mut first = Vec::new();
        let mut first_address = Vec::new();
        let (mut no_hit, mut no_address) = (0, 0);
        let mut notes = [0usize; 3];
        let mut silent = Vec::new();
        for ((street, number), points) in &held_out {
            let q = format!("{street} {number}");
            let hits = index.search(&q, LIMIT);
            let d = |h: &Hit| {
                points
                    .iter()
                    .map(|p| haversine_m((h.lon, h.lat), (p.lon, p.lat)))
                    .fold(f64::INFINITY, f64::min)
            };
            match hits.first() {
                Some(h) => first.push(d(h)),
                None => {
                    no_hit += 1;
                    silent.push(q.clone());
                }
            }
            match hits.iter().find(|h| h.kind == Kind::Address) {
                Some(h) => {
                    first_address.push(d(h));
                    notes[match h.note {
                        None => 0,
                        Some(Note::SimilarNumber { .. }) => 1,
                        _ => 2,
                    }] += 1;
                }
                None => no_address += 1,
            }
        }
        for (what, ds, none, notes) in [
            ("first hit (street or address)", &mut first, no_hit, None),
            (
                "first address among the hits",
                &mut first_address,
                no_address,
                Some(notes),
            ),
        ] {
            ds.sort_by(f64::total_cmp);
            let within = |m: f64| ds.iter().filter(|&&d| d <= m).count();
            let median = ds.get(ds.len() / 2).copied().unwrap_or(f64::NAN);
            let notes = notes.map_or(String::new(), |n| format!("{} / {} / {}", n[0], n[1], n[2]));
            println!(
                "| {name} | {what} | {} | {} | {median:.0} | {none} | {notes} |",
                pct(within(25.0), held_out.len()),
                pct(within(100.0), held_out.len()),
            );
        }
        if !silent.is_empty() {
            println!(
                "  no hit at all ({name}): {:?}",
                &silent[..silent.len().min(5)]
            );
        }
    }
}

fn main() {
    // `cargo test --benches` runs this with --bench absent: keep that quick (the 25 tiles
    // around the centre, few queries).
    let quick = !std::env::args().any(|a| a == "--bench");
    let dir = tiles_dir();
    let mut tiles = match basemap_tiles(&dir, ZOOM) {
        Ok(t) if !t.is_empty() => t,
        other => {
            let why = other.map_or_else(|e| e.to_string(), |_| "no tiles".to_string());
            let msg = format!(
                "no z{ZOOM} basemap tiles under {} ({why}); set ZGLOS_BASEMAP_TILES to the \
                 basemap-osm folder",
                dir.display()
            );
            if quick {
                println!("skipped: {msg}");
                return;
            }
            panic!("{msg}");
        }
    };
    if quick {
        let (ux, uy) = to_unit(19.94, 50.06);
        let c = TileId::containing(ZOOM, ux, uy);
        tiles.retain(|(t, _)| t.x.abs_diff(c.x) <= 2 && t.y.abs_diff(c.y) <= 2);
    }
    // As the service builds it (src/addresses.rs): default options, the city's name ignored.
    let options = Options {
        ignored_words: vec!["Kraków".into()],
        ..Options::default()
    };
    let dfile = districts_file(&dir);
    let districts = if dfile.exists() {
        read_districts(&dfile)
    } else {
        println!("no districts at {} (built without)", dfile.display());
        Vec::new()
    };
    println!(
        "basemap: {} z{ZOOM} tiles under {}; {} districts from {}",
        tiles.len(),
        dir.display(),
        districts.len(),
        dfile.display()
    );
    let (inputs, g) = build_section(&tiles, districts, &options, if quick { 1 } else { 3 });

    // Addresses as the index has them: each number point kept, with the street it was given.
    let addrs: Vec<Addr> = inputs
        .basemap
        .numbers
        .iter()
        .enumerate()
        .filter_map(|(i, n)| {
            g.nearest_street(n.lon, n.lat, options.street_radius_m)
                .map(|(s, _)| Addr {
                    point: i,
                    street: s.to_string(),
                    number: n.number.clone(),
                    lon: n.lon,
                    lat: n.lat,
                })
        })
        .collect();
    assert_eq!(
        addrs.len(),
        g.address_count(),
        "addresses as the index has them"
    );
    let streets: Vec<String> = {
        let names: BTreeSet<&str> = inputs
            .basemap
            .streets
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        names.into_iter().map(String::from).collect()
    };

    let (fwd, fwd_ratio) = forward_section(&g, &inputs, &streets, &addrs, quick);
    let (rev, rev_ratio) = reverse_section(&g, &inputs, &addrs, &options, quick);
    accuracy_section(&g, &inputs, &addrs, &options);

    println!("\nagainst the targets");
    let verdict = |ok: bool| match (quick, ok) {
        (true, _) => "not judged in a quick run (cargo bench judges them)",
        (false, true) => "met",
        (false, false) => "NOT met",
    };
    println!(
        "forward search p99 {} ms (target ≤ {} ms): {}; the label scan is {fwd_ratio:.0}× slower \
         at p50",
        ms(fwd.p99),
        ms(FORWARD_TARGET_P99),
        verdict(fwd.p99 <= FORWARD_TARGET_P99)
    );
    println!(
        "reverse lookup p99 {} µs (target ≤ {} µs): {}; the point scan is {rev_ratio:.0}× slower \
         at p50",
        us(rev.p99),
        us(REVERSE_TARGET_P99),
        verdict(rev.p99 <= REVERSE_TARGET_P99)
    );
}
