//! Responses compressed for clients that accept it: JSON and GeoJSON in gzip or brotli, exports
//! streamed compressed, tiles sent gzipped as they are stored (never compressed twice), small
//! answers as they are.
use std::io::Read;

use serde_json::Value;

use crate::common::*;

async fn get_with(app: &TestApp, path: &str, accept: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header("accept-encoding", accept)
        .send()
        .await
        .unwrap()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("a gzip body");
    out
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli_decompressor::Decompressor::new(bytes, 4096)
        .read_to_end(&mut out)
        .expect("a brotli body");
    out
}

async fn some_reports(app: &TestApp, n: usize) {
    for i in 0..n {
        app.report(&point_report(
            "pothole",
            RYNEK.0 + 0.001 * i as f64,
            RYNEK.1 + 0.002 * (i % 3) as f64,
            "Głęboka dziura w jezdni przy krawężniku, niebezpieczna dla rowerzystów",
        ))
        .await;
    }
}

#[tokio::test]
async fn json_and_geojson_come_gzipped_or_in_brotli_when_the_client_accepts_it() {
    let app = spawn_app().await;
    some_reports(&app, 6).await;
    let plain = get_with(&app, "/api/v1/reports?limit=50", "identity").await;
    assert!(plain.headers().get("content-encoding").is_none());
    let plain: Value = plain.json().await.unwrap();

    let gz = get_with(&app, "/api/v1/reports?limit=50", "gzip").await;
    assert_eq!(gz.status(), 200);
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    assert!(gz.headers()["vary"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase()
        .contains("accept-encoding"));
    let bytes = gz.bytes().await.unwrap();
    let unzipped: Value = serde_json::from_slice(&gunzip(&bytes)).unwrap();
    assert_eq!(unzipped, plain);
    assert!(bytes.len() < serde_json::to_vec(&plain).unwrap().len());

    let br = get_with(&app, "/api/v1/categories", "br").await;
    assert_eq!(br.headers()["content-encoding"], "br");
    let categories: Value = serde_json::from_slice(&unbrotli(&br.bytes().await.unwrap())).unwrap();
    assert!(categories["categories"].as_array().unwrap().len() > 5);
}

#[tokio::test]
async fn an_export_streams_compressed_and_tiles_stay_as_they_are_stored() {
    let app = spawn_app().await;
    some_reports(&app, 4).await;
    let r = get_with(&app, "/api/v1/exports/reports.csv", "gzip").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-encoding"], "gzip");
    let csv = String::from_utf8(gunzip(&r.bytes().await.unwrap())).unwrap();
    assert_eq!(csv.lines().count(), 5, "a header and four reports: {csv}");

    // A tile is stored gzipped: sent as it is, even to a client that prefers brotli.
    let (z, x, y) = tile_of(16, RYNEK.0, RYNEK.1);
    let r = get_with(&app, &format!("/tiles/reports/{z}/{x}/{y}.mvt"), "br, gzip").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-encoding"], "gzip");
    assert!(!gunzip(&r.bytes().await.unwrap()).is_empty());

    // A small answer is not worth compressing.
    let r = get_with(&app, "/api/v1/reports/999999", "gzip").await;
    assert_eq!(r.status(), 404);
    assert!(r.headers().get("content-encoding").is_none());
}
