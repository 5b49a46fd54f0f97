//! Synthetic but plausible reports over Kraków: where people report (hotspots plus a thin
//! background), what (weighted categories, some seasonal), when (three years, growing use,
//! daytime), and what became of them (old reports mostly closed, recent ones open).
use std::fmt::Write as _;
use std::io::Write;

use rand::rngs::StdRng;
use rand::Rng;

use crate::city::{Category, Region};
use crate::time::{month_of, push_timestamp};

/// Places where reports pile up: the centre, transport hubs, big housing estates.
/// (name, lon, lat, weight, sigma in metres)
pub const HOTSPOTS: &[(&str, f64, f64, f64, f64)] = &[
    ("Rynek Główny", 19.9373, 50.0617, 3.0, 250.0),
    ("Kazimierz", 19.9470, 50.0515, 2.0, 300.0),
    ("Dworzec Główny", 19.9470, 50.0675, 1.5, 250.0),
    ("Karmelicka", 19.9310, 50.0655, 0.8, 250.0),
    ("AGH / Czarnowiejska", 19.9200, 50.0680, 0.8, 300.0),
    ("Podgórze", 19.9560, 50.0440, 1.2, 300.0),
    ("Zabłocie", 19.9620, 50.0480, 0.8, 250.0),
    ("Rondo Mogilskie", 19.9600, 50.0650, 1.0, 300.0),
    ("Nowy Kleparz", 19.9330, 50.0750, 1.0, 300.0),
    ("Olsza", 19.9550, 50.0780, 0.5, 300.0),
    ("Azory", 19.9100, 50.0880, 0.7, 350.0),
    ("Bronowice Małe", 19.8850, 50.0810, 0.7, 400.0),
    ("Bronowice Wielkie", 19.8800, 50.0950, 0.3, 450.0),
    ("Salwator", 19.9150, 50.0540, 0.6, 300.0),
    ("Wola Justowska", 19.8800, 50.0620, 0.4, 450.0),
    ("Rondo Grunwaldzkie", 19.9300, 50.0460, 0.8, 300.0),
    ("Ruczaj", 19.9050, 50.0230, 1.0, 400.0),
    ("Łagiewniki", 19.9380, 50.0250, 0.6, 350.0),
    ("Borek Fałęcki", 19.9250, 50.0130, 0.5, 350.0),
    ("Kliny", 19.9250, 50.0000, 0.4, 400.0),
    ("Kurdwanów", 19.9580, 50.0100, 0.9, 400.0),
    ("Wola Duchacka", 19.9650, 50.0250, 0.7, 350.0),
    ("Swoszowice", 19.9450, 49.9950, 0.4, 500.0),
    ("Płaszów", 19.9850, 50.0380, 0.5, 400.0),
    ("Prokocim", 19.9950, 50.0200, 0.7, 400.0),
    ("Nowy Bieżanów", 20.0120, 50.0150, 0.6, 400.0),
    ("Bieżanów", 20.0300, 50.0200, 0.3, 450.0),
    ("Dąbie", 19.9800, 50.0580, 0.5, 350.0),
    ("Czyżyny", 20.0000, 50.0700, 0.7, 400.0),
    ("Prądnik Czerwony", 19.9700, 50.0900, 0.8, 400.0),
    ("Krowodrza Górka", 19.9400, 50.0920, 0.8, 400.0),
    ("Witkowice", 19.9300, 50.1100, 0.3, 500.0),
    ("Mistrzejowice", 20.0120, 50.0970, 0.8, 400.0),
    ("Bieńczyce", 20.0260, 50.0850, 0.8, 400.0),
    ("Plac Centralny", 20.0370, 50.0720, 1.2, 350.0),
    ("Os. Na Skarpie", 20.0650, 50.0730, 0.5, 450.0),
    ("Wzgórza Krzesławickie", 20.0700, 50.1000, 0.4, 500.0),
    ("Pleszów", 20.0900, 50.0600, 0.3, 500.0),
    ("Tyniec", 19.8250, 50.0200, 0.2, 400.0),
    ("Sidzina", 19.8500, 50.0000, 0.2, 500.0),
];

const STREETS: &[&str] = &[
    "Floriańska",
    "Grodzka",
    "Szewska",
    "Karmelicka",
    "Długa",
    "Dietla",
    "Starowiślna",
    "Krakowska",
    "Kalwaryjska",
    "Wielicka",
    "Lipska",
    "Kamieńskiego",
    "Zakopiańska",
    "Grota-Roweckiego",
    "Kapelanka",
    "Czarnowiejska",
    "Królewska",
    "Bronowicka",
    "Armii Krajowej",
    "Opolska",
    "Wrocławska",
    "Prądnicka",
    "Dobrego Pasterza",
    "Mogilska",
    "Lubicz",
    "Pawia",
    "Al. Pokoju",
    "Al. Jana Pawła II",
    "Bora-Komorowskiego",
    "Nowohucka",
    "Kocmyrzowska",
    "Igołomska",
    "Ptaszyckiego",
    "Bulwarowa",
    "Wadowicka",
    "Zabłocie",
    "Limanowskiego",
    "Józefińska",
    "Rydlówka",
    "Tyniecka",
    "Zielna",
    "Mazowiecka",
    "Racławicka",
];

const DETAILS: &[&str] = &[
    "od kilku dni",
    "coraz gorzej",
    "niebezpieczne dla pieszych",
    "proszę o pilną interwencję",
    "zgłaszam ponownie",
    "obok przystanku",
    "przy przejściu dla pieszych",
    "na wysokości bloku",
    "przy wjeździe na parking",
    "widoczne zdjęcie w załączniku",
    "dotyczy też chodnika obok",
    "",
];

/// Relative frequencies by category code; codes not listed here get `DEFAULT_WEIGHT`.
const CATEGORY_WEIGHTS: &[(&str, f64)] = &[
    ("pothole", 18.0),
    ("pavement", 9.0),
    ("street_lighting", 10.0),
    ("traffic_sign", 6.0),
    ("greenery", 8.0),
    ("litter", 12.0),
    ("illegal_dumping", 6.0),
    ("snow_ice", 4.0),
    ("transit_stop", 4.0),
    ("graffiti", 7.0),
    ("illegal_parking", 10.0),
    ("water_sewer", 3.0),
    ("idea", 3.0),
];
const DEFAULT_WEIGHT: f64 = 3.0;

const CHANNELS: &[(&str, f64)] = &[
    ("web", 45.0),
    ("mobile", 35.0),
    ("phone", 10.0),
    ("email", 5.0),
    ("open311", 3.0),
    ("staff", 2.0),
];
const LANGS: &[(&str, f64)] = &[("pl", 92.0), ("en", 5.0), ("uk", 3.0)];

/// Hours of the day people report at (weights for 0..24).
const HOURS: [f64; 24] = [
    0.3, 0.2, 0.1, 0.1, 0.1, 0.3, 0.8, 2.0, 3.0, 3.2, 3.0, 2.8, 2.7, 2.6, 2.7, 2.9, 3.2, 3.3, 3.0,
    2.6, 2.2, 1.6, 1.0, 0.6,
];

/// A discrete distribution sampled by binary search over cumulative weights.
pub struct Weighted {
    cum: Vec<f64>,
}

impl Weighted {
    pub fn new(weights: impl IntoIterator<Item = f64>) -> Self {
        let mut acc = 0.0;
        let cum: Vec<f64> = weights
            .into_iter()
            .map(|w| {
                acc += w.max(0.0);
                acc
            })
            .collect();
        assert!(acc > 0.0, "weights sum to zero");
        Self { cum }
    }

    pub fn sample(&self, rng: &mut StdRng) -> usize {
        let x = rng.gen::<f64>() * self.cum[self.cum.len() - 1];
        self.cum
            .partition_point(|&c| c <= x)
            .min(self.cum.len() - 1)
    }
}

pub fn gaussian(rng: &mut StdRng) -> (f64, f64) {
    // Box–Muller: two independent standard normals.
    let u1: f64 = rng.gen_range(f64::MIN_POSITIVE..1.0);
    let u2: f64 = rng.gen();
    let r = (-2.0 * u1.ln()).sqrt();
    let t = std::f64::consts::TAU * u2;
    (r * t.cos(), r * t.sin())
}

pub const M_PER_DEG_LAT: f64 = 111_320.0;

pub fn m_per_deg_lon(lat: f64) -> f64 {
    M_PER_DEG_LAT * lat.to_radians().cos()
}

/// Where reports are: a mixture of Gaussian hotspots and a uniform background, inside the region.
pub struct Places<'a> {
    pub region: &'a Region,
    hotspots: Weighted,
    /// Share of points drawn from the uniform background.
    pub background: f64,
}

impl<'a> Places<'a> {
    pub fn new(region: &'a Region, background: f64) -> Self {
        Self {
            region,
            hotspots: Weighted::new(HOTSPOTS.iter().map(|h| h.3)),
            background,
        }
    }

    /// A point inside the region and whether it came from a hotspot.
    pub fn sample(&self, rng: &mut StdRng) -> (f64, f64, bool) {
        loop {
            let (lon, lat, hot) = if rng.gen::<f64>() < self.background {
                let r = self.region;
                (
                    rng.gen_range(r.min_lon..r.max_lon),
                    rng.gen_range(r.min_lat..r.max_lat),
                    false,
                )
            } else {
                let (_, lon0, lat0, _, sigma) = HOTSPOTS[self.hotspots.sample(rng)];
                let (gx, gy) = gaussian(rng);
                (
                    lon0 + gx * sigma / m_per_deg_lon(lat0),
                    lat0 + gy * sigma / M_PER_DEG_LAT,
                    true,
                )
            };
            if self.region.contains(lon, lat) {
                return (lon, lat, hot);
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Point,
    Line,
    Area,
}

pub struct GenOptions {
    pub n: u64,
    pub now: i64,
    pub years: f64,
    pub line_share: f64,
    pub area_share: f64,
}

pub struct Categories<'a> {
    pub cats: &'a [Category],
    all: Weighted,
    lines: Option<(Vec<usize>, Weighted)>,
    areas: Option<(Vec<usize>, Weighted)>,
}

pub fn category_weight(code: &str) -> f64 {
    CATEGORY_WEIGHTS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|w| w.1)
        .unwrap_or(DEFAULT_WEIGHT)
}

fn is_winter(month: u32) -> bool {
    matches!(month, 11 | 12 | 1 | 2 | 3)
}

impl<'a> Categories<'a> {
    pub fn new(cats: &'a [Category]) -> Self {
        let sub = |f: fn(&Category) -> bool| {
            let idx: Vec<usize> = (0..cats.len()).filter(|&i| f(&cats[i])).collect();
            if idx.is_empty() {
                None
            } else {
                let w = Weighted::new(idx.iter().map(|&i| category_weight(&cats[i].code)));
                Some((idx, w))
            }
        };
        Self {
            cats,
            all: Weighted::new(cats.iter().map(|c| category_weight(&c.code))),
            lines: sub(|c| c.line),
            areas: sub(|c| c.area),
        }
    }

    /// A category for a report made in `month`: snow and ice only in winter.
    pub fn sample(&self, rng: &mut StdRng, month: u32) -> usize {
        loop {
            let i = self.all.sample(rng);
            if self.cats[i].code != "snow_ice" || is_winter(month) {
                return i;
            }
        }
    }

    fn sample_kind(&self, rng: &mut StdRng, kind: Kind, month: u32) -> Option<usize> {
        let (idx, w) = match kind {
            Kind::Line => self.lines.as_ref()?,
            Kind::Area => self.areas.as_ref()?,
            Kind::Point => return Some(self.sample(rng, month)),
        };
        for _ in 0..16 {
            let i = idx[w.sample(rng)];
            if self.cats[i].code != "snow_ice" || is_winter(month) {
                return Some(i);
            }
        }
        None
    }
}

/// Status of a report by its age in days: recent ones open, old ones mostly closed.
fn status_for(rng: &mut StdRng, age_days: f64) -> &'static str {
    const OPTS: [&str; 7] = [
        "new",
        "acknowledged",
        "planned",
        "in_progress",
        "resolved",
        "rejected",
        "closed",
    ];
    let w: [f64; 7] = if age_days < 3.0 {
        [70.0, 25.0, 0.0, 5.0, 0.0, 0.0, 0.0]
    } else if age_days < 14.0 {
        [25.0, 35.0, 10.0, 15.0, 12.0, 3.0, 0.0]
    } else if age_days < 60.0 {
        [5.0, 15.0, 15.0, 15.0, 40.0, 5.0, 5.0]
    } else if age_days < 365.0 {
        [0.0, 2.0, 4.0, 3.0, 50.0, 6.0, 35.0]
    } else {
        [0.0, 0.0, 1.0, 1.0, 40.0, 6.0, 52.0]
    };
    let total: f64 = w.iter().sum();
    let mut x = rng.gen::<f64>() * total;
    for (i, wi) in w.iter().enumerate() {
        if x < *wi {
            return OPTS[i];
        }
        x -= wi;
    }
    "closed"
}

fn pick<'s>(rng: &mut StdRng, table: &[(&'s str, f64)]) -> &'s str {
    let total: f64 = table.iter().map(|t| t.1).sum();
    let mut x = rng.gen::<f64>() * total;
    for (s, w) in table {
        if x < *w {
            return s;
        }
        x -= w;
    }
    table[table.len() - 1].0
}

fn push_coord(out: &mut String, lon: f64, lat: f64) {
    let _ = write!(out, "{lon:.7} {lat:.7}");
}

/// Column order of the rows `generate` writes (COPY text format, tab-separated).
pub const COLUMNS: &str = "category, status, description, geom, anchor, supporters, channel, lang, created_at, updated_at";

/// Writes `opts.n` rows to `out`; returns counts of (points, lines, areas).
pub fn generate(
    rng: &mut StdRng,
    places: &Places,
    cats: &Categories,
    opts: &GenOptions,
    out: &mut impl Write,
) -> std::io::Result<(u64, u64, u64)> {
    let span_days = opts.years * 365.25;
    let hours = Weighted::new(HOURS);
    let mut line = String::with_capacity(512);
    let mut counts = (0u64, 0u64, 0u64);
    for _ in 0..opts.n {
        line.clear();
        let (lon, lat, hot) = places.sample(rng);
        // Use grows over time: density of the day ∝ its distance from the start of the span.
        let day_from_start = span_days * rng.gen::<f64>().sqrt();
        let day0 = (opts.now as f64 / 86_400.0 - span_days + day_from_start).floor() as i64;
        let hour = hours.sample(rng) as i64;
        let created = (day0 * 86_400 + hour * 3600 + rng.gen_range(0..3600)).min(opts.now - 60);
        let age_days = (opts.now - created) as f64 / 86_400.0;
        let month = month_of(created);

        let u: f64 = rng.gen();
        let mut kind = if u < opts.line_share {
            Kind::Line
        } else if u < opts.line_share + opts.area_share {
            Kind::Area
        } else {
            Kind::Point
        };
        let ci = match cats.sample_kind(rng, kind, month) {
            Some(i) => i,
            None => {
                kind = Kind::Point;
                cats.sample(rng, month)
            }
        };
        let cat = &cats.cats[ci];
        let status = status_for(rng, age_days);

        // category
        line.push_str(&cat.code);
        line.push('\t');
        line.push_str(status);
        line.push('\t');
        // description
        let street = STREETS[rng.gen_range(0..STREETS.len())];
        let detail = DETAILS[rng.gen_range(0..DETAILS.len())];
        let _ = write!(
            line,
            "{} – ul. {} {}",
            cat.name_pl,
            street,
            rng.gen_range(1..120)
        );
        if !detail.is_empty() {
            line.push_str(", ");
            line.push_str(detail);
        }
        line.push('\t');
        // geom and anchor
        let (alon, alat) = match kind {
            Kind::Point => {
                counts.0 += 1;
                line.push_str("SRID=4326;POINT(");
                push_coord(&mut line, lon, lat);
                line.push(')');
                (lon, lat)
            }
            Kind::Line => {
                counts.1 += 1;
                // A short stretch of pavement or an icy path: 2–6 vertices, 20–80 m steps.
                let nv = rng.gen_range(2..=6);
                let mut heading: f64 = rng.gen_range(0.0..std::f64::consts::TAU);
                let (mut x, mut y) = (lon, lat);
                let mut pts = Vec::with_capacity(nv);
                pts.push((x, y));
                for _ in 1..nv {
                    let step = rng.gen_range(20.0..80.0);
                    heading += rng.gen_range(-0.5..0.5);
                    x += step * heading.cos() / m_per_deg_lon(lat);
                    y += step * heading.sin() / M_PER_DEG_LAT;
                    pts.push((x, y));
                }
                line.push_str("SRID=4326;LINESTRING(");
                for (i, (px, py)) in pts.iter().enumerate() {
                    if i > 0 {
                        line.push(',');
                    }
                    push_coord(&mut line, *px, *py);
                }
                line.push(')');
                pts[nv / 2]
            }
            Kind::Area => {
                counts.2 += 1;
                // A small star-shaped patch (a dump, a neglected lawn): 5–8 vertices, 8–40 m.
                let nv = rng.gen_range(5..=8);
                let r0 = rng.gen_range(8.0..40.0);
                line.push_str("SRID=4326;POLYGON((");
                let mut first = (0.0, 0.0);
                for i in 0..nv {
                    let a = std::f64::consts::TAU * i as f64 / nv as f64;
                    let r = r0 * rng.gen_range(0.6..1.0);
                    let p = (
                        lon + r * a.cos() / m_per_deg_lon(lat),
                        lat + r * a.sin() / M_PER_DEG_LAT,
                    );
                    if i == 0 {
                        first = p;
                    } else {
                        line.push(',');
                    }
                    push_coord(&mut line, p.0, p.1);
                }
                line.push(',');
                push_coord(&mut line, first.0, first.1);
                line.push_str("))");
                (lon, lat)
            }
        };
        line.push_str("\tSRID=4326;POINT(");
        push_coord(&mut line, alon, alat);
        line.push_str(")\t");
        // supporters: most reports have only their author; busy places gather "me too"s.
        let tail = if hot { 1.2 } else { 0.6 };
        let supporters = 1
            + ((-rng.gen_range(f64::MIN_POSITIVE..1.0f64).ln()) * tail)
                .floor()
                .min(200.0) as i64;
        let _ = write!(
            line,
            "{supporters}\t{}\t{}\t",
            pick(rng, CHANNELS),
            pick(rng, LANGS)
        );
        push_timestamp(&mut line, created);
        line.push('\t');
        let updated = match status {
            "new" => created,
            _ => {
                (created + (rng.gen::<f64>() * age_days.min(90.0) * 86_400.0) as i64).min(opts.now)
            }
        };
        push_timestamp(&mut line, updated);
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    Ok(counts)
}
