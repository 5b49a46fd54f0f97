//! `zglos-bench`: the data and bookkeeping side of Zgłoś's benchmark (see bench/README.md and
//! bench/run.sh).
//!
//! - `gen`: N synthetic reports over Kraków as PostgreSQL COPY text, for bench/load.sql.
//! - `urls`: tile URL lists weighted toward where the data (and so the map views) are, written for
//!   Zgłoś and Martin from the same tile coordinates.
//! - `points`: submission points (lon, lat, category) shared by the HTTP load and pgbench.
//! - `pglat`: throughput and latency percentiles from pgbench's per-transaction logs.
//! - `submit-load`: submissions at a fixed rate, open loop, with latency counted from when each
//!   request was due.
//! - `report`: the side-by-side Markdown table from bench/out/results.jsonl.
//! - `mvtinfo`: layers and feature counts of (uncompressed) vector tiles, to check that two
//!   servers serve the same data.
//! - `heatsum`: total `count` and `weight` of a heatmap tile (bench/heatmap.sh compares tiles
//!   from the service and from PostGIS, and checks that a status change shows in the next tile).
mod city;
mod load;
mod mvt;
mod stats;
mod synth;
mod time;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use city::{read_categories, Region};
use synth::{Categories, GenOptions, Places};

const BOUNDARY: &str = "../shared/data/krakow/krakow_granica_union_dzielnic.geojson";
const CATEGORIES: &str = "cities/krakow/categories.csv";

#[derive(Parser)]
#[command(
    name = "zglos-bench",
    about = "Synthetic data, URL lists and result tables for Zgłoś's benchmark"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Synthetic reports as COPY text (columns in bench/load.sql's order).
    Gen {
        #[arg(long, default_value_t = 1_000_000)]
        n: u64,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Output file, `-` for stdout.
        #[arg(long, default_value = "-")]
        out: String,
        #[arg(long, default_value = BOUNDARY)]
        boundary: PathBuf,
        #[arg(long, default_value = CATEGORIES)]
        categories: PathBuf,
        /// "Now" as unix seconds (default: the current time); timestamps span the years before it.
        #[arg(long)]
        now: Option<i64>,
        #[arg(long, default_value_t = 3.0)]
        years: f64,
        /// Share of line reports.
        #[arg(long, default_value_t = 0.02)]
        lines: f64,
        /// Share of (small) polygon reports.
        #[arg(long, default_value_t = 0.01)]
        areas: f64,
        /// Share of reports spread uniformly over the city rather than around hotspots.
        #[arg(long, default_value_t = 0.2)]
        background: f64,
    },
    /// Tile URLs over the city, one per line, weighted toward where reports are.
    Urls {
        /// URL prefix before `/{z}/{x}/{y}`.
        #[arg(long)]
        base: String,
        /// Appended after `{y}`, e.g. `.mvt?status=all`.
        #[arg(long, default_value = "")]
        suffix: String,
        /// Zoom range `10-16`, a list `12,14` or one zoom `16`.
        #[arg(long, default_value = "10-16")]
        zooms: String,
        #[arg(long, default_value_t = 2000)]
        count: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value = "-")]
        out: String,
        /// The same tiles for a second server (e.g. Martin: `http://127.0.0.1:3000/reports`).
        #[arg(long)]
        peer_base: Option<String>,
        #[arg(long, default_value = "")]
        peer_suffix: String,
        #[arg(long)]
        peer_out: Option<String>,
        /// Share of views anywhere in the city rather than where reports cluster.
        #[arg(long, default_value_t = 0.35)]
        background: f64,
        #[arg(long, default_value = BOUNDARY)]
        boundary: PathBuf,
    },
    /// Submission points `lon<TAB>lat<TAB>category`, clustered like the reports.
    Points {
        #[arg(long, default_value_t = 100_000)]
        n: usize,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        #[arg(long, default_value = "-")]
        out: String,
        #[arg(long, default_value = BOUNDARY)]
        boundary: PathBuf,
        #[arg(long, default_value = CATEGORIES)]
        categories: PathBuf,
        #[arg(long, default_value_t = 0.2)]
        background: f64,
    },
    /// Rate and latency percentiles (JSON) from pgbench `--log` files.
    Pglat {
        /// Extra fields merged into the JSON, `key=value`.
        #[arg(long = "field", value_parser = parse_kv)]
        fields: Vec<(String, String)>,
        files: Vec<PathBuf>,
    },
    /// Open-loop submissions: `POST /api/v1/reports` at `--rate` per second for `--duration`
    /// seconds whatever the answers, latency counted from each request's due time; prints JSON.
    SubmitLoad {
        /// The service, e.g. `http://127.0.0.1:8787`.
        #[arg(long)]
        url: String,
        #[arg(long, default_value = "/api/v1/reports")]
        path: String,
        /// A `zglos-bench points` file (the one bench/wrk/submit.lua posts).
        #[arg(long)]
        points: PathBuf,
        /// Requests per second.
        #[arg(long)]
        rate: f64,
        /// Seconds.
        #[arg(long, default_value_t = 20.0)]
        duration: f64,
        /// Connections (requests in flight at most).
        #[arg(long, default_value_t = 8)]
        connections: usize,
        /// Poisson arrivals, as `pgbench --rate` schedules them, instead of fixed intervals.
        #[arg(long)]
        poisson: bool,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Seconds before an unanswered request counts as an error.
        #[arg(long, default_value_t = 30.0)]
        timeout: f64,
        /// Extra fields merged into the JSON, `key=value`.
        #[arg(long = "field", value_parser = parse_kv)]
        fields: Vec<(String, String)>,
    },
    /// Markdown table from a results.jsonl (each scenario's first server vs the others, or every
    /// server vs `--peer`).
    Report {
        file: PathBuf,
        /// Compare every server of a scenario with this one (e.g. `postgis`).
        #[arg(long)]
        peer: Option<String>,
        /// Add a column saying whether p99 is within this many milliseconds.
        #[arg(long)]
        goal_p99_ms: Option<f64>,
    },
    /// One line per tile file: layer, extent, features (points/lines/polygons), property keys.
    Mvtinfo { files: Vec<PathBuf> },
    /// Sums of integer properties of one layer of a tile (default: `heatmap`'s `count` and
    /// `weight`), as `features count weight` on one line; an empty tile gives `0 0 0`.
    Heatsum {
        #[arg(long, default_value = "heatmap")]
        layer: String,
        file: PathBuf,
    },
}

fn parse_kv(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("expected key=value, got {s}"))
}

/// `key=value` fields merged into a JSON result (numbers as numbers).
fn with_fields(mut v: serde_json::Value, fields: Vec<(String, String)>) -> serde_json::Value {
    for (k, val) in fields {
        v[k] = val
            .parse::<f64>()
            .map(serde_json::Value::from)
            .unwrap_or(serde_json::Value::from(val));
    }
    v
}

fn open_out(path: &str) -> Result<Box<dyn Write>, String> {
    Ok(if path == "-" {
        Box::new(BufWriter::with_capacity(1 << 20, std::io::stdout().lock()))
    } else {
        if let Some(dir) = Path::new(path).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            }
        }
        Box::new(BufWriter::with_capacity(
            1 << 20,
            File::create(path).map_err(|e| format!("{path}: {e}"))?,
        ))
    })
}

fn parse_zooms(s: &str) -> Result<Vec<u8>, String> {
    let bad = || format!("bad zoom list {s:?}");
    if let Some((a, b)) = s.split_once('-') {
        let (a, b): (u8, u8) = (
            a.trim().parse().map_err(|_| bad())?,
            b.trim().parse().map_err(|_| bad())?,
        );
        if a > b || b > 24 {
            return Err(bad());
        }
        Ok((a..=b).collect())
    } else {
        s.split(',')
            .map(|z| z.trim().parse::<u8>().map_err(|_| bad()))
            .collect()
    }
}

/// Web-Mercator (XYZ) tile holding a lon/lat at zoom z.
fn tile_of(lon: f64, lat: f64, z: u8) -> (u32, u32) {
    let n = (1u64 << z) as f64;
    let x = ((lon + 180.0) / 360.0 * n).floor().clamp(0.0, n - 1.0);
    let lat_r = lat.to_radians();
    let y = ((1.0 - (lat_r.tan() + 1.0 / lat_r.cos()).ln() / std::f64::consts::PI) / 2.0 * n)
        .floor()
        .clamp(0.0, n - 1.0);
    (x as u32, y as u32)
}

fn run() -> Result<(), String> {
    match Cli::parse().cmd {
        Cmd::Gen {
            n,
            seed,
            out,
            boundary,
            categories,
            now,
            years,
            lines,
            areas,
            background,
        } => {
            let t0 = Instant::now();
            let region = Region::from_geojson_file(&boundary)?;
            let cats = read_categories(&categories)?;
            let cats = Categories::new(&cats);
            let places = Places::new(&region, background);
            let mut rng = StdRng::seed_from_u64(seed);
            let opts = GenOptions {
                n,
                now: now.unwrap_or_else(time::now_unix),
                years,
                line_share: lines,
                area_share: areas,
            };
            let mut w = open_out(&out)?;
            let (p, l, a) = synth::generate(&mut rng, &places, &cats, &opts, &mut w)
                .map_err(|e| e.to_string())?;
            w.flush().map_err(|e| e.to_string())?;
            eprintln!(
                "generated {n} reports ({p} points, {l} lines, {a} areas) in {:.2} s; columns: {}",
                t0.elapsed().as_secs_f64(),
                synth::COLUMNS
            );
        }
        Cmd::Urls {
            base,
            suffix,
            zooms,
            count,
            seed,
            out,
            peer_base,
            peer_suffix,
            peer_out,
            background,
            boundary,
        } => {
            let zooms = parse_zooms(&zooms)?;
            let region = Region::from_geojson_file(&boundary)?;
            let places = Places::new(&region, background);
            let mut rng = StdRng::seed_from_u64(seed);
            let mut w = open_out(&out)?;
            let mut pw = match (&peer_base, &peer_out) {
                (Some(_), Some(p)) => Some(open_out(p)?),
                (None, None) => None,
                _ => return Err("--peer-base and --peer-out go together".into()),
            };
            let mut per_zoom: BTreeMap<u8, (usize, std::collections::HashSet<(u32, u32)>)> =
                BTreeMap::new();
            let base = base.trim_end_matches('/');
            for _ in 0..count {
                let (lon, lat, _) = places.sample(&mut rng);
                let z = zooms[rng.gen_range(0..zooms.len())];
                let (x, y) = tile_of(lon, lat, z);
                let e = per_zoom.entry(z).or_default();
                e.0 += 1;
                e.1.insert((x, y));
                writeln!(w, "{base}/{z}/{x}/{y}{suffix}").map_err(|e| e.to_string())?;
                if let (Some(pw), Some(pb)) = (pw.as_mut(), peer_base.as_deref()) {
                    writeln!(pw, "{}/{z}/{x}/{y}{peer_suffix}", pb.trim_end_matches('/'))
                        .map_err(|e| e.to_string())?;
                }
            }
            w.flush().map_err(|e| e.to_string())?;
            if let Some(mut pw) = pw {
                pw.flush().map_err(|e| e.to_string())?;
            }
            let summary: Vec<String> = per_zoom
                .iter()
                .map(|(z, (n, u))| format!("z{z}: {n} urls / {} tiles", u.len()))
                .collect();
            eprintln!("{count} tile URLs ({})", summary.join(", "));
        }
        Cmd::Points {
            n,
            seed,
            out,
            boundary,
            categories,
            background,
        } => {
            let region = Region::from_geojson_file(&boundary)?;
            let cats = read_categories(&categories)?;
            let cats = Categories::new(&cats);
            let places = Places::new(&region, background);
            let mut rng = StdRng::seed_from_u64(seed);
            let month = time::month_of(time::now_unix());
            let mut w = open_out(&out)?;
            for _ in 0..n {
                let (lon, lat, _) = places.sample(&mut rng);
                let c = &cats.cats[cats.sample(&mut rng, month)];
                writeln!(w, "{lon:.7}\t{lat:.7}\t{}", c.code).map_err(|e| e.to_string())?;
            }
            w.flush().map_err(|e| e.to_string())?;
        }
        Cmd::Pglat { fields, files } => {
            println!("{}", with_fields(stats::pgbench_logs(&files)?, fields))
        }
        Cmd::SubmitLoad {
            url,
            path,
            points,
            rate,
            duration,
            connections,
            poisson,
            seed,
            timeout,
            fields,
        } => {
            if !(rate > 0.0 && duration > 0.0 && connections > 0 && timeout > 0.0) {
                return Err(
                    "--rate, --duration, --connections and --timeout must be positive".into(),
                );
            }
            let opts = load::LoadOptions {
                url,
                path,
                rate,
                duration: Duration::from_secs_f64(duration),
                connections,
                poisson,
                seed,
                timeout: Duration::from_secs_f64(timeout),
            };
            let v = load::run(&opts, load::read_points(&points)?)?;
            println!("{}", with_fields(v, fields));
        }
        Cmd::Report {
            file,
            peer,
            goal_p99_ms,
        } => print!(
            "{}",
            stats::report_with(&file, peer.as_deref(), goal_p99_ms)?
        ),
        Cmd::Heatsum { layer, file } => {
            let buf = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let layers = mvt::read_tile(&buf).map_err(|e| format!("{}: {e}", file.display()))?;
            match layers.get(&layer) {
                Some(l) => println!(
                    "{} {} {}",
                    l.features(),
                    l.sums.get("count").copied().unwrap_or(0),
                    l.sums.get("weight").copied().unwrap_or(0)
                ),
                None => println!("0 0 0"),
            }
        }
        Cmd::Mvtinfo { files } => {
            for f in files {
                let buf = std::fs::read(&f).map_err(|e| format!("{}: {e}", f.display()))?;
                let layers = mvt::read_tile(&buf).map_err(|e| format!("{}: {e}", f.display()))?;
                let desc: Vec<String> = layers
                    .values()
                    .map(|l| {
                        format!(
                            "{}: {} features ({} points, {} lines, {} polygons), {} with id, extent {}, keys [{}]",
                            l.name,
                            l.features(),
                            l.by_type[1],
                            l.by_type[2],
                            l.by_type[3],
                            l.with_id,
                            l.extent,
                            l.keys.join(",")
                        )
                    })
                    .collect();
                println!(
                    "{}\t{} bytes\t{}",
                    f.display(),
                    buf.len(),
                    if desc.is_empty() {
                        "empty".into()
                    } else {
                        desc.join("; ")
                    }
                );
            }
        }
    }
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("zglos-bench: {e}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_and_zooms() {
        // Kraków's Main Square.
        assert_eq!(tile_of(19.9373, 50.0617, 10), (568, 347));
        assert_eq!(tile_of(19.9373, 50.0617, 16), (36397, 22208));
        assert_eq!(
            parse_zooms("10-16").unwrap(),
            vec![10, 11, 12, 13, 14, 15, 16]
        );
        assert_eq!(parse_zooms("12,14").unwrap(), vec![12, 14]);
        assert_eq!(parse_zooms("16").unwrap(), vec![16]);
        assert!(parse_zooms("16-10").is_err());
    }
}
