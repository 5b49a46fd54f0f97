//! Building the index from [`Inputs`]: streets and their segment tree, house numbers given their
//! nearest street, official points in place of derived ones, stops merged by name, and the word
//! index over every name.
use std::collections::{BTreeMap, HashMap, HashSet};

use rstar::primitives::{GeomWithData, Line};
use rstar::{PointDistance, RTree};

use crate::districts::DistrictIndex;

use super::basemap::{centre_of, BasemapStats, StreetLines};
use super::fuzzy::Vocabulary;
use super::text::{display_number, fold, number_base, number_key, tokens, type_word};
use super::{
    Address, Entry, Gazetteer, Inputs, Kind, Options, PointItem, SegmentItem, Street, NONE,
};

/// Counts of what went into the index.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BuildStats {
    pub basemap: BasemapStats,
    pub streets: usize,
    /// Addresses in the index, official ones included.
    pub addresses: usize,
    pub official_addresses: usize,
    /// Basemap numbers with no named street within [`Options::street_radius_m`]: dropped.
    pub numbers_without_street: usize,
    /// Basemap numbers replaced or hidden by an official point.
    pub numbers_replaced_by_official: usize,
    /// Official points whose street name matched no basemap street nearby (they make streets of
    /// their own).
    pub official_without_basemap_street: usize,
    pub pois: usize,
    pub stops: usize,
    pub districts: usize,
    pub entries: usize,
    pub vocabulary: usize,
}

/// A street's name without type words, folded: how official records find basemap streets.
fn street_key(name: &str) -> Vec<String> {
    tokens(name)
        .into_iter()
        .map(|t| t.text)
        .filter(|t| type_word(t).is_none())
        .collect()
}

/// One address before the arena and sorting.
struct RawAddress {
    street: u32,
    number: String,
    key: String,
    official: bool,
    postcode: Option<String>,
    lon: f64,
    lat: f64,
}

/// A street before it gets its entry: basemap lines, or points of official addresses only.
struct RawStreet {
    name: String,
    class_rank: u8,
    lines: Vec<Vec<[f64; 2]>>,
    /// Local-metre points of official addresses (streets without basemap lines).
    points: Vec<[f64; 2]>,
}

impl Gazetteer {
    /// Builds the index (see the module documentation for what each step decides).
    pub fn build(inputs: Inputs, options: &Options) -> Gazetteer {
        let Inputs {
            basemap,
            stops,
            districts,
            official,
        } = inputs;
        let proj = centre_of(
            basemap
                .streets
                .iter()
                .flat_map(|s| s.lines.iter().flatten().copied())
                .chain(basemap.numbers.iter().map(|n| [n.lon, n.lat]))
                .chain(official.iter().map(|a| [a.lon, a.lat])),
        );
        let local = |lon: f64, lat: f64| {
            let c = proj.project(geo::Coord { x: lon, y: lat });
            [c.x, c.y]
        };
        let mut stats = BuildStats {
            basemap: basemap.stats.clone(),
            ..Default::default()
        };

        // Streets and their segments.
        let mut streets: Vec<RawStreet> = basemap
            .streets
            .into_iter()
            .map(
                |StreetLines {
                     name,
                     class_rank,
                     lines,
                 }| RawStreet {
                    name,
                    class_rank,
                    lines,
                    points: Vec::new(),
                },
            )
            .collect();
        let mut segments: Vec<SegmentItem> = Vec::new();
        let mut seen_segments: HashSet<(u32, [i64; 4])> = HashSet::new();
        for (i, s) in streets.iter().enumerate() {
            for line in &s.lines {
                for w in line.windows(2) {
                    let (a, b) = (local(w[0][0], w[0][1]), local(w[1][0], w[1][1]));
                    // Tiles repeat the lines near their edges: one segment once.
                    let q =
                        |p: [f64; 2]| [(p[0] * 10.0).round() as i64, (p[1] * 10.0).round() as i64];
                    let (qa, qb) = (q(a), q(b));
                    let key = if qa <= qb {
                        [qa[0], qa[1], qb[0], qb[1]]
                    } else {
                        [qb[0], qb[1], qa[0], qa[1]]
                    };
                    if qa != qb && seen_segments.insert((i as u32, key)) {
                        segments.push(GeomWithData::new(Line::new(a, b), i as u32));
                    }
                }
            }
        }
        drop(seen_segments);
        let segment_tree = RTree::bulk_load(segments);

        // Official addresses: onto the basemap street of their name nearby, or onto streets of
        // their own.
        let mut by_key: HashMap<Vec<String>, Vec<u32>> = HashMap::new();
        for (i, s) in streets.iter().enumerate() {
            by_key
                .entry(street_key(&s.name))
                .or_default()
                .push(i as u32);
        }
        let mut raw: Vec<RawAddress> = Vec::new();
        let match2 = options.official_match_m * options.official_match_m;
        for a in &official {
            let p = local(a.lon, a.lat);
            let key = street_key(&a.street);
            let street = official_street(&segment_tree, &streets, &by_key, &key, p, match2)
                .or_else(|| {
                    // A street made of official points only, within reach of this one.
                    by_key.get(&key)?.iter().copied().find(|&i| {
                        let s = &streets[i as usize];
                        s.lines.is_empty()
                            && s.points
                                .iter()
                                .any(|q| (q[0] - p[0]).powi(2) + (q[1] - p[1]).powi(2) <= match2)
                    })
                })
                .unwrap_or_else(|| {
                    stats.official_without_basemap_street += 1;
                    let name = a.street.trim();
                    let name = ["ul. ", "ul ", "ulica "]
                        .iter()
                        .find_map(|p| {
                            name.get(..p.len())
                                .filter(|h| h.eq_ignore_ascii_case(p))
                                .map(|_| name[p.len()..].trim())
                        })
                        .unwrap_or(name);
                    streets.push(RawStreet {
                        name: name.to_string(),
                        class_rank: 2,
                        lines: Vec::new(),
                        points: Vec::new(),
                    });
                    let i = (streets.len() - 1) as u32;
                    by_key.entry(key.clone()).or_default().push(i);
                    i
                });
            if streets[street as usize].lines.is_empty() {
                streets[street as usize].points.push(p);
            }
            let number = display_number(&a.number);
            raw.push(RawAddress {
                street,
                key: number_key(&number),
                number,
                official: true,
                postcode: a.postcode.clone().filter(|p| !p.trim().is_empty()),
                lon: a.lon,
                lat: a.lat,
            });
        }
        stats.official_addresses = raw.len();
        let official_keys: HashSet<(u32, String)> =
            raw.iter().map(|a| (a.street, a.key.clone())).collect();
        let official_tree: RTree<PointItem> = RTree::bulk_load(
            raw.iter()
                .enumerate()
                .map(|(i, a)| GeomWithData::new(local(a.lon, a.lat), i as u32))
                .collect(),
        );

        // Basemap numbers: the nearest named street within reach, unless an official point
        // says otherwise.
        let reach2 = options.street_radius_m * options.street_radius_m;
        let shadow2 = options.official_shadow_m * options.official_shadow_m;
        for n in &basemap.numbers {
            let p = local(n.lon, n.lat);
            let Some(seg) = segment_tree
                .nearest_neighbor(&p)
                .filter(|s| s.distance_2(&p) <= reach2)
            else {
                stats.numbers_without_street += 1;
                continue;
            };
            let key = number_key(&n.number);
            let shadowed = official_keys.contains(&(seg.data, key.clone()))
                || official_tree
                    .locate_within_distance(p, shadow2)
                    .any(|o| raw[o.data as usize].key == key);
            if shadowed {
                stats.numbers_replaced_by_official += 1;
                continue;
            }
            raw.push(RawAddress {
                street: seg.data,
                number: n.number.clone(),
                key,
                official: false,
                postcode: None,
                lon: n.lon,
                lat: n.lat,
            });
        }
        drop(official_tree);

        // Addresses sorted by street, then by number, in one arena of number text.
        raw.sort_by(|a, b| {
            (a.street, number_base(&a.key), &a.key).cmp(&(b.street, number_base(&b.key), &b.key))
        });
        let mut numbers = String::new();
        let mut postcodes: Vec<Box<str>> = Vec::new();
        let mut postcode_ids: HashMap<String, u32> = HashMap::new();
        let mut addresses = Vec::with_capacity(raw.len());
        for a in raw {
            let num_start = numbers.len() as u32;
            numbers.push_str(&a.number);
            let postcode = match a.postcode {
                Some(p) => *postcode_ids.entry(p.clone()).or_insert_with(|| {
                    postcodes.push(p.into());
                    (postcodes.len() - 1) as u32
                }),
                None => NONE,
            };
            addresses.push(Address {
                street: a.street,
                num_start,
                num_len: a.number.len().min(u16::MAX as usize) as u16,
                official: a.official,
                postcode,
                lon: a.lon,
                lat: a.lat,
            });
        }
        numbers.shrink_to_fit();
        stats.addresses = addresses.len();
        let address_tree = RTree::bulk_load(
            addresses
                .iter()
                .enumerate()
                .map(|(i, a)| GeomWithData::new(local(a.lon, a.lat), i as u32))
                .collect(),
        );

        // Entries: streets, then places, stops and districts.
        let mut entries: Vec<Entry> = Vec::new();
        let mut names: Vec<Vec<String>> = Vec::new();
        let mut out_streets: Vec<Street> = Vec::with_capacity(streets.len());
        let mut addr_at = 0usize;
        for (i, s) in streets.iter().enumerate() {
            let start = addr_at;
            while addr_at < addresses.len() && addresses[addr_at].street == i as u32 {
                addr_at += 1;
            }
            let count = addr_at - start;
            let (anchor, bbox) = street_anchor(s, &proj);
            out_streets.push(Street {
                entry: entries.len() as u32,
                addr_start: start as u32,
                addr_len: count as u32,
                bbox,
            });
            let size = ((1.0 + count as f32).ln() / 150f32.ln()).min(1.0);
            entries.push(Entry {
                kind: Kind::Street,
                name: s.name.as_str().into(),
                lon: anchor[0],
                lat: anchor[1],
                tok_start: 0,
                tok_len: 0,
                target: i as u32,
                prior: 0.05 + 0.03 * size + 0.005 * s.class_rank as f32,
            });
            names.push(tokens(&s.name).into_iter().map(|t| t.text).collect());
        }
        stats.streets = out_streets.len();

        let mut categories: Vec<Box<str>> = Vec::new();
        let mut category_ids: HashMap<String, u32> = HashMap::new();
        let mut category = |c: &str| {
            *category_ids.entry(c.to_string()).or_insert_with(|| {
                categories.push(c.into());
                (categories.len() - 1) as u32
            })
        };
        let mut stop_points: Vec<(String, f64, f64)> = stops
            .iter()
            .map(|s| (s.name.trim().to_string(), s.lon, s.lat))
            .collect();
        for p in &basemap.places {
            if p.kind == Kind::Stop {
                stop_points.push((p.name.clone(), p.lon, p.lat));
                continue;
            }
            stats.pois += 1;
            entries.push(Entry {
                kind: Kind::Poi,
                name: p.name.as_str().into(),
                lon: p.lon,
                lat: p.lat,
                tok_start: 0,
                tok_len: 0,
                target: category(&p.category),
                prior: if p.area { 0.045 } else { 0.0 },
            });
            names.push(tokens(&p.name).into_iter().map(|t| t.text).collect());
        }
        let stop_category = category("stop");
        for (name, lon, lat) in merge_stops(stop_points, &proj, options.stop_merge_m) {
            stats.stops += 1;
            names.push(tokens(&name).into_iter().map(|t| t.text).collect());
            entries.push(Entry {
                kind: Kind::Stop,
                name: name.into(),
                lon,
                lat,
                tok_start: 0,
                tok_len: 0,
                target: stop_category,
                prior: 0.035,
            });
        }
        for (i, d) in districts.iter().enumerate() {
            let Some(p) = crate::districts::label_point(&d.geometry) else {
                continue;
            };
            stats.districts += 1;
            let mut words: Vec<String> = tokens(&d.name).into_iter().map(|t| t.text).collect();
            let code = fold(d.code.trim());
            if !code.is_empty() && !words.contains(&code) && !code.contains(' ') {
                words.push(code);
            }
            names.push(words);
            entries.push(Entry {
                kind: Kind::District,
                name: d.name.as_str().into(),
                lon: p.x(),
                lat: p.y(),
                tok_start: 0,
                tok_len: 0,
                target: i as u32,
                prior: 0.055,
            });
        }

        // The word index.
        let mut words: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
        for (e, ws) in names.iter().enumerate() {
            for w in ws {
                let list = words.entry(w.as_str()).or_default();
                if list.last() != Some(&(e as u32)) {
                    list.push(e as u32);
                }
            }
        }
        let vocab = Vocabulary::new(words.keys().map(|w| (*w).into()).collect());
        let word_types = words.keys().map(|w| type_word(w)).collect();
        let mut post_start = Vec::with_capacity(words.len() + 1);
        let mut postings = Vec::new();
        for list in words.values() {
            post_start.push(postings.len() as u32);
            postings.extend_from_slice(list);
        }
        post_start.push(postings.len() as u32);
        let mut entry_tokens = Vec::new();
        for (e, ws) in entries.iter_mut().zip(&names) {
            e.tok_start = entry_tokens.len() as u32;
            let ids = ws
                .iter()
                .take(u16::MAX as usize)
                .filter_map(|w| vocab.id(w));
            entry_tokens.extend(ids);
            e.tok_len = (entry_tokens.len() as u32 - e.tok_start) as u16;
        }
        drop(words);
        stats.entries = entries.len();
        stats.vocabulary = vocab.len();

        Gazetteer {
            entries,
            entry_tokens,
            vocab,
            word_types,
            post_start,
            postings,
            streets: out_streets,
            addresses,
            numbers,
            postcodes,
            categories,
            address_tree,
            segment_tree,
            districts: DistrictIndex::new(districts, proj),
            proj,
            ignored: options.ignored_words.iter().map(|w| fold(w)).collect(),
            reverse_address_m: options.reverse_address_m,
            reverse_street_m: options.reverse_street_m,
            stats,
        }
    }
}

/// The basemap street an official address belongs to: of the streets whose lines pass within
/// reach, the nearest with the same name, else the nearest whose name's words include the
/// other's ("al. Mickiewicza" and "Aleja Adama Mickiewicza").
fn official_street(
    tree: &RTree<SegmentItem>,
    streets: &[RawStreet],
    by_key: &HashMap<Vec<String>, Vec<u32>>,
    key: &[String],
    p: [f64; 2],
    reach2: f64,
) -> Option<u32> {
    let same: HashSet<u32> = by_key.get(key).into_iter().flatten().copied().collect();
    let mut loose = None;
    for (seg, _) in tree
        .nearest_neighbor_iter_with_distance_2(&p)
        .take_while(|(_, d)| *d <= reach2)
        .take(2000)
    {
        if same.contains(&seg.data) {
            return Some(seg.data);
        }
        if loose.is_none() {
            let other = street_key(&streets[seg.data as usize].name);
            let within =
                |a: &[String], b: &[String]| !a.is_empty() && a.iter().all(|w| b.contains(w));
            if within(key, &other) || within(&other, key) {
                loose = Some(seg.data);
            }
        }
    }
    loose
}

/// A point on the street near its middle (the vertex nearest the mean of its vertices) and its
/// bounding box.
fn street_anchor(s: &RawStreet, proj: &crate::geometry::LocalMetres) -> ([f64; 2], [f64; 4]) {
    let lonlat: Vec<[f64; 2]> = if s.lines.is_empty() {
        s.points
            .iter()
            .map(|&[x, y]| {
                let c = proj.unproject(geo::Coord { x, y });
                [c.x, c.y]
            })
            .collect()
    } else {
        s.lines.iter().flatten().copied().collect()
    };
    let n = lonlat.len().max(1) as f64;
    let mean = lonlat
        .iter()
        .fold([0.0, 0.0], |m, p| [m[0] + p[0] / n, m[1] + p[1] / n]);
    let kx = mean[1].to_radians().cos();
    let anchor = lonlat
        .iter()
        .copied()
        .min_by(|a, b| {
            let d = |p: &[f64; 2]| ((p[0] - mean[0]) * kx).powi(2) + (p[1] - mean[1]).powi(2);
            d(a).total_cmp(&d(b))
        })
        .unwrap_or(mean);
    let bbox = lonlat.iter().fold(
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
    );
    (anchor, bbox)
}

/// Stops of one (folded) name within `radius_m` of the first of them become one stop at the
/// mean of their positions; the name shown is the first one seen.
fn merge_stops(
    points: Vec<(String, f64, f64)>,
    proj: &crate::geometry::LocalMetres,
    radius_m: f64,
) -> Vec<(String, f64, f64)> {
    struct Group {
        name: String,
        first: [f64; 2],
        sum: [f64; 2],
        n: f64,
    }
    let mut groups: Vec<Group> = Vec::new();
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (name, lon, lat) in points {
        if name.is_empty() {
            continue;
        }
        let c = proj.project(geo::Coord { x: lon, y: lat });
        let key = fold(&name);
        let ids = by_name.entry(key).or_default();
        let near = ids.iter().copied().find(|&g| {
            let f = groups[g].first;
            (f[0] - c.x).hypot(f[1] - c.y) <= radius_m
        });
        match near {
            Some(g) => {
                let g = &mut groups[g];
                g.sum = [g.sum[0] + lon, g.sum[1] + lat];
                g.n += 1.0;
            }
            None => {
                ids.push(groups.len());
                groups.push(Group {
                    name,
                    first: [c.x, c.y],
                    sum: [lon, lat],
                    n: 1.0,
                });
            }
        }
    }
    groups
        .into_iter()
        .map(|g| (g.name, g.sum[0] / g.n, g.sum[1] / g.n))
        .collect()
}
