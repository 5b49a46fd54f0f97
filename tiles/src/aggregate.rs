//! Heatmap aggregation: the reports of a tile counted into a 2^g × 2^g grid of cells.
//!
//! A cell of a tile's grid is a tile `g` zooms deeper, so on the Z-order curve a cell is a range
//! of keys, and a report's cell and its position inside the cell (to 1/16 of the cell's side) are
//! bits of its key: no coordinate is computed per report. The reports are kept twice over in a
//! [`HeatIndex`]:
//!
//! * by week of creation, each week's sorted by key: a tile reads, from the weeks its filter's
//!   time range touches, the slice under the tile; "the last 30 days" reads five short slices;
//! * summed per cell of zoom 16 and of zoom 18 (a few hundred and about a hundred metres),
//!   category and status: a filter without time bounds at zoom 12 and below (where a tile holds a
//!   large part of the city) adds up these sums instead of reading every report.
//!
//! Both give exact counts and weights; the tests check them against the plain aggregation.
use std::collections::BTreeMap;

use crate::filter::Filter;
use crate::mercator::TileId;
use crate::record::{merge_sorted, ReportRec};

/// Levels below a cell used for the mean position inside it (1/16 of a cell's side).
const SUB_LEVELS: u32 = 4;
/// The zooms of the cells the summaries sum over, coarsest first; a tile whose grid cells are the
/// size of one of them or larger is served from the coarsest that fits.
const SUMMARY_LEVELS: [u32; 2] = [16, 18];
/// Reports are grouped by this span of creation times (a week, in seconds): short enough that a
/// recent time range skips most reports, long enough that a tile without one does not spend its
/// time looking into thousands of groups.
const SPAN: i64 = 7 * 86_400;

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

/// What a heatmap needs of a report, in 16 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct HeatRec {
    key: u64,
    /// Unix seconds, clamped to the u32 range (1970–2106).
    created_at: u32,
    /// Clamped to u16::MAX; beyond that, [`HeatIndex::heavy`] holds the true count.
    supporters: u16,
    /// Clamped to u8::MAX (a filter names at most 64 categories).
    category: u8,
    status: u8,
}

impl From<&ReportRec> for HeatRec {
    fn from(r: &ReportRec) -> Self {
        Self {
            key: r.key,
            created_at: r.created_at.clamp(0, u32::MAX as i64) as u32,
            supporters: r.supporters.min(u16::MAX as u32) as u16,
            category: r.category.min(u8::MAX as u16) as u8,
            status: r.status,
        }
    }
}

/// Sums over the reports of one summary cell, category and status.
#[derive(Clone, Copy, Debug, Default)]
struct CellSum {
    /// The cell's key at its summary's level (the top bits of its reports' keys).
    cell: u64,
    category: u8,
    status: u8,
    count: u32,
    weight: u64,
    /// Sums of the reports' positions inside the cell, in 1/16 of its side.
    sub_x: u64,
    sub_y: u64,
}

impl CellSum {
    fn order(&self) -> (u64, u8, u8) {
        (self.cell, self.category, self.status)
    }
}

/// The reports of one span of creation times, in key order: a sorted base and, for the reports
/// added since its last merge, a small sorted delta, so that adding a report never moves the
/// whole span (new reports all land in the current span).
#[derive(Default)]
struct Span {
    base: Vec<HeatRec>,
    delta: Vec<HeatRec>,
}

/// Reports a span's delta takes before it is merged into the base (small in tests, so that they
/// go through merges).
const SPAN_DELTA_LIMIT: usize = if cfg!(test) { 8 } else { 1024 };

impl Span {
    fn add(&mut self, h: HeatRec) {
        let at = self.delta.partition_point(|d| d.key < h.key);
        self.delta.insert(at, h);
        if self.delta.len() >= SPAN_DELTA_LIMIT {
            let (base, delta) = (
                std::mem::take(&mut self.base),
                std::mem::take(&mut self.delta),
            );
            self.base = merged(base, delta, |h| h.key);
        }
    }

    /// Removes one report equal to `h` (reports equal in everything a heatmap sees are
    /// interchangeable: any one will do).
    fn remove(&mut self, h: &HeatRec) {
        for v in [&mut self.delta, &mut self.base] {
            let from = v.partition_point(|d| d.key < h.key);
            if let Some(i) = v[from..]
                .iter()
                .take_while(|d| d.key == h.key)
                .position(|d| d == h)
            {
                v.remove(from + i);
                return;
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.base.is_empty() && self.delta.is_empty()
    }

    /// The reports whose keys lie in `lo..=hi`, as two key-ordered slices.
    fn slices(&self, lo: u64, hi: u64) -> [&[HeatRec]; 2] {
        [&self.base, &self.delta]
            .map(|v| &v[v.partition_point(|h| h.key < lo)..v.partition_point(|h| h.key <= hi)])
    }
}

/// Two sorted vectors as one sorted vector.
fn merged<T, K: Ord>(a: Vec<T>, b: Vec<T>, key: impl Fn(&T) -> K) -> Vec<T> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    out.extend(merge_sorted(a, b, key));
    out
}

/// Sums per cell of one zoom, category and status.
struct Summary {
    level: u32,
    /// Sorted by cell, category and status ...
    sums: Vec<CellSum>,
    /// ... and, not yet merged into it, sums of combinations first seen since the last merge.
    new_sums: BTreeMap<(u64, u8, u8), CellSum>,
}

/// New combinations wait apart until there are this many: a merge moves every sum (small in
/// tests, so that they go through merges).
const NEW_SUMS_LIMIT: usize = if cfg!(test) { 64 } else { 65_536 };

impl Summary {
    fn new(level: u32) -> Self {
        Self {
            level,
            sums: Vec::new(),
            new_sums: BTreeMap::new(),
        }
    }

    fn build(level: u32, records: &[ReportRec]) -> Self {
        let mut sums: BTreeMap<(u64, u8, u8), CellSum> = BTreeMap::new();
        let mut summary = Self::new(level);
        for r in records {
            let h = HeatRec::from(r);
            accumulate(
                level,
                sums.entry(summary.order(&h)).or_default(),
                &h,
                r.supporters,
                1,
            );
        }
        summary.sums = sums
            .into_iter()
            .map(|((cell, category, status), e)| CellSum {
                cell,
                category,
                status,
                ..e
            })
            .collect();
        summary
    }

    fn order(&self, h: &HeatRec) -> (u64, u8, u8) {
        (h.key >> (64 - 2 * self.level), h.category, h.status)
    }

    /// Adds (`sign` 1) or takes away (-1) one report.
    fn add(&mut self, h: &HeatRec, supporters: u32, sign: i64) {
        let target = self.order(h);
        let level = self.level;
        let e = match self.sums.binary_search_by(|e| e.order().cmp(&target)) {
            Ok(i) => &mut self.sums[i],
            Err(_) if sign < 0 && !self.new_sums.contains_key(&target) => return,
            Err(_) => self.new_sums.entry(target).or_insert_with(|| {
                let (cell, category, status) = target;
                CellSum {
                    cell,
                    category,
                    status,
                    ..CellSum::default()
                }
            }),
        };
        accumulate(level, e, h, supporters, sign);
        if self.new_sums.len() >= NEW_SUMS_LIMIT {
            let new: Vec<CellSum> = std::mem::take(&mut self.new_sums).into_values().collect();
            self.sums = merged(std::mem::take(&mut self.sums), new, CellSum::order);
        }
    }
}

/// Adds (`sign` 1) or takes away (-1) one report from the sums of a cell at `level`.
fn accumulate(level: u32, e: &mut CellSum, h: &HeatRec, supporters: u32, sign: i64) {
    let [sx, sy] = SUB_XY[((h.key >> (2 * (32 - level - SUB_LEVELS))) & 0xFF) as usize];
    let add = |v: &mut u64, d: u64| *v = v.wrapping_add_signed(sign * d as i64);
    e.count = e.count.wrapping_add_signed(sign as i32);
    add(&mut e.weight, supporters as u64);
    add(&mut e.sub_x, sx as u64);
    add(&mut e.sub_y, sy as u64);
}

/// The live reports arranged for heatmaps. It knows records only: the report store owns one and
/// keeps it in step with every change (`add` the new record, `remove` the one it replaces).
pub struct HeatIndex {
    /// Reports by [`SPAN`] of creation, each span's sorted by key.
    spans: BTreeMap<u32, Span>,
    /// One per level of [`SUMMARY_LEVELS`].
    summaries: Vec<Summary>,
    /// Reports with more supporters than a u16 holds: (key, created_at, category, supporters).
    heavy: Vec<(u64, u32, u8, u32)>,
    /// Creation times of every report ever added: a time filter that spans them cuts nothing.
    oldest: i64,
    newest: i64,
}

impl Default for HeatIndex {
    fn default() -> Self {
        let summaries = SUMMARY_LEVELS.iter().map(|&l| Summary::new(l)).collect();
        Self {
            spans: BTreeMap::new(),
            summaries,
            heavy: Vec::new(),
            oldest: i64::MAX,
            newest: i64::MIN,
        }
    }
}

impl HeatIndex {
    pub fn build(records: &[ReportRec]) -> Self {
        let mut index = Self::default();
        let mut by_span: Vec<HeatRec> = records.iter().map(HeatRec::from).collect();
        by_span.sort_unstable_by_key(|h| (h.created_at / SPAN as u32, h.key));
        for chunk in
            by_span.chunk_by(|a, b| a.created_at / SPAN as u32 == b.created_at / SPAN as u32)
        {
            index.spans.insert(
                chunk[0].created_at / SPAN as u32,
                Span {
                    base: chunk.to_vec(),
                    delta: Vec::new(),
                },
            );
        }
        index.summaries = SUMMARY_LEVELS
            .iter()
            .map(|&l| Summary::build(l, records))
            .collect();
        for r in records {
            index.note(r);
        }
        index
    }

    fn note(&mut self, r: &ReportRec) {
        if r.supporters >= u16::MAX as u32 {
            let h = HeatRec::from(r);
            self.heavy
                .push((h.key, h.created_at, h.category, r.supporters));
        }
        self.oldest = self.oldest.min(r.created_at);
        self.newest = self.newest.max(r.created_at);
    }

    pub fn add(&mut self, r: &ReportRec) {
        let h = HeatRec::from(r);
        self.spans
            .entry(h.created_at / SPAN as u32)
            .or_default()
            .add(h);
        for summary in &mut self.summaries {
            summary.add(&h, r.supporters, 1);
        }
        self.note(r);
    }

    pub fn remove(&mut self, r: &ReportRec) {
        let h = HeatRec::from(r);
        let span_key = h.created_at / SPAN as u32;
        if let Some(span) = self.spans.get_mut(&span_key) {
            span.remove(&h);
            if span.is_empty() {
                self.spans.remove(&span_key);
            }
        }
        for summary in &mut self.summaries {
            summary.add(&h, r.supporters, -1);
        }
        if r.supporters >= u16::MAX as u32 {
            if let Some(i) = self.heavy.iter().position(|&(k, c, cat, s)| {
                (k, c, cat, s) == (h.key, h.created_at, h.category, r.supporters)
            }) {
                self.heavy.swap_remove(i);
            }
        }
    }

    /// The true supporters of a report whose u16 column is saturated.
    fn heavy_supporters(&self, h: &HeatRec) -> u32 {
        self.heavy
            .iter()
            .find(|&&(k, c, cat, _)| (k, c, cat) == (h.key, h.created_at, h.category))
            .map_or(u16::MAX as u32, |e| e.3)
    }
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
            let shown = filter
                .categories
                .is_none_or(|set| c < 64 && (set >> c) & 1 == 1);
            if shown {
                *slot = filter.statuses;
            }
        }
        let from = filter.created_from.unwrap_or(0).clamp(0, u32::MAX as i64) as u32;
        let to = filter
            .created_to
            .map_or(u64::MAX, |t| t.clamp(0, u32::MAX as i64 + 1) as u64);
        Self {
            statuses_by_category,
            from,
            to,
        }
    }

    #[inline(always)]
    fn shows(&self, category: u8, status: u8) -> u32 {
        let statuses = self.statuses_by_category[category as usize];
        ((statuses >> (status & 63)) & 1) as u32 & (status < 64) as u32
    }

    /// 1 if the report is shown, else 0.
    #[inline(always)]
    fn pass(&self, h: &HeatRec) -> u32 {
        self.shows(h.category, h.status)
            & (h.created_at >= self.from) as u32
            & ((h.created_at as u64) < self.to) as u32
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

/// Column and row of a 32-bit Morton code (x in the even bits).
fn morton_xy(m: u64) -> (u32, u32) {
    (0..4).fold((0, 0), |(x, y), byte| {
        let [bx, by] = SUB_XY[((m >> (8 * byte)) & 0xFF) as usize];
        (x | (bx as u32) << (4 * byte), y | (by as u32) << (4 * byte))
    })
}

/// Accumulators per cell, indexed by the cell's Morton code inside the tile; positions in units of
/// `1 / units` of a cell.
struct Grid {
    count: Vec<u32>,
    weight: Vec<u64>,
    sub_x: Vec<u64>,
    sub_y: Vec<u64>,
    units: f64,
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

/// The grid a tile gets for `grid_bits`: 2^g cells a side, g at most 8 and no finer than the
/// keys' 2^-32 resolution.
pub fn grid_side_bits(tile: TileId, grid_bits: u32) -> u32 {
    grid_bits.min(8).min(32 - tile.z as u32)
}

/// The tile's grid ([`grid_side_bits`] of `grid_bits`): occupied cells only, in Morton order.
pub fn heat_grid(
    index: &HeatIndex,
    tile: TileId,
    filter: &Filter,
    grid_bits: u32,
) -> Vec<HeatCell> {
    let g = grid_side_bits(tile, grid_bits);
    let level = tile.z as u32 + g;
    let n = 1usize << (2 * g);
    let matcher = Matcher::new(filter);
    let mut grid = Grid {
        count: vec![0; n],
        weight: vec![0; n],
        sub_x: vec![0; n],
        sub_y: vec![0; n],
        units: 1.0,
    };
    let all_times = filter.created_from.is_none_or(|t| t <= index.oldest)
        && filter.created_to.is_none_or(|t| t > index.newest);
    if let Some(summary) = index
        .summaries
        .iter()
        .find(|s| all_times && level <= s.level)
    {
        from_sums(summary, tile, level, &matcher, &mut grid);
    } else {
        from_spans(index, tile, level, filter, &matcher, &mut grid);
    }
    (0..n)
        .filter(|&i| grid.count[i] > 0)
        .map(|i| {
            let (col, row) = morton_xy(i as u64);
            let count = grid.count[i];
            let mean = |s: u64| (s as f64 / count as f64 + 0.5) / grid.units;
            HeatCell {
                col,
                row,
                count,
                weight: grid.weight[i],
                x: col as f64 + mean(grid.sub_x[i]),
                y: row as f64 + mean(grid.sub_y[i]),
            }
        })
        .collect()
}

/// Adds up the summary cells under the tile (grid cells at `level` ≤ the summary's).
fn from_sums(summary: &Summary, tile: TileId, level: u32, matcher: &Matcher, grid: &mut Grid) {
    let (lo, hi) = tile.key_range();
    let shift = 64 - 2 * summary.level;
    let (lo, hi) = (lo >> shift, hi >> shift);
    // Summary cells per grid cell side: 2^below; positions in 1/16 of a summary cell.
    let below = summary.level - level;
    grid.units = (1u64 << (below + SUB_LEVELS)) as f64;
    let sums = &summary.sums;
    let main = &sums[sums.partition_point(|e| e.cell < lo)..sums.partition_point(|e| e.cell <= hi)];
    let new = summary
        .new_sums
        .range((lo, 0, 0)..=(hi, u8::MAX, u8::MAX))
        .map(|(_, e)| e);
    for e in main.iter().chain(new) {
        if matcher.shows(e.category, e.status) == 0 || e.count == 0 {
            continue;
        }
        let rel = e.cell - lo;
        let cell = (rel >> (2 * below)) as usize & (grid.count.len() - 1);
        let (ox, oy) = morton_xy(rel & ((1u64 << (2 * below)) - 1));
        let scale = (1u64 << SUB_LEVELS) * e.count as u64;
        grid.count[cell] += e.count;
        grid.weight[cell] += e.weight;
        grid.sub_x[cell] += ox as u64 * scale + e.sub_x;
        grid.sub_y[cell] += oy as u64 * scale + e.sub_y;
    }
}

/// Reads the reports under the tile from the spans the filter's time range touches.
fn from_spans(
    index: &HeatIndex,
    tile: TileId,
    level: u32,
    filter: &Filter,
    matcher: &Matcher,
    grid: &mut Grid,
) {
    let below_cell = 32 - level;
    let sub = below_cell.min(SUB_LEVELS);
    let cell_shift = 2 * below_cell;
    let sub_shift = 2 * (below_cell - sub);
    let sub_mask = (1u64 << (2 * sub)) - 1;
    grid.units = (1u64 << sub) as f64;
    let n = grid.count.len() as u64;
    let (lo, hi) = tile.key_range();
    // The mask keeps a whole-world tile with no grid (a 64-bit shift) in its one cell.
    let cell_of = |rel: u64| ((rel >> cell_shift.min(63)) & (n - 1)) as usize;
    let first = filter
        .created_from
        .map_or(0, |t| (t.clamp(0, u32::MAX as i64) / SPAN) as u32);
    let last = filter.created_to.map_or(u32::MAX, |t| {
        ((t - 1).clamp(0, u32::MAX as i64) / SPAN) as u32
    });
    if first > last {
        return;
    }
    for slice in index
        .spans
        .range(first..=last)
        .flat_map(|(_, s)| s.slices(lo, hi))
    {
        // A span's reports come in key order, so a cell's reports are one run: sum the run in
        // registers and store it when the cell changes.
        let mut run = Run {
            cell: 0,
            count: 0,
            weight: 0,
            sub_x: 0,
            sub_y: 0,
        };
        let mut saturated = false;
        for h in slice {
            let rel = h.key - lo;
            let cell = cell_of(rel);
            if cell != run.cell {
                run.store(grid);
                run = Run {
                    cell,
                    count: 0,
                    weight: 0,
                    sub_x: 0,
                    sub_y: 0,
                };
            }
            let pass = matcher.pass(h);
            let [sx, sy] = SUB_XY[((rel >> sub_shift) & sub_mask) as usize];
            run.count += pass;
            run.weight += (pass * h.supporters as u32) as u64;
            run.sub_x += pass * sx as u32;
            run.sub_y += pass * sy as u32;
            saturated |= h.supporters == u16::MAX;
        }
        run.store(grid);
        if saturated {
            // Supporters beyond the u16 column: add what it left out.
            for h in slice
                .iter()
                .filter(|h| h.supporters == u16::MAX && matcher.pass(h) == 1)
            {
                grid.weight[cell_of(h.key - lo)] +=
                    (index.heavy_supporters(h) - u16::MAX as u32) as u64;
            }
        }
    }
}

/// The same aggregation done the plain way: every record's position computed, then binned. Kept
/// as the reference the fast path is checked and benchmarked against. `records` are the live
/// records whose anchor lies in `tile` (as the store's `in_tile` gives them).
pub fn heat_grid_reference<'a>(
    records: impl IntoIterator<Item = &'a ReportRec>,
    tile: TileId,
    filter: &Filter,
    grid_bits: u32,
) -> Vec<HeatCell> {
    let g = grid_side_bits(tile, grid_bits);
    let side = 1u32 << g;
    let mut cells: std::collections::BTreeMap<(u32, u32), (u32, u64, f64, f64)> =
        Default::default();
    for r in records.into_iter().filter(|r| filter.matches(r)) {
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
        .map(|((row, col), (count, weight, sx, sy))| HeatCell {
            col,
            row,
            count,
            weight,
            x: sx / count as f64,
            y: sy / count as f64,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mercator;
    use crate::record::Kind;
    use rand::{rngs::StdRng, Rng, SeedableRng};

    fn records(seed: u64, n: u64, first_id: u64) -> Vec<ReportRec> {
        let mut rng = StdRng::seed_from_u64(seed);
        (first_id..first_id + n)
            .map(|id| {
                ReportRec::new(
                    id,
                    19.94 + rng.gen_range(-0.04..0.04) * rng.gen::<f64>(),
                    50.06 + rng.gen_range(-0.02..0.02) * rng.gen::<f64>(),
                    rng.gen_range(0..5),
                    rng.gen_range(0..4),
                    rng.gen_range(1_600_000_000..1_750_000_000),
                    rng.gen_range(1..4),
                    Kind::Point,
                )
            })
            .collect()
    }

    fn key_counts(cells: &[HeatCell]) -> Vec<(u32, u32, u32, u64)> {
        let mut v: Vec<_> = cells
            .iter()
            .map(|c| (c.row, c.col, c.count, c.weight))
            .collect();
        v.sort();
        v
    }

    /// The heat index on its own, fed records (no store): built in one go, or report by report
    /// with others added and taken away again, it counts what the plain aggregation counts.
    #[test]
    fn an_index_built_at_once_equals_one_fed_report_by_report() {
        let recs = records(11, 5_000, 0);
        let passing = records(12, 700, 10_000);
        let built = HeatIndex::build(&recs);
        let mut fed = HeatIndex::default();
        for r in recs.iter().chain(&passing) {
            fed.add(r);
        }
        for r in &passing {
            fed.remove(r);
        }
        let filters = [
            Filter::everything(),
            Filter {
                categories: Some(0b101),
                statuses: 0b11,
                created_from: None,
                created_to: None,
            },
            Filter {
                created_from: Some(1_650_000_000),
                created_to: Some(1_700_000_000),
                ..Filter::everything()
            },
        ];
        let (ux, uy) = mercator::to_unit(19.94, 50.06);
        for z in [0u8, 9, 12, 15, 18] {
            let tile = TileId::containing(z, ux, uy);
            let (lo, hi) = tile.key_range();
            let in_tile = || recs.iter().filter(|r| (lo..=hi).contains(&r.key));
            for f in &filters {
                for g in [0, 4, 6] {
                    let plain = key_counts(&heat_grid_reference(in_tile(), tile, f, g));
                    assert_eq!(
                        key_counts(&heat_grid(&built, tile, f, g)),
                        plain,
                        "z{z} g{g}"
                    );
                    assert_eq!(key_counts(&heat_grid(&fed, tile, f, g)), plain, "z{z} g{g}");
                }
            }
        }
    }
}
