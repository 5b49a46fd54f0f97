//! Heatmap aggregation: the reports of a tile counted into a 2^g × 2^g grid of cells.
//!
//! The store keeps records in Z-order, so a tile is one slice of it and each grid cell (a tile
//! `g` zooms deeper) is a run of that slice. A record's cell, and its position inside the cell to
//! 1/16 of the cell's side, are bits of its key: no coordinate is computed per record. A z8 tile
//! over a whole city reads every record once, at 16 bytes each, without a branch per record; the
//! cost of a heatmap tile is the count of reports under it, a few nanoseconds each.
use crate::mercator::TileId;
use crate::store::{HeatRec, ReportStore};
use crate::tile::Filter;

/// Levels below a cell used for the mean position inside it (1/16 of a cell's side).
const SUB_LEVELS: u32 = 4;

/// One occupied cell of a heatmap grid.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HeatCell {
    /// Column and row in the grid, from the tile's north-west corner.
    pub col: u32,
    pub row: u32,
    pub count: u32,
    /// Sum of supporters.
    pub weight: u64,
    /// Mean position of the cell's reports, in cells from the tile's north-west corner (so
    /// `col ≤ x < col + 1`).
    pub x: f64,
    pub y: f64,
}

/// The filter as lookup tables, so that matching a record is a few integer operations.
struct Matcher {
    /// Statuses shown, per category index (a category beyond 63 matches only an unfiltered list).
    statuses_by_category: [u64; 256],
    from: u32,
    /// Exclusive.
    to: u64,
}

impl Matcher {
    fn new(filter: &Filter) -> Self {
        let mut statuses_by_category = [0u64; 256];
        for (c, slot) in statuses_by_category.iter_mut().enumerate() {
            let shown = filter.categories.is_none_or(|set| c < 64 && (set >> c) & 1 == 1);
            if shown {
                *slot = filter.statuses;
            }
        }
        let from = filter.created_from.unwrap_or(0).clamp(0, u32::MAX as i64) as u32;
        let to = filter.created_to.map_or(u64::MAX, |t| t.clamp(0, u32::MAX as i64 + 1) as u64);
        Self { statuses_by_category, from, to }
    }

    /// 1 if the record is shown, else 0 (tombstones never are: their status is beyond 63).
    #[inline(always)]
    fn pass(&self, h: &HeatRec) -> u32 {
        let statuses = self.statuses_by_category[h.category as usize];
        let status_ok = ((statuses >> (h.status & 63)) & 1) as u32 & (h.status < 64) as u32;
        status_ok & (h.created_at >= self.from) as u32 & ((h.created_at as u64) < self.to) as u32
    }
}

/// x (even bits) and y (odd bits) of an 8-bit Morton code.
const fn deinterleave_table() -> [[u8; 2]; 256] {
    let mut t = [[0u8; 2]; 256];
    let mut m = 0;
    while m < 256 {
        let mut bit = 0;
        while bit < 4 {
            t[m][0] |= (((m >> (2 * bit)) & 1) << bit) as u8;
            t[m][1] |= (((m >> (2 * bit + 1)) & 1) << bit) as u8;
            bit += 1;
        }
        m += 1;
    }
    t
}
const SUB_XY: [[u8; 2]; 256] = deinterleave_table();

/// Column and row of a Morton cell index (x in the even bits).
fn cell_xy(morton: usize) -> (u32, u32) {
    let (mut x, mut y) = (0u32, 0u32);
    for bit in 0..16 {
        x |= (((morton >> (2 * bit)) & 1) as u32) << bit;
        y |= (((morton >> (2 * bit + 1)) & 1) as u32) << bit;
    }
    (x, y)
}

/// Accumulators per cell, indexed by the cell's Morton code inside the tile.
struct Grid {
    count: Vec<u32>,
    weight: Vec<u64>,
    sub_x: Vec<u64>,
    sub_y: Vec<u64>,
}

/// Sums over consecutive records of one cell. Sub-position sums fit in u32: a run holds at
/// most 2^28 records (beyond that, one cell would hold every report of a large country).
struct Run {
    cell: usize,
    count: u32,
    weight: u64,
    sub_x: u32,
    sub_y: u32,
}

impl Run {
    fn store(&self, grid: &mut Grid) {
        grid.count[self.cell] += self.count;
        grid.weight[self.cell] += self.weight;
        grid.sub_x[self.cell] += self.sub_x as u64;
        grid.sub_y[self.cell] += self.sub_y as u64;
    }
}

/// The tile's grid: occupied cells only, in Morton order. `grid_bits` = g: 2^g cells a side
/// (at most 8, and no finer than the keys' 2^-32 resolution).
pub fn heat_grid(store: &ReportStore, tile: TileId, filter: &Filter, grid_bits: u32) -> Vec<HeatCell> {
    let g = grid_bits.min(8).min(32 - tile.z as u32);
    let below_cell = 32 - tile.z as u32 - g;
    let sub = below_cell.min(SUB_LEVELS);
    let cell_shift = 2 * below_cell;
    let sub_shift = 2 * (below_cell - sub);
    let sub_mask = (1u64 << (2 * sub)) - 1;
    let n = 1usize << (2 * g);
    let lo = tile.key_range().0;
    let matcher = Matcher::new(filter);
    let mut grid = Grid { count: vec![0; n], weight: vec![0; n], sub_x: vec![0; n], sub_y: vec![0; n] };

    let (heat, base, delta) = store.heat_in_tile(tile);
    // The mask keeps a whole-world tile with no grid (a 64-bit shift) in its one cell.
    let cell_of = |rel: u64| ((rel >> cell_shift.min(63)) & (n as u64 - 1)) as usize;
    let sub_of = |rel: u64| SUB_XY[((rel >> sub_shift) & sub_mask) as usize];
    // Records come in key order, so a cell's records are one run: sum the run in registers and
    // store it when the cell changes.
    let mut run = Run { cell: 0, count: 0, weight: 0, sub_x: 0, sub_y: 0 };
    let mut saturated = 0u32;
    for h in heat {
        let rel = h.key - lo;
        let cell = cell_of(rel);
        if cell != run.cell {
            run.store(&mut grid);
            run = Run { cell, count: 0, weight: 0, sub_x: 0, sub_y: 0 };
        }
        let pass = matcher.pass(h);
        let [sx, sy] = sub_of(rel);
        run.count += pass;
        run.weight += (pass * h.supporters as u32) as u64;
        run.sub_x += pass * sx as u32;
        run.sub_y += pass * sy as u32;
        saturated += (h.supporters == u16::MAX) as u32;
    }
    run.store(&mut grid);
    if saturated > 0 {
        // Supporters beyond the u16 column: add what the column left out, from the full records.
        for (h, full) in heat.iter().zip(base).filter(|(h, _)| h.supporters == u16::MAX && matcher.pass(h) == 1) {
            grid.weight[cell_of(h.key - lo)] += (full.supporters - u16::MAX as u32) as u64;
        }
    }
    for r in delta.filter(|r| filter.matches(r)) {
        let rel = r.key - lo;
        let [sx, sy] = sub_of(rel);
        Run { cell: cell_of(rel), count: 1, weight: r.supporters as u64, sub_x: sx as u32, sub_y: sy as u32 }.store(&mut grid);
    }

    let sub_cells = (1u64 << sub) as f64;
    (0..n)
        .filter(|&i| grid.count[i] > 0)
        .map(|i| {
            let (col, row) = cell_xy(i);
            let count = grid.count[i];
            let mean = |s: u64| (s as f64 / count as f64 + 0.5) / sub_cells;
            HeatCell { col, row, count, weight: grid.weight[i], x: col as f64 + mean(grid.sub_x[i]), y: row as f64 + mean(grid.sub_y[i]) }
        })
        .collect()
}

/// The same aggregation done the plain way: every record's position computed, then binned. Kept
/// as the reference the fast path is checked and benchmarked against.
pub fn heat_grid_reference(store: &ReportStore, tile: TileId, filter: &Filter, grid_bits: u32) -> Vec<HeatCell> {
    let g = grid_bits.min(8).min(32 - tile.z as u32);
    let side = 1u32 << g;
    let mut cells: std::collections::BTreeMap<(u32, u32), (u32, u64, f64, f64)> = Default::default();
    for r in store.in_tile(tile).filter(|r| filter.matches(r)) {
        let (ux, uy) = r.unit_position();
        let (tx, ty) = tile.to_tile_coords(ux, uy, side);
        let (col, row) = ((tx as u32).min(side - 1), (ty as u32).min(side - 1));
        let c = cells.entry((row, col)).or_default();
        c.0 += 1;
        c.1 += r.supporters as u64;
        c.2 += tx;
        c.3 += ty;
    }
    cells
        .into_iter()
        .map(|((row, col), (count, weight, sx, sy))| HeatCell { col, row, count, weight, x: sx / count as f64, y: sy / count as f64 })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mercator;
    use crate::store::{Kind, ReportRec};
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
            let r = ReportRec::new(id, lon, lat.clamp(49.9, 50.2), 3, 1, 1_700_000_000, 2, Kind::Point);
            store.upsert(r, None);
        }
        store
    }

    #[test]
    fn fast_aggregation_equals_the_plain_one() {
        let store = random_store(5, 20_000);
        let filters = [
            Filter::everything(),
            Filter { categories: Some(0b1011), statuses: 0b0110, created_from: None, created_to: None },
            Filter { categories: None, statuses: u64::MAX, created_from: Some(1_650_000_000), created_to: Some(1_700_000_000) },
            Filter { categories: Some(0), statuses: u64::MAX, created_from: None, created_to: None },
        ];
        let (ux, uy) = mercator::to_unit(19.94, 50.06);
        for z in [0u8, 6, 8, 10, 12, 14, 16, 20, 26, 28] {
            let tile = TileId::containing(z, ux, uy);
            for f in &filters {
                for g in [0, 3, 6, 8] {
                    let fast = sorted(heat_grid(&store, tile, f, g));
                    let plain = heat_grid_reference(&store, tile, f, g);
                    assert_eq!(fast.len(), plain.len(), "z{z} g{g} {f:?}");
                    for (a, b) in fast.iter().zip(&plain) {
                        assert_eq!((a.col, a.row, a.count, a.weight), (b.col, b.row, b.count, b.weight), "z{z} g{g} {f:?}");
                        // The mean position is kept to 1/16 of a cell (where the keys go that deep).
                        assert!((a.x - b.x).abs() <= 1.0 / 16.0 + 1e-9 && (a.y - b.y).abs() <= 1.0 / 16.0 + 1e-9, "z{z} g{g}: {a:?} vs {b:?}");
                        assert!(a.col as f64 <= a.x && a.x <= a.col as f64 + 1.0);
                    }
                }
            }
        }
        // Everything is somewhere: the whole-world tile counts every live record once.
        let all: u32 = heat_grid(&store, TileId::new(0, 0, 0).unwrap(), &Filter::everything(), 6).iter().map(|c| c.count).sum();
        assert_eq!(all as usize, store.len());
    }

    #[test]
    fn filters_on_time_are_half_open_and_clamped() {
        let mut store = ReportStore::new();
        for (id, t) in [(1u64, -5i64), (2, 100), (3, 200), (4, 5_000_000_000)] {
            store.upsert(ReportRec::new(id, 19.94, 50.06, 0, 0, t, 1, Kind::Point), None);
        }
        let tile = TileId::new(0, 0, 0).unwrap();
        let count = |from, to| -> u32 {
            let f = Filter { categories: None, statuses: u64::MAX, created_from: from, created_to: to };
            heat_grid(&store, tile, &f, 4).iter().map(|c| c.count).sum()
        };
        assert_eq!(count(Some(100), Some(200)), 1);
        assert_eq!(count(Some(100), None), 3);
        assert_eq!(count(None, Some(100)), 1);
        assert_eq!(count(Some(-10), Some(i64::MAX)), 4);
    }
}
