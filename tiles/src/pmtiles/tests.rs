use super::*;

fn info() -> TileSetInfo {
    TileSetInfo {
        min_zoom: 0,
        max_zoom: 14,
        bounds: [19.79, 49.96, 20.22, 50.13],
        center: [19.945, 50.06],
        center_zoom: 11,
        tile_compression: Compression::Gzip,
        tile_type: 1,
    }
}

#[test]
fn tile_ids_count_the_lower_zooms_then_follow_the_hilbert_curve() {
    assert_eq!(tile_id(0, 0, 0), 0);
    assert_eq!(
        [
            tile_id(1, 0, 0),
            tile_id(1, 0, 1),
            tile_id(1, 1, 1),
            tile_id(1, 1, 0)
        ],
        [1, 2, 3, 4]
    );
    assert_eq!(tile_id(2, 0, 0), 5);
    // The last tile of z2 is the one before the first of z3.
    let z2: Vec<u64> = (0..4)
        .flat_map(|x| (0..4).map(move |y| tile_id(2, x, y)))
        .collect();
    assert_eq!(*z2.iter().max().unwrap(), tile_id(3, 0, 0) - 1);
    let mut sorted = z2.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        sorted,
        (5..21).collect::<Vec<_>>(),
        "each z2 tile has its own id"
    );
    // Neighbours along the curve are neighbours on the map.
    let mut by_id: Vec<(u64, (u32, u32))> = (0..16u32)
        .flat_map(|x| (0..16u32).map(move |y| (tile_id(4, x, y), (x, y))))
        .collect();
    by_id.sort();
    for w in by_id.windows(2) {
        let ((_, a), (_, b)) = (w[0], w[1]);
        assert_eq!(a.0.abs_diff(b.0) + a.1.abs_diff(b.1), 1, "{a:?} then {b:?}");
    }
}

#[test]
fn every_tile_written_is_read_back_and_absent_tiles_are_none() {
    let mut w = Writer::new(info(), r#"{"name":"test"}"#.into());
    let mut expected = Vec::new();
    for z in 0..=6u8 {
        for x in 0..(1u32 << z).min(5) {
            for y in 0..(1u32 << z).min(3) {
                let bytes = gzip(format!("{z}/{x}/{y}").as_bytes());
                w.add(z, x, y, bytes.clone());
                expected.push(((z, x, y), bytes));
            }
        }
    }
    let file = w.finish();
    let a = Archive::open(file).unwrap();
    assert_eq!(a.len(), expected.len());
    for ((z, x, y), bytes) in &expected {
        assert_eq!(a.get(*z, *x, *y), Some(bytes.as_slice()), "{z}/{x}/{y}");
    }
    assert_eq!(a.get(6, 40, 40), None);
    assert_eq!(a.get(1, 2, 0), None, "beyond the zoom's grid");
    assert_eq!(a.get(40, 0, 0), None);
    assert_eq!(a.metadata, r#"{"name":"test"}"#);
    assert_eq!(a.info, info());
}

#[test]
fn identical_tiles_are_stored_once_and_runs_share_one_entry() {
    let empty = gzip(b"the same bytes");
    let mut w = Writer::new(info(), "{}".into());
    for x in 0..64 {
        for y in 0..64 {
            w.add(6, x, y, empty.clone());
        }
    }
    w.add(6, 10, 10, empty.clone()); // twice: kept once
    let file = w.finish();
    let entries = u64::from_le_bytes(file[80..88].try_into().unwrap());
    let contents = u64::from_le_bytes(file[88..96].try_into().unwrap());
    assert_eq!(contents, 1);
    assert_eq!(entries, 1, "the whole zoom is one run");
    let a = Archive::open(file).unwrap();
    assert_eq!(a.len(), 64 * 64);
    assert_eq!(a.get(6, 63, 0), Some(empty.as_slice()));
}

#[test]
fn a_pyramid_too_big_for_the_root_goes_into_leaf_directories() {
    let mut w = Writer::new(info(), "{}".into());
    // Distinct contents of scattered lengths, so nothing merges into runs and the directory
    // does not compress away: ~87k entries.
    let content = |id: u64| {
        let mut b = id.to_le_bytes().to_vec();
        // splitmix64: lengths with no pattern for gzip to find.
        let mut h = id.wrapping_add(0x9e37_79b9_7f4a_7c15);
        h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        b.resize(8 + ((h ^ (h >> 31)) % 97) as usize, 7);
        b
    };
    for z in 0..=8u8 {
        for x in 0..(1u32 << z) {
            for y in 0..(1u32 << z) {
                w.add(z, x, y, content(tile_id(z, x, y)));
            }
        }
    }
    let file = w.finish();
    let leaves_len = u64::from_le_bytes(file[48..56].try_into().unwrap());
    let root_len = u64::from_le_bytes(file[16..24].try_into().unwrap());
    assert!(leaves_len > 0, "leaves were needed");
    assert!(
        root_len as usize <= ROOT_MAX,
        "the root fits in the first 16 KiB"
    );
    let a = Archive::open(file).unwrap();
    for (z, x, y) in [
        (0, 0, 0),
        (5, 17, 3),
        (8, 255, 255),
        (8, 0, 255),
        (7, 100, 27),
    ] {
        assert_eq!(a.get(z, x, y), Some(&content(tile_id(z, x, y))[..]));
    }
}

#[test]
fn damaged_files_are_refused_with_a_reason_not_a_panic() {
    let mut w = Writer::new(info(), "{}".into());
    w.add(3, 1, 2, gzip(b"tile"));
    let good = w.finish();
    assert!(matches!(
        Archive::open(b"PMTiles".to_vec()),
        Err(Error::Malformed(_))
    ));
    assert!(matches!(
        Archive::open(vec![0; 200]),
        Err(Error::Malformed(_))
    ));
    let mut v2 = good.clone();
    v2[7] = 2;
    assert!(matches!(Archive::open(v2), Err(Error::Unsupported(_))));
    for cut in [HEADER_LEN, HEADER_LEN + 5, good.len() - 1] {
        assert!(Archive::open(good[..cut].to_vec()).is_err(), "cut at {cut}");
    }
    // Every single-byte corruption of the header or directories is an error or a readable file.
    for at in 8..good.len() {
        let mut bad = good.clone();
        bad[at] ^= 0xff;
        if let Ok(a) = Archive::open(bad) {
            let _ = a.get(3, 1, 2);
        }
    }
}
