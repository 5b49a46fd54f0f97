use super::*;
use crate::decode::{decode, Layer};
use geo::{line_string, polygon};

fn vocab() -> Vocabulary {
    Vocabulary {
        categories: vec![
            CategoryStyle {
                code: "pothole".into(),
                color: "#d9480f".into(),
            },
            CategoryStyle {
                code: "litter".into(),
                color: "#5c940d".into(),
            },
        ],
        statuses: vec!["new".into(), "resolved".into()],
    }
}

fn layer<'a>(layers: &'a [Layer], name: &str) -> Option<&'a Layer> {
    layers.iter().find(|l| l.name == name)
}

fn tile_at(z: u8, lon: f64, lat: f64) -> TileId {
    let (x, y) = mercator::to_unit(lon, lat);
    TileId::containing(z, x, y)
}

/// `n` reports spread over about 100 m around the old town, alternating categories.
fn crowd(n: u64) -> ReportStore {
    let recs = (0..n)
        .map(|i| {
            let (dx, dy) = ((i % 100) as f64 * 1e-5, (i / 100) as f64 * 1e-5);
            ReportRec::new(
                i + 1,
                19.9383 + dx,
                50.0614 + dy,
                (i % 2) as u16,
                0,
                1_700_000_000,
                1 + (i % 3) as u32,
                Kind::Point,
            )
        })
        .collect();
    ReportStore::bulk_load(recs, vec![])
}

#[test]
fn detail_zoom_tiles_carry_every_report_with_its_properties() {
    let store = crowd(10);
    let t = tile_at(16, 19.9383, 50.0614);
    let layers = decode(&reports_tile(
        &store,
        t,
        &Filter::everything(),
        &vocab(),
        &ReportTileOptions::default(),
    ))
    .unwrap();
    let reports = layer(&layers, "reports").unwrap();
    assert_eq!(reports.version, 2);
    assert_eq!(reports.extent, 4096);
    assert_eq!(reports.features.len(), 10);
    assert!(layer(&layers, "clusters").is_none());
    let f = reports.features.iter().find(|f| f.id == Some(2)).unwrap();
    assert_eq!(f.geom_type, 1);
    assert_eq!(f.properties["category"].as_str(), Some("litter"));
    assert_eq!(f.properties["status"].as_str(), Some("new"));
    assert_eq!(f.properties["supporters"].as_u64(), Some(2));
    let (x, y) = f.parts[0][0];
    assert!((0..4096).contains(&x) && (0..4096).contains(&y));
}

#[test]
fn low_zooms_and_crowded_tiles_are_clustered_with_counts_that_add_up() {
    let store = crowd(5000);
    let opts = ReportTileOptions::default();
    for z in [10u8, 16] {
        let t = tile_at(z, 19.9383, 50.0614);
        // The crowd may straddle tile borders at z16; count what this tile holds.
        let expected = store.in_tile(t).count();
        let layers = decode(&reports_tile(
            &store,
            t,
            &Filter::everything(),
            &vocab(),
            &opts,
        ))
        .unwrap();
        let clusters = layer(&layers, "clusters")
            .map(|l| l.features.as_slice())
            .unwrap_or_default();
        let singles = layer(&layers, "reports")
            .map(|l| l.features.len())
            .unwrap_or(0);
        let counted: u64 = clusters
            .iter()
            .map(|f| f.properties["count"].as_u64().unwrap())
            .sum();
        assert_eq!(counted + singles as u64, expected as u64, "z{z}");
        assert!(clusters.len() + singles <= (opts.grid * opts.grid) as usize);
        assert!(!clusters.is_empty(), "z{z} should cluster");
    }
}

#[test]
fn filters_select_by_category_status_and_time() {
    let mut store = crowd(10);
    store.upsert(
        ReportRec::new(100, 19.9384, 50.0615, 0, 1, 1_800_000_000, 1, Kind::Point),
        None,
    );
    let t = tile_at(16, 19.9383, 50.0614);
    let count = |f: Filter| {
        let layers = decode(&reports_tile(
            &store,
            t,
            &f,
            &vocab(),
            &ReportTileOptions::default(),
        ))
        .unwrap();
        layer(&layers, "reports")
            .map(|l| l.features.len())
            .unwrap_or(0)
    };
    assert_eq!(count(Filter::everything()), 11);
    assert_eq!(
        count(Filter {
            categories: Some(0b10),
            ..Filter::everything()
        }),
        5
    );
    assert_eq!(
        count(Filter {
            statuses: 0b10,
            ..Filter::everything()
        }),
        1
    );
    assert_eq!(
        count(Filter {
            created_from: Some(1_750_000_000),
            ..Filter::everything()
        }),
        1
    );
    assert_eq!(
        count(Filter {
            created_to: Some(1_750_000_000),
            ..Filter::everything()
        }),
        10
    );
}

#[test]
fn lines_are_clipped_to_the_tile_buffer() {
    // A 2 km line across the old town: at z17 it runs far beyond the tile on both sides.
    let line = Geometry::LineString(line_string![(x: 19.925, y: 50.0614), (x: 19.952, y: 50.0614)]);
    let mut store = ReportStore::new();
    store.upsert(
        ReportRec::new(5, 19.9385, 50.0614, 0, 0, 0, 1, Kind::Line),
        Some(&line),
    );
    let t = tile_at(17, 19.9383, 50.0614);
    let layers = decode(&reports_tile(
        &store,
        t,
        &Filter::everything(),
        &vocab(),
        &ReportTileOptions::default(),
    ))
    .unwrap();
    let f = &layer(&layers, "reports").unwrap().features[0];
    assert_eq!(f.geom_type, 2);
    assert_eq!(f.properties["kind"].as_str(), Some("line"));
    for &(x, y) in &f.parts[0] {
        assert!(
            (-64..=4160).contains(&x) && (-64..=4160).contains(&y),
            "({x},{y}) outside the buffer"
        );
    }
    assert_eq!(f.parts[0].first().unwrap().0, -64);
    assert_eq!(f.parts[0].last().unwrap().0, 4160);
}

#[test]
fn polygons_are_clipped_with_clockwise_exteriors() {
    let (w, s, e, n) = tile_at(15, 19.9383, 50.0614).lonlat_bounds();
    let (cx, cy) = ((w + e) / 2.0, (s + n) / 2.0);
    // Counter-clockwise input (as GeoJSON writes it) much larger than the tile.
    let big = polygon![(x: cx - 1.0, y: cy - 1.0), (x: cx + 1.0, y: cy - 1.0), (x: cx + 1.0, y: cy + 1.0), (x: cx - 1.0, y: cy + 1.0)];
    let t = tile_at(15, cx, cy);
    let unit = Geometry::Polygon(big).map_coords_unit();
    let data = encode_unit_geometry(t, &unit).unwrap();
    let tile = Tile::new(EXTENT);
    let l = tile.create_layer("x");
    let l = l.into_feature(data).into_layer();
    let layers = decode(&finish(tile, [l])).unwrap();
    let ring: Vec<(i32, i32)> = layers[0].features[0].parts[0].clone();
    assert!(
        signed_area2(&ring) > 0,
        "exterior must be clockwise in tile coordinates"
    );
    assert!(ring
        .iter()
        .all(|&(x, y)| (-64..=4160).contains(&x) && (-64..=4160).contains(&y)));
    assert_eq!(ring.len(), 4);
}

#[test]
fn clip_ring_and_polyline_basics() {
    let square = [(-10.0, -10.0), (10.0, -10.0), (10.0, 10.0), (-10.0, 10.0)];
    let clipped = clip_ring(&square, 0.0, 5.0);
    assert_eq!(clipped.len(), 4);
    assert!(clipped
        .iter()
        .all(|&(x, y)| (0.0..=5.0).contains(&x) && (0.0..=5.0).contains(&y)));
    assert!(clip_ring(&square, 20.0, 30.0).is_empty());
    // A line that leaves and re-enters gives two parts.
    let zigzag = [(1.0, 1.0), (1.0, 20.0), (2.0, 20.0), (2.0, 1.0)];
    assert_eq!(clip_polyline(&zigzag, 0.0, 5.0).len(), 2);
}

#[test]
fn heatmap_cells_count_every_matching_report() {
    let store = crowd(3000);
    let t = tile_at(12, 19.9383, 50.0614);
    let layers = decode(&heatmap_tile(&store, t, &Filter::everything(), 6)).unwrap();
    let cells = &layer(&layers, "heatmap").unwrap().features;
    let total: u64 = cells
        .iter()
        .map(|f| f.properties["count"].as_u64().unwrap())
        .sum();
    let weight: u64 = cells
        .iter()
        .map(|f| f.properties["weight"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 3000);
    assert_eq!(weight, (0..3000u64).map(|i| 1 + i % 3).sum::<u64>());
    let only_litter = Filter {
        categories: Some(0b10),
        ..Filter::everything()
    };
    let layers = decode(&heatmap_tile(&store, t, &only_litter, 6)).unwrap();
    let total: u64 = layer(&layers, "heatmap")
        .unwrap()
        .features
        .iter()
        .map(|f| f.properties["count"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 1500);
}

#[test]
fn district_tiles_carry_boundaries_and_labels() {
    let (w, s, e, n) = tile_at(12, 19.9383, 50.0614).lonlat_bounds();
    let (cx, cy, d) = ((w + e) / 2.0, (s + n) / 2.0, (e - w) / 8.0);
    let poly = polygon![(x: cx - d, y: cy - d), (x: cx + d, y: cy - d), (x: cx + d, y: cy + d), (x: cx - d, y: cy + d)];
    let district = District {
        id: 1,
        code: "I".into(),
        name: "Stare Miasto".into(),
        geometry: MultiPolygon(vec![poly]),
    };
    let layers = decode(&districts_tile(&[district], tile_at(12, cx, cy))).unwrap();
    let f = &layer(&layers, "districts").unwrap().features[0];
    assert_eq!(f.geom_type, 3);
    assert_eq!(f.properties["name"].as_str(), Some("Stare Miasto"));
    assert_eq!(layer(&layers, "district_labels").unwrap().features.len(), 1);
    // A tile far away is empty.
    assert!(decode(&districts_tile(&[], tile_at(12, 0.0, 0.0)))
        .unwrap()
        .is_empty());
}

#[test]
fn a_ring_that_starts_where_the_previous_one_ended_is_still_a_ring_of_its_own() {
    // Two triangles in tile pixels, the second starting at the first one's last vertex: the
    // encoder would continue the first ring there instead of opening a new one.
    let t = TileId::new(10, 560, 350).unwrap();
    let px = |x: f64, y: f64| {
        let n = (1u64 << t.z) as f64;
        geo::Coord {
            x: (t.x as f64 + x / EXTENT as f64) / n,
            y: (t.y as f64 + y / EXTENT as f64) / n,
        }
    };
    let tri = |a: (f64, f64), b: (f64, f64), c: (f64, f64)| {
        Polygon::new(
            LineString(vec![px(a.0, a.1), px(b.0, b.1), px(c.0, c.1), px(a.0, a.1)]),
            vec![],
        )
    };
    let first = tri((100.0, 100.0), (300.0, 100.0), (300.0, 300.0));
    // Its exterior after orientation ends at (300, 300) or (300, 100); start the second at both.
    for start in [(300.0, 300.0), (300.0, 100.0)] {
        let second = tri(start, (900.0, 900.0), (600.0, 900.0));
        let data = encode_unit_geometry(
            t,
            &Geometry::MultiPolygon(MultiPolygon(vec![first.clone(), second])),
        )
        .unwrap();
        let tile = Tile::new(EXTENT);
        let l = tile.create_layer("x").into_feature(data).into_layer();
        let layers = decode(&finish(tile, [l])).unwrap();
        let parts = &layers[0].features[0].parts;
        assert_eq!(parts.len(), 2, "{parts:?}");
        assert!(parts.iter().all(|p| p.len() == 3), "{parts:?}");
    }
}
