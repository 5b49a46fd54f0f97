//! The MVT clipper and encoder of the spatial core: random points, lines and polygons with
//! coordinates around a random tile (inside, across its edges, and far outside) are clipped to
//! the tile plus its buffer and encoded. The tile must decode as valid MVT, and every vertex must
//! lie inside [-BUFFER, EXTENT + BUFFER].
#![no_main]
use arbitrary::Arbitrary;
use geo_types::{Coord, Geometry, LineString, MultiLineString, MultiPolygon, Polygon};
use libfuzzer_sys::fuzz_target;
use zglos_tiles::districts::District;
use zglos_tiles::mercator::{from_unit, TileId, MAX_ZOOM};
use zglos_tiles::tile::{districts_tile, encode_unit_geometry, BUFFER, EXTENT};

/// A position in tile pixels relative to the tile's top-left corner (4096 per tile).
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Pos {
    /// Within ±8 tiles, to the pixel.
    Near(i16, i16),
    /// Within ±8 tiles, to 1/256 pixel.
    Fine(i32, i32),
    /// Anywhere up to ±2^31 pixels away.
    Far(i32, i32),
}

#[derive(Arbitrary, Debug)]
enum Shape {
    Line(Vec<Pos>),
    Lines(Vec<Vec<Pos>>),
    Polygon(Vec<Pos>, Vec<Vec<Pos>>),
    Polygons(Vec<(Vec<Pos>, Vec<Vec<Pos>>)>),
}

#[derive(Arbitrary, Debug)]
struct Input {
    z: u8,
    x: u32,
    y: u32,
    shapes: Vec<Shape>,
    /// The polygons again as districts (lon/lat), whose tile also carries label points.
    as_districts: bool,
}

fn ring(tile: TileId, ps: &[Pos], closed: bool) -> LineString<f64> {
    let n = (1u64 << tile.z) as f64;
    let e = EXTENT as f64;
    let mut cs: Vec<Coord<f64>> = ps
        .iter()
        .map(|p| {
            let (px, py) = match *p {
                Pos::Near(x, y) => (x as f64, y as f64),
                Pos::Fine(x, y) => (x as f64 / 65536.0, y as f64 / 65536.0),
                Pos::Far(x, y) => (x as f64, y as f64),
            };
            Coord {
                x: (tile.x as f64 + px / e) / n,
                y: (tile.y as f64 + py / e) / n,
            }
        })
        .collect();
    if closed && !cs.is_empty() {
        cs.push(cs[0]);
    }
    LineString(cs)
}

fn polygon(tile: TileId, ext: &[Pos], holes: &[Vec<Pos>]) -> Polygon<f64> {
    Polygon::new(
        ring(tile, ext, true),
        holes.iter().map(|h| ring(tile, h, true)).collect(),
    )
}

fn check(bytes: &[u8], kinds: &[u32]) {
    let layers = zglos_tiles::decode::decode(bytes).expect("the tile decodes as MVT");
    let (lo, hi) = (-BUFFER as i32, EXTENT as i32 + BUFFER as i32);
    for layer in &layers {
        assert_eq!(layer.extent, EXTENT);
        for f in &layer.features {
            assert!(kinds.contains(&f.geom_type), "geometry type {}", f.geom_type);
            assert!(!f.parts.is_empty());
            for part in &f.parts {
                let min = match f.geom_type {
                    1 => 1,
                    2 => 2,
                    _ => 3,
                };
                assert!(part.len() >= min, "a type {} part of {} vertices", f.geom_type, part.len());
                for &(x, y) in part {
                    assert!(
                        (lo..=hi).contains(&x) && (lo..=hi).contains(&y),
                        "vertex ({x}, {y}) outside the tile and its buffer"
                    );
                }
            }
        }
    }
}

fn single(g: &Geometry<f64>, tile: TileId, kind: u32) {
    if let Some(data) = encode_unit_geometry(tile, g) {
        let t = mvt::Tile::new(EXTENT);
        let layer = t.create_layer("fuzz");
        let f = layer.into_feature(data);
        let mut t = t;
        t.add_layer(f.into_layer()).expect("add layer");
        check(&t.to_bytes().expect("encode tile"), &[kind]);
    }
}

fuzz_target!(|input: Input| {
    let z = input.z % (MAX_ZOOM + 1);
    let n = 1u64 << z;
    let Some(tile) = TileId::new(z, (input.x as u64 % n) as u32, (input.y as u64 % n) as u32) else {
        return;
    };
    let mut districts = Vec::new();
    for shape in input.shapes.iter().take(16) {
        match shape {
            Shape::Line(ps) => single(&Geometry::LineString(ring(tile, ps, false)), tile, 2),
            Shape::Lines(ls) => single(
                &Geometry::MultiLineString(MultiLineString(
                    ls.iter().map(|ps| ring(tile, ps, false)).collect(),
                )),
                tile,
                2,
            ),
            Shape::Polygon(ext, holes) => {
                let p = polygon(tile, ext, holes);
                single(&Geometry::Polygon(p.clone()), tile, 3);
                districts.push(MultiPolygon(vec![p]));
            }
            Shape::Polygons(ps) => {
                let mp = MultiPolygon(ps.iter().map(|(e, h)| polygon(tile, e, h)).collect());
                single(&Geometry::MultiPolygon(mp.clone()), tile, 3);
                districts.push(mp);
            }
        }
    }
    if input.as_districts && !districts.is_empty() {
        let ds: Vec<District> = districts
            .into_iter()
            .enumerate()
            .map(|(i, mp)| District {
                id: i as i32,
                code: format!("d{i}"),
                name: format!("District {i}"),
                geometry: geo_types::MultiPolygon(
                    mp.0.into_iter()
                        .map(|p| {
                            let to_ll = |ls: &LineString<f64>| {
                                LineString(
                                    ls.0.iter()
                                        .map(|c| {
                                            let (lon, lat) = from_unit(c.x, c.y);
                                            Coord { x: lon, y: lat }
                                        })
                                        .collect(),
                                )
                            };
                            Polygon::new(
                                to_ll(p.exterior()),
                                p.interiors().iter().map(to_ll).collect(),
                            )
                        })
                        .collect(),
                ),
            })
            .collect();
        check(&districts_tile(&ds, tile), &[1, 3]);
    }
});
