//! The city's own basemap: tiles from its PMTiles file, TileJSON, the style, and label glyphs.
use serde_json::Value;

use crate::common::{config, data_dir, shared_data, spawn_app, spawn_app_with, tile_of, TestDb};

/// Floriańska street in the Old Town.
const FLORIANSKA: (f64, f64) = (19.9405, 50.0635);

fn source_tile(z: u8, x: u32, y: u32) -> Vec<u8> {
    std::fs::read(shared_data(&format!("krakow/basemap-osm/{z}/{x}/{y}.pbf"))).expect("source tile")
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("gzip");
    out
}

#[tokio::test]
async fn basemap_tiles_are_the_packs_tiles_served_from_one_file() {
    let app = spawn_app().await;
    let (z, x, y) = tile_of(14, FLORIANSKA.0, FLORIANSKA.1);
    // A client that takes gzip gets the stored bytes as they are.
    let r = app
        .client
        .get(app.url(&format!("/tiles/basemap/{z}/{x}/{y}.mvt")))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "application/vnd.mapbox-vector-tile"
    );
    assert!(r.headers()["cache-control"]
        .to_str()
        .unwrap()
        .starts_with("public"));
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "*",
        "a public read"
    );
    assert_eq!(r.headers()["content-encoding"], "gzip");
    let body = r.bytes().await.unwrap();
    assert_eq!(
        gunzip(&body),
        source_tile(z, x, y),
        "the tile of the pack, unchanged"
    );

    // Decoded (reqwest inflates for this client): the street and its name are in it.
    let layers = app.tile(&format!("/tiles/basemap/{z}/{x}/{y}.mvt")).await;
    let names: Vec<&str> = layers
        .iter()
        .filter(|l| l.name == "transportation_name")
        .flat_map(|l| &l.features)
        .filter_map(|f| f.properties.get("name:latin").and_then(|v| v.as_str()))
        .collect();
    assert!(names.contains(&"Floriańska"), "street names: {names:?}");
    for layer in ["building", "transportation", "housenumber"] {
        assert!(layers.iter().any(|l| l.name == layer), "{layer}");
    }

    // Low zooms are there too; a tile outside the basemap is empty; a bad address says where.
    assert_eq!(app.get("/tiles/basemap/0/0/0.mvt").await.status(), 200);
    let outside = app.get("/tiles/basemap/14/100/100.mvt").await;
    assert_eq!(outside.status(), 204);
    assert!(outside.bytes().await.unwrap().is_empty());
    let bad = app.get("/tiles/basemap/3/9/0.mvt").await;
    assert_eq!(bad.status(), 400);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["error"]["field"], "z/x/y", "{body}");
}

#[tokio::test]
async fn tilejson_and_style_point_at_this_origin_only() {
    let app = spawn_app().await;
    let tj = app.get_json("/tiles/basemap.json").await;
    assert_eq!(tj["tilejson"], "3.0.0");
    assert_eq!(tj["tiles"][0], app.url("/tiles/basemap/{z}/{x}/{y}.mvt"));
    assert_eq!(
        (tj["minzoom"].as_u64(), tj["maxzoom"].as_u64()),
        (Some(0), Some(14))
    );
    assert!(tj["attribution"]
        .as_str()
        .unwrap()
        .contains("OpenStreetMap contributors"));
    let b = tj["bounds"].as_array().unwrap();
    let b: Vec<f64> = b.iter().map(|v| v.as_f64().unwrap()).collect();
    assert!(
        b[0] < 19.80 && b[1] < 49.97 && b[2] > 20.21 && b[3] > 50.12,
        "{b:?}"
    );
    let layers: Vec<&str> = tj["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert!(layers.contains(&"transportation_name") && layers.contains(&"housenumber"));

    let config = app.get_json("/api/v1/config").await;
    assert_eq!(
        config["map"]["basemap_style_url"],
        app.url("/styles/basemap.json")
    );
    let style = app.get_json("/styles/basemap.json").await;
    assert_eq!(style["version"], 8);
    assert_eq!(
        style["sources"]["basemap"]["url"],
        app.url("/tiles/basemap.json")
    );
    assert_eq!(style["glyphs"], app.url("/fonts/{fontstack}/{range}.pbf"));
    // Every URL in the style is on this origin.
    let text = style.to_string();
    for url in text.split('"').filter(|s| s.starts_with("http")) {
        assert!(url.starts_with(&app.address), "{url} leaves the origin");
    }
    // Streets by class with names, buildings, water, parks, rail and trams, house numbers.
    let layers = style["layers"].as_array().unwrap();
    let uses = |source_layer: &str, kind: &str| {
        layers
            .iter()
            .any(|l| l["source-layer"] == source_layer && l["type"] == kind)
    };
    for (sl, kind) in [
        ("transportation", "line"),
        ("transportation_name", "symbol"),
        ("building", "fill"),
        ("water", "fill"),
        ("park", "fill"),
        ("landcover", "fill"),
        ("housenumber", "symbol"),
        ("poi", "symbol"),
        ("place", "symbol"),
    ] {
        assert!(uses(sl, kind), "{sl} as {kind}");
    }
    assert!(text.contains("\"tram\""), "trams drawn");

    // Every font the style names has glyphs here, Polish letters included.
    let mut fonts: Vec<String> = layers
        .iter()
        .filter_map(|l| l["layout"]["text-font"].as_array())
        .flat_map(|f| f.iter().map(|v| v.as_str().unwrap().to_owned()))
        .collect();
    fonts.sort();
    fonts.dedup();
    assert!(!fonts.is_empty());
    for font in fonts {
        for range in ["0-255", "256-511"] {
            let path = format!("/fonts/{}/{range}.pbf", font.replace(' ', "%20"));
            let r = app.get(&path).await;
            assert_eq!(r.status(), 200, "{path}");
            assert_eq!(r.headers()["content-type"], "application/x-protobuf");
            let body = r.bytes().await.unwrap();
            assert!(body.len() > 10_000, "{path}: {} bytes", body.len());
            let name = font.as_bytes();
            assert!(
                body.windows(name.len()).any(|w| w == name),
                "{path} names its font"
            );
        }
    }
}

#[tokio::test]
async fn glyph_requests_say_what_is_wrong() {
    let app = spawn_app().await;
    // A stack: the first font that is here is used.
    let r = app
        .get("/fonts/Noto%20Sans%20Regular,DejaVu%20Sans%20Bold/0-255.pbf")
        .await;
    assert_eq!(r.status(), 200);
    let unknown = app.get("/fonts/Comic%20Sans/0-255.pbf").await;
    assert_eq!(unknown.status(), 404);
    let body: Value = unknown.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unknown_font");
    assert_eq!(body["error"]["field"], "fontstack");
    let known = body["error"]["detail"]["fonts"]
        .as_array()
        .expect("the fonts that are here");
    assert!(known.iter().any(|f| f == "DejaVu Sans Book"), "{body}");
    for bad in ["0-100.pbf", "1-256.pbf", "65536-65791.pbf", "nothing"] {
        let r = app.get(&format!("/fonts/DejaVu%20Sans%20Book/{bad}")).await;
        assert_eq!(r.status(), 400, "{bad}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["field"], "range", "{bad}: {body}");
    }
}

#[tokio::test]
async fn the_basemap_file_is_a_pmtiles_file_that_the_pmtiles_tools_read() {
    // Kept by spawn_app's template: the file `zglos setup` writes.
    let _app = spawn_app().await;
    let file = data_dir().join("krakow/basemap.pmtiles");
    let (z, x, y) = tile_of(14, FLORIANSKA.0, FLORIANSKA.1);
    let script = format!(
        r#"
import gzip, json, sys
from pmtiles.reader import Reader, MmapSource
with open({file:?}, "rb") as f:
    r = Reader(MmapSource(f))
    h = r.header()
    m = r.metadata()
    t = r.get({z}, {x}, {y})
    print(json.dumps({{"min": h["min_zoom"], "max": h["max_zoom"], "type": h["tile_type"].value,
                      "layers": [l["id"] for l in m["vector_layers"]],
                      "tile": gzip.decompress(t).hex()}}))
"#,
        file = file.to_string_lossy()
    );
    let py = crate::common::gis_python();
    let out = std::process::Command::new(&py)
        .args(["-c", &script])
        .output()
        .expect("python runs");
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !(err.contains("No module named 'pmtiles'")
                && std::env::var_os("ZGLOS_REQUIRE_GIS_CLIENTS").is_none()),
            "SKIPPED: pmtiles is not installed (scripts/test.sh installs it)"
        );
        panic!("the pmtiles reader failed: {err}");
    }
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["min"].as_u64(), v["max"].as_u64()), (Some(0), Some(14)));
    assert_eq!(v["type"], 1, "MVT");
    assert!(v["layers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l == "transportation_name"));
    assert_eq!(
        hex::decode(v["tile"].as_str().unwrap()).unwrap(),
        source_tile(z, x, y)
    );
}

#[tokio::test]
async fn a_city_without_a_basemap_says_so_and_the_map_falls_back() {
    let empty = tempfile::tempdir().unwrap();
    let dir = empty.path().to_owned();
    let app = spawn_app_with(TestDb::new().await, |url| zglos::config::Config {
        data: zglos::config::DataArgs { data_dir: dir },
        ..config(url)
    })
    .await;
    for path in [
        "/tiles/basemap.json",
        "/styles/basemap.json",
        "/tiles/basemap/0/0/0.mvt",
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status(), 404, "{path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "no_basemap", "{path}");
    }
    let config = app.get_json("/api/v1/config").await;
    assert!(config["map"]["basemap_style_url"].is_null(), "{config}");
}
