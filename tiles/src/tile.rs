//! Vector tiles (Mapbox Vector Tile 2.1) of reports, heatmap cells and districts.
//!
//! The `mvt` crate encodes what it is given; choosing the features of a tile, moving them to tile
//! coordinates, clipping them to the tile (plus a buffer) and aggregating them is done here.
use geo::{Geometry, LineString, MultiPolygon, Polygon};
use mvt::{GeomEncoder, GeomType, Tile};

use crate::aggregate;
use crate::districts::District;
// The filter, also reachable here as before it had a module of its own.
pub use crate::filter::Filter;
use crate::mercator::{self, TileId};
use crate::record::{Kind, ReportRec};
use crate::store::ReportStore;

/// Tile grid size: MVT's usual 4096 units per tile side.
pub const EXTENT: u32 = 4096;
/// Lines and areas are clipped this far outside the tile so that strokes join across tiles.
pub const BUFFER: f64 = 64.0;

/// The names behind category and status indexes.
#[derive(Clone, Debug, Default)]
pub struct Vocabulary {
    pub categories: Vec<CategoryStyle>,
    pub statuses: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct CategoryStyle {
    pub code: String,
    pub color: String,
}

impl Vocabulary {
    fn category(&self, i: u16) -> (&str, &str) {
        self.categories
            .get(i as usize)
            .map(|c| (c.code.as_str(), c.color.as_str()))
            .unwrap_or(("unknown", "#666666"))
    }

    fn status(&self, i: u8) -> &str {
        self.statuses
            .get(i as usize)
            .map(String::as_str)
            .unwrap_or("unknown")
    }
}

/// How report tiles are built.
#[derive(Clone, Copy, Debug)]
pub struct ReportTileOptions {
    /// Below this zoom reports are always aggregated into clusters.
    pub cluster_below_zoom: u8,
    /// At or above `cluster_below_zoom`, a tile with more reports than this is clustered anyway,
    /// so that no tile carries more than a few thousand features.
    pub max_features: usize,
    /// Clusters are cells of a `grid` × `grid` lattice over the tile.
    pub grid: u32,
}

impl Default for ReportTileOptions {
    fn default() -> Self {
        Self {
            cluster_below_zoom: 14,
            max_features: 3000,
            grid: 64,
        }
    }
}

/// Per-cell aggregate of a tile's lattice.
#[derive(Clone, Copy, Default)]
struct Cell {
    count: u32,
    weight: u64,
    sum_x: f64,
    sum_y: f64,
    last: Option<ReportRec>,
}

/// A `grid` × `grid` lattice over one tile, accumulating counts, supporters, mean positions and
/// a category histogram per cell.
struct Lattice {
    tile: TileId,
    grid: u32,
    cells: Vec<Cell>,
    categories: usize,
    histogram: Vec<u32>,
}

impl Lattice {
    fn new(tile: TileId, grid: u32, categories: usize) -> Self {
        let n = (grid * grid) as usize;
        let categories = categories.max(1);
        Self {
            tile,
            grid,
            cells: vec![Cell::default(); n],
            categories,
            histogram: vec![0; n * categories],
        }
    }

    fn add(&mut self, r: &ReportRec) {
        let (ux, uy) = r.unit_position();
        let (tx, ty) = self.tile.to_tile_coords(ux, uy, EXTENT);
        let cell_size = EXTENT as f64 / self.grid as f64;
        let cx = ((tx / cell_size) as u32).min(self.grid - 1);
        let cy = ((ty / cell_size) as u32).min(self.grid - 1);
        let i = (cy * self.grid + cx) as usize;
        let c = &mut self.cells[i];
        c.count += 1;
        c.weight += r.supporters as u64;
        c.sum_x += tx;
        c.sum_y += ty;
        c.last = Some(*r);
        let cat = (r.category as usize).min(self.categories - 1);
        self.histogram[i * self.categories + cat] += 1;
    }

    fn dominant_category(&self, i: usize) -> u16 {
        let h = &self.histogram[i * self.categories..(i + 1) * self.categories];
        // Ties go to the lower index, so the colour of a cluster is stable.
        h.iter()
            .enumerate()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))
            .map(|(k, _)| k as u16)
            .unwrap_or(0)
    }

    fn occupied(&self) -> impl Iterator<Item = (usize, &Cell)> {
        self.cells.iter().enumerate().filter(|(_, c)| c.count > 0)
    }
}

fn point_geom(x: f64, y: f64) -> Option<mvt::GeomData> {
    GeomEncoder::new(GeomType::Point)
        .point(x.round(), y.round())
        .ok()?
        .encode()
        .ok()
}

fn add_report_props(f: &mut mvt::Feature, r: &ReportRec, vocab: &Vocabulary) {
    let (code, color) = vocab.category(r.category);
    f.set_id(r.id);
    f.add_tag_uint("id", r.id);
    f.add_tag_string("category", code);
    f.add_tag_string("status", vocab.status(r.status));
    f.add_tag_uint("supporters", r.supporters as u64);
    f.add_tag_string("color", color);
    f.add_tag_string("kind", r.kind.as_str());
}

/// A report tile: layer `reports` (single reports; lines and areas drawn whole at detail zooms)
/// and layer `clusters` (points with `count`, `weight` = supporters, dominant `category`).
pub fn reports_tile(
    store: &ReportStore,
    tile: TileId,
    filter: &Filter,
    vocab: &Vocabulary,
    opts: &ReportTileOptions,
) -> Vec<u8> {
    let clustered_zoom = tile.z < opts.cluster_below_zoom;
    let mut singles: Vec<ReportRec> = Vec::new();
    let mut lattice: Option<Lattice> =
        clustered_zoom.then(|| Lattice::new(tile, opts.grid, vocab.categories.len()));
    for r in store.in_tile(tile).filter(|r| filter.matches(r)) {
        match lattice.as_mut() {
            Some(l) => l.add(r),
            None => {
                singles.push(*r);
                if singles.len() > opts.max_features {
                    let mut l = Lattice::new(tile, opts.grid, vocab.categories.len());
                    singles.drain(..).for_each(|s| l.add(&s));
                    lattice = Some(l);
                }
            }
        }
    }

    let mvt_tile = Tile::new(EXTENT);
    let mut reports = mvt_tile.create_layer("reports");
    let mut clusters = mvt_tile.create_layer("clusters");
    let put_single = |layer: mvt::Layer, r: &ReportRec| -> mvt::Layer {
        let (ux, uy) = r.unit_position();
        let (x, y) = tile.to_tile_coords(ux, uy, EXTENT);
        match point_geom(x, y) {
            Some(g) => {
                let mut f = layer.into_feature(g);
                add_report_props(&mut f, r, vocab);
                f.into_layer()
            }
            None => layer,
        }
    };
    match &lattice {
        Some(l) => {
            for (i, cell) in l.occupied() {
                match (cell.count, cell.last) {
                    (1, Some(r)) => reports = put_single(reports, &r),
                    _ => {
                        let n = cell.count as f64;
                        let Some(g) = point_geom(cell.sum_x / n, cell.sum_y / n) else {
                            continue;
                        };
                        let (code, color) = vocab.category(l.dominant_category(i));
                        let mut f = clusters.into_feature(g);
                        f.set_id(i as u64 + 1);
                        f.add_tag_uint("count", cell.count as u64);
                        f.add_tag_uint("weight", cell.weight);
                        f.add_tag_string("category", code);
                        f.add_tag_string("color", color);
                        clusters = f.into_layer();
                    }
                }
            }
        }
        None => {
            for r in singles.iter().filter(|r| r.kind == Kind::Point) {
                reports = put_single(reports, r);
            }
            reports = add_shapes(reports, store, tile, filter, vocab);
        }
    }
    finish(mvt_tile, [reports, clusters])
}

/// Lines and areas meeting the tile, clipped to it.
fn add_shapes(
    mut layer: mvt::Layer,
    store: &ReportStore,
    tile: TileId,
    filter: &Filter,
    vocab: &Vocabulary,
) -> mvt::Layer {
    let (x0, y0, x1, y1) = tile.unit_bounds();
    let pad = tile.span() * BUFFER / EXTENT as f64;
    for (id, g) in store.shapes_in([x0 - pad, y0 - pad], [x1 + pad, y1 + pad]) {
        let Some(r) = store.get(id).filter(|r| filter.matches(r)) else {
            continue;
        };
        let Some(data) = encode_unit_geometry(tile, g) else {
            continue;
        };
        let mut f = layer.into_feature(data);
        add_report_props(&mut f, r, vocab);
        layer = f.into_layer();
    }
    layer
}

fn finish<const N: usize>(mut tile: Tile, layers: [mvt::Layer; N]) -> Vec<u8> {
    for layer in layers {
        // Empty layers are left out, as the spec allows; add_layer only fails on a foreign layer.
        if layer.num_features() > 0 {
            let _ = tile.add_layer(layer);
        }
    }
    tile.to_bytes().unwrap_or_default()
}

/// A heatmap tile: layer `heatmap` with one point per occupied cell of a 2^`grid_bits`-wide grid,
/// at the mean position of its reports, with `count` and `weight` (supporters).
pub fn heatmap_tile(store: &ReportStore, tile: TileId, filter: &Filter, grid_bits: u32) -> Vec<u8> {
    let cells = aggregate::heat_grid(store.heat(), tile, filter, grid_bits);
    let side = (1u32 << aggregate::grid_side_bits(tile, grid_bits)) as f64;
    let scale = EXTENT as f64 / side;
    let mut layer = points::PointLayer::new("heatmap", EXTENT, &["count", "weight"]);
    for cell in cells {
        let (x, y) = (
            (cell.x * scale).round() as i32,
            (cell.y * scale).round() as i32,
        );
        layer.add(
            cell.row as u64 * side as u64 + cell.col as u64 + 1,
            x,
            y,
            &[cell.count as u64, cell.weight],
        );
    }
    layer.into_tile()
}

/// District boundaries (layer `districts`) and label points (layer `district_labels`).
pub fn districts_tile(districts: &[District], tile: TileId) -> Vec<u8> {
    let mvt_tile = Tile::new(EXTENT);
    let mut polygons = mvt_tile.create_layer("districts");
    let mut labels = mvt_tile.create_layer("district_labels");
    let (w, s, e, n) = tile.lonlat_bounds();
    for d in districts {
        let Some(bbox) = geo::BoundingRect::bounding_rect(&d.geometry) else {
            continue;
        };
        if bbox.max().x < w || bbox.min().x > e || bbox.max().y < s || bbox.min().y > n {
            continue;
        }
        let unit = Geometry::MultiPolygon(d.geometry.clone()).map_coords_unit();
        if let Some(data) = encode_unit_geometry(tile, &unit) {
            let mut f = polygons.into_feature(data);
            f.set_id(d.id.max(0) as u64);
            f.add_tag_int("id", d.id as i64);
            f.add_tag_string("code", &d.code);
            f.add_tag_string("name", &d.name);
            polygons = f.into_layer();
        }
        if let Some(p) = crate::districts::label_point(&d.geometry) {
            let (ux, uy) = mercator::to_unit(p.x(), p.y());
            let (x, y) = tile.to_tile_coords(ux, uy, EXTENT);
            if (0.0..EXTENT as f64).contains(&x) && (0.0..EXTENT as f64).contains(&y) {
                if let Some(g) = point_geom(x, y) {
                    let mut f = labels.into_feature(g);
                    f.set_id(d.id.max(0) as u64);
                    f.add_tag_string("code", &d.code);
                    f.add_tag_string("name", &d.name);
                    labels = f.into_layer();
                }
            }
        }
    }
    finish(mvt_tile, [polygons, labels])
}

trait MapUnit {
    fn map_coords_unit(&self) -> Geometry<f64>;
}

impl MapUnit for Geometry<f64> {
    fn map_coords_unit(&self) -> Geometry<f64> {
        geo::MapCoords::map_coords(self, |c| {
            let (x, y) = mercator::to_unit(c.x, c.y);
            geo::Coord { x, y }
        })
    }
}

type Pt = (f64, f64);

/// Encodes a unit-square geometry into tile coordinates, clipped to the tile plus [`BUFFER`].
/// Returns None when nothing of it is left in the tile.
pub fn encode_unit_geometry(tile: TileId, g: &Geometry<f64>) -> Option<mvt::GeomData> {
    let to_tile = |ls: &LineString<f64>| -> Vec<Pt> {
        ls.0.iter()
            .map(|c| tile.to_tile_coords(c.x, c.y, EXTENT))
            .collect()
    };
    let (lo, hi) = (-BUFFER, EXTENT as f64 + BUFFER);
    match g {
        Geometry::LineString(ls) => encode_lines(clip_polyline(&to_tile(ls), lo, hi)),
        Geometry::MultiLineString(mls) => encode_lines(
            mls.0
                .iter()
                .flat_map(|ls| clip_polyline(&to_tile(ls), lo, hi))
                .collect(),
        ),
        Geometry::Polygon(p) => encode_polygons(std::slice::from_ref(p), &to_tile, lo, hi),
        Geometry::MultiPolygon(MultiPolygon(ps)) => encode_polygons(ps, &to_tile, lo, hi),
        _ => None,
    }
}

fn rounded(points: &[Pt]) -> Vec<(i32, i32)> {
    let mut out: Vec<(i32, i32)> = points
        .iter()
        .map(|&(x, y)| (x.round() as i32, y.round() as i32))
        .collect();
    out.dedup();
    out
}

fn encode_lines(parts: Vec<Vec<Pt>>) -> Option<mvt::GeomData> {
    let mut enc = GeomEncoder::<f64>::new(GeomType::Linestring);
    let mut any = false;
    for part in parts {
        let pts = rounded(&part);
        if pts.len() < 2 {
            continue;
        }
        for (x, y) in pts {
            enc.add_point(x as f64, y as f64).ok()?;
        }
        enc.complete_geom().ok()?;
        any = true;
    }
    any.then(|| enc.encode().ok()).flatten()
}

/// Twice the signed area in tile coordinates (y down): positive is clockwise on screen, which MVT
/// requires of exterior rings.
fn signed_area2(ring: &[(i32, i32)]) -> i64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            a.0 as i64 * b.1 as i64 - b.0 as i64 * a.1 as i64
        })
        .sum()
}

fn encode_polygons(
    polys: &[Polygon<f64>],
    to_tile: &dyn Fn(&LineString<f64>) -> Vec<Pt>,
    lo: f64,
    hi: f64,
) -> Option<mvt::GeomData> {
    let mut enc = GeomEncoder::<f64>::new(GeomType::Polygon);
    let mut any = false;
    let mut last: Option<(i32, i32)> = None;
    for p in polys {
        let ring_of = |ls: &LineString<f64>| -> Option<Vec<(i32, i32)>> {
            let mut pts = rounded(&clip_ring(&to_tile(ls), lo, hi));
            if pts.len() > 1 && pts.first() == pts.last() {
                pts.pop();
            }
            (pts.len() >= 3 && signed_area2(&pts) != 0).then_some(pts)
        };
        let Some(mut exterior) = ring_of(p.exterior()) else {
            continue;
        };
        if signed_area2(&exterior) < 0 {
            exterior.reverse();
        }
        let mut rings = vec![exterior];
        for hole in p.interiors() {
            if let Some(mut h) = ring_of(hole) {
                if signed_area2(&h) > 0 {
                    h.reverse();
                }
                rings.push(h);
            }
        }
        for mut ring in rings {
            // The encoder continues a part that starts where the previous one ended instead of
            // starting a new ring (no MoveTo): start such a ring one vertex later.
            if last == ring.first().copied() {
                ring.rotate_left(1);
            }
            last = ring.last().copied();
            for (x, y) in ring {
                enc.add_point(x as f64, y as f64).ok()?;
            }
            enc.complete_geom().ok()?;
        }
        any = true;
    }
    any.then(|| enc.encode().ok()).flatten()
}

/// Clips a polyline to the square [lo, hi]² (Liang–Barsky per segment); a line leaving and
/// re-entering the square becomes several parts.
pub fn clip_polyline(points: &[Pt], lo: f64, hi: f64) -> Vec<Vec<Pt>> {
    let mut parts: Vec<Vec<Pt>> = Vec::new();
    let mut current: Vec<Pt> = Vec::new();
    for w in points.windows(2) {
        match clip_segment(w[0], w[1], lo, hi) {
            Some((a, b)) => {
                if current.last() != Some(&a) {
                    if current.len() >= 2 {
                        parts.push(std::mem::take(&mut current));
                    }
                    current.clear();
                    current.push(a);
                }
                current.push(b);
            }
            None => {
                if current.len() >= 2 {
                    parts.push(std::mem::take(&mut current));
                }
                current.clear();
            }
        }
    }
    if current.len() >= 2 {
        parts.push(current);
    }
    parts
}

fn clip_segment(a: Pt, b: Pt, lo: f64, hi: f64) -> Option<(Pt, Pt)> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.0 - lo),
        (dx, hi - a.0),
        (-dy, a.1 - lo),
        (dy, hi - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let t = q / p;
            if p < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
            if t0 > t1 {
                return None;
            }
        }
    }
    Some((
        (a.0 + t0 * dx, a.1 + t0 * dy),
        (a.0 + t1 * dx, a.1 + t1 * dy),
    ))
}

/// One edge of the clip square: which side of it is inside, whether it is vertical, where it is.
type ClipEdge = (fn(Pt, f64) -> bool, bool, f64);

/// Clips a closed ring to the square [lo, hi]² (Sutherland–Hodgman). A concave ring may keep
/// zero-width runs along the square's edge, which render as nothing.
pub fn clip_ring(points: &[Pt], lo: f64, hi: f64) -> Vec<Pt> {
    let mut ring: Vec<Pt> = points.to_vec();
    if ring.len() > 1 && ring.first() == ring.last() {
        ring.pop();
    }
    // Each edge: keep points where inside(p) holds; intersect crossings.
    let edges: [ClipEdge; 4] = [
        (|p, v| p.0 >= v, true, lo),
        (|p, v| p.0 <= v, true, hi),
        (|p, v| p.1 >= v, false, lo),
        (|p, v| p.1 <= v, false, hi),
    ];
    for (inside, vertical, v) in edges {
        if ring.is_empty() {
            break;
        }
        let input = std::mem::take(&mut ring);
        let n = input.len();
        for i in 0..n {
            let (cur, prev) = (input[i], input[(i + n - 1) % n]);
            let cross = |a: Pt, b: Pt| -> Pt {
                if vertical {
                    let t = (v - a.0) / (b.0 - a.0);
                    (v, a.1 + t * (b.1 - a.1))
                } else {
                    let t = (v - a.1) / (b.1 - a.1);
                    (a.0 + t * (b.0 - a.0), v)
                }
            };
            match (inside(cur, v), inside(prev, v)) {
                (true, true) => ring.push(cur),
                (true, false) => {
                    ring.push(cross(prev, cur));
                    ring.push(cur);
                }
                (false, true) => ring.push(cross(prev, cur)),
                (false, false) => {}
            }
        }
    }
    ring
}

mod points;
#[cfg(test)]
mod tests;
