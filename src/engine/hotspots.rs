//! Hotspots: cells where one category's reports grew unusually, counted from the report store.
use std::collections::HashMap;

use zglos_tiles::mercator::{self, TileId};
use zglos_tiles::store::ReportStore;

/// A cell where one category's reports grew unusually.
#[derive(Clone, Debug, PartialEq)]
pub struct Hotspot {
    pub category: u16,
    pub lon: f64,
    pub lat: f64,
    pub recent: u32,
    /// Reports expected in the recent window at the baseline rate.
    pub baseline: f64,
    pub ratio: f64,
}

const DAY: i64 = 86_400;

/// Per category and zoom-15 cell: reports in the recent window, reports in the baseline window,
/// and the sums of the recent ones' unit-square positions.
pub(super) type Cells = HashMap<(u16, u32, u32), (u32, u32, f64, f64)>;

/// Counts the store's reports of the last `recent_days` and of the `baseline_days` before them,
/// per category and cell (about 1 km).
pub(super) fn count(store: &ReportStore, now: i64, recent_days: i64, baseline_days: i64) -> Cells {
    let recent_from = now - recent_days * DAY;
    let baseline_from = recent_from - baseline_days * DAY;
    let mut cells: Cells = HashMap::new();
    for r in store
        .in_tile(TileId { z: 0, x: 0, y: 0 })
        .filter(|r| r.created_at >= baseline_from && r.created_at <= now)
    {
        let (ux, uy) = r.unit_position();
        let t = TileId::containing(15, ux, uy);
        let c = cells.entry((r.category, t.x, t.y)).or_default();
        if r.created_at >= recent_from {
            c.0 += 1;
            c.2 += ux;
            c.3 += uy;
        } else {
            c.1 += 1;
        }
    }
    cells
}

/// The cells that grew against the weekly rate of the baseline, strongest first.
pub(super) fn rank(cells: Cells, recent_days: i64, baseline_days: i64) -> Vec<Hotspot> {
    let scale = recent_days as f64 / baseline_days.max(1) as f64;
    let mut out: Vec<Hotspot> = cells
        .into_iter()
        .filter_map(|((category, _, _), (recent, base, sx, sy))| {
            let expected = base as f64 * scale;
            // At least three reports, and three times what the baseline predicts (plus one, so
            // that a quiet cell does not become a hotspot from a couple of reports).
            let ratio = recent as f64 / (expected + 1.0);
            (recent >= 3 && ratio >= 3.0).then(|| {
                let (lon, lat) = mercator::from_unit(sx / recent as f64, sy / recent as f64);
                Hotspot {
                    category,
                    lon,
                    lat,
                    recent,
                    baseline: expected,
                    ratio,
                }
            })
        })
        .collect();
    out.sort_by(|a, b| b.ratio.total_cmp(&a.ratio));
    out
}
