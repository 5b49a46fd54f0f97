//! The heatmap of a store checked against the plain aggregation, through the store's inserts,
//! status changes and moves (which keep its heat index in step).
use super::*;
use crate::aggregate::{heat_grid, heat_grid_reference, HeatCell};
use crate::filter::Filter;
use rand::{rngs::StdRng, Rng, SeedableRng};

fn sorted(mut v: Vec<HeatCell>) -> Vec<HeatCell> {
    v.sort_by_key(|c| (c.row, c.col));
    v
}

fn random_store(seed: u64, n: u64) -> ReportStore {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut recs = Vec::new();
    for id in 0..n {
        // Around a few centres, so that cells hold many reports and some hold one.
        let (cx, cy) = [(19.94, 50.06), (20.03, 50.07), (19.90, 50.02)][rng.gen_range(0..3)];
        let lon = cx + rng.gen_range(-0.05..0.05) * rng.gen::<f64>();
        let lat = cy + rng.gen_range(-0.03..0.03) * rng.gen::<f64>();
        recs.push(ReportRec::new(
            id,
            lon,
            lat,
            rng.gen_range(0..13),
            rng.gen_range(0..7),
            rng.gen_range(1_600_000_000..1_750_000_000),
            rng.gen_range(1..5),
            Kind::Point,
        ));
    }
    // Small deltas: records end up merged, in the delta, and moved between the two.
    let mut store = ReportStore::with_delta_limit(500);
    for r in &recs {
        store.upsert(*r, None);
    }
    // Status changes (in place) and moves (tombstone + delta) on both sides of a merge.
    for id in (0..n).step_by(7) {
        let mut r = *store.get(id).unwrap();
        r.status = (r.status + 1) % 7;
        r.supporters += 70_000; // beyond the u16 column: must still be summed exactly
        store.upsert(r, None);
    }
    for id in (0..n).step_by(11) {
        let (lon, lat) = mercator::from_unit(store.get(id).unwrap().unit_position().0 + 1e-6, 0.33);
        let r = ReportRec::new(
            id,
            lon,
            lat.clamp(49.9, 50.2),
            3,
            1,
            1_700_000_000,
            2,
            Kind::Point,
        );
        store.upsert(r, None);
    }
    store
}

#[test]
fn fast_aggregation_equals_the_plain_one() {
    let store = random_store(5, 20_000);
    let filters = [
        Filter::everything(),
        Filter {
            categories: Some(0b1011),
            statuses: 0b0110,
            created_from: None,
            created_to: None,
        },
        Filter {
            categories: None,
            statuses: u64::MAX,
            created_from: Some(1_650_000_000),
            created_to: Some(1_700_000_000),
        },
        Filter {
            categories: Some(0),
            statuses: u64::MAX,
            created_from: None,
            created_to: None,
        },
    ];
    let (ux, uy) = mercator::to_unit(19.94, 50.06);
    for z in [0u8, 6, 8, 10, 12, 14, 16, 20, 26, 28] {
        let tile = TileId::containing(z, ux, uy);
        for f in &filters {
            for g in [0, 3, 6, 8] {
                let fast = sorted(heat_grid(store.heat(), tile, f, g));
                let plain = heat_grid_reference(store.in_tile(tile), tile, f, g);
                assert_eq!(fast.len(), plain.len(), "z{z} g{g} {f:?}");
                for (a, b) in fast.iter().zip(&plain) {
                    assert_eq!(
                        (a.col, a.row, a.count, a.weight),
                        (b.col, b.row, b.count, b.weight),
                        "z{z} g{g} {f:?}"
                    );
                    // The mean position is kept to 1/16 of a cell (where the keys go that deep).
                    assert!(
                        (a.x - b.x).abs() <= 1.0 / 16.0 + 1e-9
                            && (a.y - b.y).abs() <= 1.0 / 16.0 + 1e-9,
                        "z{z} g{g}: {a:?} vs {b:?}"
                    );
                    assert!(a.col as f64 <= a.x && a.x <= a.col as f64 + 1.0);
                }
            }
        }
    }
    // Everything is somewhere: the whole-world tile counts every live record once.
    let all: u32 = heat_grid(
        store.heat(),
        TileId::new(0, 0, 0).unwrap(),
        &Filter::everything(),
        6,
    )
    .iter()
    .map(|c| c.count)
    .sum();
    assert_eq!(all as usize, store.len());
}

#[test]
fn filters_on_time_are_half_open_and_clamped() {
    let mut store = ReportStore::new();
    for (id, t) in [(1u64, -5i64), (2, 100), (3, 200), (4, 5_000_000_000)] {
        store.upsert(
            ReportRec::new(id, 19.94, 50.06, 0, 0, t, 1, Kind::Point),
            None,
        );
    }
    let tile = TileId::new(0, 0, 0).unwrap();
    let count = |from, to| -> u32 {
        let f = Filter {
            categories: None,
            statuses: u64::MAX,
            created_from: from,
            created_to: to,
        };
        heat_grid(store.heat(), tile, &f, 4)
            .iter()
            .map(|c| c.count)
            .sum()
    };
    assert_eq!(count(Some(100), Some(200)), 1);
    assert_eq!(count(Some(100), None), 3);
    assert_eq!(count(None, Some(100)), 1);
    assert_eq!(count(Some(-10), Some(i64::MAX)), 4);
}
