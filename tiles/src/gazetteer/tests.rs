//! The gazetteer on a small made-up town: two streets crossing, numbers along them, a point of
//! interest, a stop and two districts. Distances are a few tens of metres, so every rule of the
//! build (a number takes the nearest street within the radius, official points win) and of the
//! lookups (declension, prefix, typos, numbers with letters, reverse tiers) shows directly.
use geo_types::{LineString, MultiPolygon, Polygon};

use super::*;
use crate::districts::District;

/// About 1 m in degrees of latitude, and of longitude at 50° N.
const M_LAT: f64 = 1.0 / 111_195.0;
const M_LON: f64 = 1.0 / 71_474.0;
const LON0: f64 = 19.9370;
const LAT0: f64 = 50.0610;

fn at(east_m: f64, north_m: f64) -> (f64, f64) {
    (LON0 + east_m * M_LON, LAT0 + north_m * M_LAT)
}

fn line(points: &[(f64, f64)]) -> Vec<[f64; 2]> {
    points
        .iter()
        .map(|&(e, n)| {
            let (lon, lat) = at(e, n);
            [lon, lat]
        })
        .collect()
}

fn number(n: &str, e: f64, north: f64) -> NumberPoint {
    let (lon, lat) = at(e, north);
    NumberPoint {
        number: n.to_string(),
        lon,
        lat,
    }
}

fn square(id: i32, name: &str, west_m: f64, east_m: f64) -> District {
    let (w, s) = at(west_m, -2000.0);
    let (e, n) = at(east_m, 2000.0);
    District {
        id,
        code: format!("{id}"),
        name: name.to_string(),
        geometry: MultiPolygon(vec![Polygon::new(
            LineString::from(vec![(w, s), (e, s), (e, n), (w, n), (w, s)]),
            vec![],
        )]),
    }
}

/// Floriańska runs north from (0, 0) to (0, 400); Szewska runs east from (-200, 200) to
/// (200, 200). Numbers sit 15 m beside their street; one number is 600 m from both streets.
fn town(official: Vec<OfficialAddress>) -> Gazetteer {
    let (plon, plat) = at(30.0, 350.0);
    let (slon, slat) = at(-100.0, 210.0);
    let basemap = Basemap {
        streets: vec![
            StreetLines {
                name: "Floriańska".into(),
                class_rank: 2,
                lines: vec![line(&[(0.0, 0.0), (0.0, 400.0)])],
            },
            StreetLines {
                name: "Szewska".into(),
                class_rank: 2,
                lines: vec![line(&[(-200.0, 200.0), (200.0, 200.0)])],
            },
        ],
        numbers: vec![
            number("10", 15.0, 40.0),
            number("12", 15.0, 60.0),
            number("12A", 15.0, 70.0),
            number("14", 15.0, 90.0),
            number("3", -150.0, 185.0),
            number("99", 600.0, 1200.0),
        ],
        places: vec![Place {
            name: "Teatr im. Juliusza Słowackiego".into(),
            kind: Kind::Poi,
            category: "theatre".into(),
            area: false,
            lon: plon,
            lat: plat,
        }],
        stats: BasemapStats::default(),
    };
    Gazetteer::build(
        Inputs {
            basemap,
            stops: vec![Stop {
                name: "Teatr Bagatela".into(),
                lon: slon,
                lat: slat,
            }],
            districts: vec![
                square(1, "Stare Miasto", -5000.0, 50.0),
                square(2, "Grzegórzki", 50.0, 5000.0),
            ],
            official,
        },
        &Options::default(),
    )
}

fn first(g: &Gazetteer, q: &str) -> Hit {
    g.search(q, 5)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no hit for {q:?}"))
}

#[test]
fn numbers_take_the_nearest_street_and_far_ones_are_dropped() {
    let g = town(vec![]);
    assert_eq!(g.street_count(), 2);
    assert_eq!(g.address_count(), 5);
    assert_eq!(g.stats().numbers_without_street, 1);
}

#[test]
fn an_exact_address_is_found_with_or_without_diacritics_and_street_type() {
    let g = town(vec![]);
    for q in [
        "Floriańska 12",
        "florianska 12",
        "ul. Floriańska 12",
        "12 Floriańska",
    ] {
        let h = first(&g, q);
        assert_eq!(h.kind, Kind::Address, "{q}");
        assert_eq!(h.label, "Floriańska 12", "{q}");
        assert_eq!(h.number.as_deref(), Some("12"));
        assert_eq!(h.note, None, "{q}");
        assert_eq!(h.district.as_deref(), Some("Stare Miasto"));
    }
}

#[test]
fn a_declined_street_name_a_prefix_and_a_typo_find_the_street() {
    let g = town(vec![]);
    for q in ["ul. Floriańskiej", "Floria", "Florainska"] {
        let h = first(&g, q);
        assert_eq!(h.kind, Kind::Street, "{q}");
        assert_eq!(h.label, "Floriańska", "{q}");
        assert!(h.bbox.is_some());
    }
}

#[test]
fn a_number_that_is_not_there_comes_back_with_a_note() {
    let g = town(vec![]);
    let flat = first(&g, "Floriańska 12/3");
    assert_eq!(flat.label, "Floriańska 12");
    assert_eq!(
        flat.note,
        Some(Note::SimilarNumber {
            asked: "12/3".into()
        })
    );
    // An unknown number: the street first (the resident may have the number wrong), then the
    // nearest number it has.
    let hits = g.search("Floriańska 16", 5);
    assert_eq!(hits[0].kind, Kind::Street);
    assert_eq!(
        hits[0].note,
        Some(Note::NumberNotFound { asked: "16".into() })
    );
    assert_eq!(hits[1].label, "Floriańska 14");
    assert_eq!(
        hits[1].note,
        Some(Note::NearestNumber { asked: "16".into() })
    );
}

#[test]
fn a_query_that_matches_nothing_returns_nothing() {
    let g = town(vec![]);
    assert!(g.search("Zzyzx", 5).is_empty());
    assert!(g.search("", 5).is_empty());
    assert!(g.search("   ", 5).is_empty());
}

#[test]
fn points_of_interest_and_stops_are_found_by_any_of_their_words() {
    let g = town(vec![]);
    let h = first(&g, "słowackiego");
    assert_eq!(h.kind, Kind::Poi);
    assert_eq!(h.category.as_deref(), Some("theatre"));
    let stops = g.search_with(
        "teatr",
        &SearchOptions {
            kinds: vec![Kind::Stop],
            ..SearchOptions::default()
        },
    );
    assert_eq!(stops.len(), 1);
    assert_eq!(stops[0].label, "Teatr Bagatela");
}

#[test]
fn an_official_address_replaces_the_derived_point_of_its_number() {
    let (lon, lat) = at(14.0, 61.0);
    let g = town(vec![OfficialAddress {
        street: "Floriańska".into(),
        number: "12".into(),
        lon,
        lat,
        postcode: Some("31-019".into()),
    }]);
    let hits: Vec<Hit> = g
        .search("Floriańska 12", 10)
        .into_iter()
        .filter(|h| h.label == "Floriańska 12")
        .collect();
    assert_eq!(hits.len(), 1);
    assert!(hits[0].official);
    assert_eq!(hits[0].postcode.as_deref(), Some("31-019"));
    assert!((hits[0].lon - lon).abs() < 1e-9);
}

#[test]
fn reverse_names_the_address_then_the_street_then_the_district() {
    let g = town(vec![]);
    let (lon, lat) = at(18.0, 62.0);
    match g.reverse(lon, lat) {
        Reverse::Address {
            label, distance_m, ..
        } => {
            assert_eq!(label, "Floriańska 12");
            assert!(distance_m < 5.0, "{distance_m}");
        }
        other => panic!("expected an address, got {other:?}"),
    }
    let (lon, lat) = at(-120.0, 300.0);
    match g.reverse(lon, lat) {
        Reverse::NearStreet {
            street, distance_m, ..
        } => {
            assert!(street == "Floriańska" || street == "Szewska", "{street}");
            assert!((90.0..=130.0).contains(&distance_m), "{distance_m}");
        }
        other => panic!("expected a street, got {other:?}"),
    }
    let (lon, lat) = at(1500.0, 1500.0);
    assert_eq!(
        g.reverse(lon, lat),
        Reverse::District {
            id: 2,
            name: "Grzegórzki".into()
        }
    );
    let (lon, lat) = at(9000.0, 0.0);
    assert_eq!(g.reverse(lon, lat), Reverse::Nothing);
}
