//! Benchmarks of the spatial core alone (no HTTP, no SQL): heatmap and report tiles over a store of
//! synthetic reports clustered like a city's, each heatmap beside the plain per-report aggregation
//! measured in the same run.
//!
//!   cargo bench -p zglos-tiles                       # 1,000,000 reports
//!   ZGLOS_BENCH_N=100000 cargo bench -p zglos-tiles  # quicker
use std::hint::black_box;
use std::time::{Duration, Instant};

use rand::{rngs::StdRng, Rng, SeedableRng};
use zglos_tiles::aggregate::{heat_grid, heat_grid_reference};
use zglos_tiles::filter::Filter;
use zglos_tiles::mercator::TileId;
use zglos_tiles::record::{Kind, ReportRec};
use zglos_tiles::store::ReportStore;
use zglos_tiles::tile::{heatmap_tile, reports_tile, CategoryStyle, ReportTileOptions, Vocabulary};

/// Unix seconds of the newest synthetic report.
const NOW: i64 = 1_795_000_000;
const DAY: i64 = 86_400;

fn synthetic_store(n: u64) -> ReportStore {
    let mut rng = StdRng::seed_from_u64(42);
    // Forty hotspots over a 30 × 18 km city; four reports in five near one of them.
    let hotspots: Vec<(f64, f64, f64)> = (0..40)
        .map(|_| {
            (
                rng.gen_range(19.80..20.20),
                rng.gen_range(49.98..50.12),
                rng.gen_range(0.002..0.006),
            )
        })
        .collect();
    let records = (0..n)
        .map(|id| {
            let (lon, lat) = if rng.gen_bool(0.8) {
                let (x, y, s) = hotspots[rng.gen_range(0..hotspots.len())];
                // A sum of uniforms: roughly Gaussian around the hotspot.
                let g =
                    |rng: &mut StdRng| (0..4).map(|_| rng.gen_range(-1.0..1.0)).sum::<f64>() * s;
                (x + g(&mut rng), y + g(&mut rng) * 0.65)
            } else {
                (rng.gen_range(19.79..20.22), rng.gen_range(49.97..50.13))
            };
            let age_days = (rng.gen::<f64>().powi(2) * 3.0 * 365.0) as i64;
            let status = if age_days < 30 {
                rng.gen_range(0..4)
            } else {
                rng.gen_range(3..7)
            };
            ReportRec::new(
                id,
                lon,
                lat,
                rng.gen_range(0..13),
                status,
                NOW - age_days * DAY - rng.gen_range(0..DAY),
                rng.gen_range(1..4),
                Kind::Point,
            )
        })
        .collect();
    ReportStore::bulk_load(records, vec![])
}

/// The tile at zoom z that holds the most reports.
fn busiest_tile(store: &ReportStore, z: u8) -> TileId {
    let mut counts = std::collections::HashMap::new();
    for r in store.in_tile(TileId::new(0, 0, 0).unwrap()) {
        let (ux, uy) = r.unit_position();
        *counts.entry(TileId::containing(z, ux, uy)).or_insert(0u32) += 1;
    }
    counts.into_iter().max_by_key(|&(t, n)| (n, t)).unwrap().0
}

struct Timing {
    median: Duration,
    p99: Duration,
}

/// Runs `f` repeatedly for about `budget` (at least 5 times) and reports the median and p99.
fn time<T>(budget: Duration, mut f: impl FnMut() -> T) -> Timing {
    let mut samples = Vec::new();
    let start = Instant::now();
    while samples.len() < 5 || (start.elapsed() < budget && samples.len() < 2000) {
        let t = Instant::now();
        black_box(f());
        samples.push(t.elapsed());
    }
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    Timing {
        median: at(0.5),
        p99: at(0.99),
    }
}

/// As the service sends tiles.
fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

fn main() {
    // `cargo test --benches` runs this with --bench absent: keep that quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let n: u64 = std::env::var("ZGLOS_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 20_000 } else { 1_000_000 });
    let budget = Duration::from_millis(if quick { 20 } else { 1500 });
    let t = Instant::now();
    let store = synthetic_store(n);
    println!(
        "store of {n} synthetic reports built in {:.2} s",
        t.elapsed().as_secs_f64()
    );

    let filters = [
        ("all", Filter::everything()),
        (
            "open, 2 categories",
            Filter {
                categories: Some(0b11),
                statuses: 0b1111,
                created_from: None,
                created_to: None,
            },
        ),
        (
            "last 30 days",
            Filter {
                created_from: Some(NOW - 30 * DAY),
                ..Filter::everything()
            },
        ),
    ];
    println!("\nheatmap cells (64 × 64 grid), busiest tile per zoom; ms per tile");
    println!("| zoom | filter | reports in tile | cells | ours median | ours p99 | plain median | plain p99 | speed-up (median) |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for z in [8u8, 10, 12, 14, 16] {
        let tile = busiest_tile(&store, z);
        let in_tile = store.in_tile(tile).count();
        for (name, f) in &filters {
            let cells = heat_grid(store.heat(), tile, f, 6);
            assert_eq!(
                cells.len(),
                heat_grid_reference(store.in_tile(tile), tile, f, 6).len()
            );
            let ours = time(budget, || heat_grid(store.heat(), tile, f, 6));
            let plain = time(budget, || {
                heat_grid_reference(store.in_tile(tile), tile, f, 6)
            });
            println!(
                "| z{z} | {name} | {in_tile} | {} | {} | {} | {} | {} | {:.1}× |",
                cells.len(),
                ms(ours.median),
                ms(ours.p99),
                ms(plain.median),
                ms(plain.p99),
                plain.median.as_secs_f64() / ours.median.as_secs_f64()
            );
        }
    }

    // What a submission or status change costs the store (records, heatmap index) under its lock.
    let mut store = store;
    let mut rng = StdRng::seed_from_u64(7);
    let adds = if quick { 1_000 } else { 100_000 };
    let mut worst = Duration::ZERO;
    let t = Instant::now();
    for i in 0..adds {
        let rec = ReportRec::new(
            n + i,
            rng.gen_range(19.79..20.22),
            rng.gen_range(49.97..50.13),
            rng.gen_range(0..13),
            0,
            NOW,
            1,
            Kind::Point,
        );
        let one = Instant::now();
        store.upsert(rec, None);
        worst = worst.max(one.elapsed());
    }
    let per_add = t.elapsed() / adds as u32;
    println!(
        "\n{adds} new reports added to the store: {:.1} µs each on average, {:.2} ms at worst",
        per_add.as_secs_f64() * 1e6,
        worst.as_secs_f64() * 1e3
    );
    let store = store;

    println!("\nwhole tiles (MVT bytes, not compressed), busiest tile per zoom; ms per tile");
    println!("| zoom | heatmap median | heatmap p99 | heatmap gzipped median | reports median | reports p99 |");
    println!("|---|---:|---:|---:|---:|---:|");
    let vocab = Vocabulary {
        categories: (0..13)
            .map(|i| CategoryStyle {
                code: format!("c{i}"),
                color: "#336699".into(),
            })
            .collect(),
        statuses: (0..7).map(|i| format!("s{i}")).collect(),
    };
    let opts = ReportTileOptions::default();
    for z in [8u8, 10, 12, 14, 16] {
        let tile = busiest_tile(&store, z);
        let heat = time(budget, || {
            heatmap_tile(&store, tile, &Filter::everything(), 6)
        });
        let heat_gz = time(budget, || {
            gzip(&heatmap_tile(&store, tile, &Filter::everything(), 6))
        });
        let reports = time(budget, || {
            reports_tile(&store, tile, &Filter::everything(), &vocab, &opts)
        });
        println!(
            "| z{z} | {} | {} | {} | {} | {} |",
            ms(heat.median),
            ms(heat.p99),
            ms(heat_gz.median),
            ms(reports.median),
            ms(reports.p99)
        );
    }
}
