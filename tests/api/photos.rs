//! Photos: re-encoded with every piece of metadata dropped, thumbnails, clear errors, attached to reports.
use crate::common::*;
use serde_json::{json, Value};

/// A 1200 × 800 JPEG carrying an EXIF block with a GPS marker, as a phone camera writes one.
fn jpeg_with_exif() -> Vec<u8> {
    let img = image::RgbImage::from_fn(1200, 800, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 90)
        .encode_image(&img)
        .unwrap();
    // APP1 "Exif\0\0" + a little-endian TIFF header + bytes standing in for GPS tags.
    let mut payload = b"Exif\0\0II*\0\x08\0\0\0".to_vec();
    payload.extend_from_slice(b"GPSLatitude=50.0617;GPSLongitude=19.9373;Make=PhoneCam");
    let len = (payload.len() + 2) as u16;
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&plain[2..]);
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn photos_are_reencoded_without_metadata_and_attached_to_reports() {
    let app = spawn_app().await;
    let original = jpeg_with_exif();
    assert!(contains(&original, b"GPSLatitude"));
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(original)
            .file_name("IMG_0001.jpg")
            .mime_str("image/jpeg")
            .unwrap(),
    );
    let r = app
        .client
        .post(app.url("/api/v1/photos"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let photo: Value = r.json().await.unwrap();
    let id = photo["id"].as_str().unwrap().to_owned();
    assert_eq!(photo["width"], 1200);

    let stored = app.get(photo["url"].as_str().unwrap()).await;
    assert_eq!(stored.headers()["content-type"], "image/jpeg");
    let stored = stored.bytes().await.unwrap();
    assert!(
        !contains(&stored, b"Exif")
            && !contains(&stored, b"GPS")
            && !contains(&stored, b"PhoneCam"),
        "metadata must be gone"
    );
    assert_eq!(image::load_from_memory(&stored).unwrap().width(), 1200);
    let thumb = app
        .get(photo["thumbnail_url"].as_str().unwrap())
        .await
        .bytes()
        .await
        .unwrap();
    let thumb = image::load_from_memory(&thumb).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (320, 213));

    let mut body = point_report("illegal_dumping", RYNEK.0, RYNEK.1, "Tyres dumped");
    body["properties"]["photos"] = json!([id]);
    let created = app.report(&body).await;
    assert_eq!(created["properties"]["photos"][0]["id"], id.as_str());
    assert_eq!(
        created["properties"]["photos"][0]["thumbnail_url"],
        format!("/api/v1/photos/{id}/thumbnail")
    );
    // A photo belongs to one report.
    let mut again = point_report(
        "illegal_dumping",
        PLAC_CENTRALNY.0,
        PLAC_CENTRALNY.1,
        "Other dump",
    );
    again["properties"]["photos"] = json!([id]);
    let r = app.post_json("/api/v1/reports", &again).await;
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "unknown_photo");
    assert_eq!(e["error"]["field"], "properties.photos[0]");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM reports")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 1, "the refused report left nothing behind");
}

#[tokio::test]
async fn non_images_and_oversized_files_are_refused_clearly() {
    let app = spawn_app().await;
    let send = |bytes: Vec<u8>, mime: &'static str| {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(bytes)
                .file_name("x")
                .mime_str(mime)
                .unwrap(),
        );
        app.client
            .post(app.url("/api/v1/photos"))
            .multipart(form)
            .send()
    };
    let r = send(b"%PDF-1.4 not a photo".to_vec(), "application/pdf")
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "unsupported_media_type"
    );
    // A JPEG header followed by garbage.
    let r = send(
        [0xFF, 0xD8, 0xFF, 0xE0, 0, 0, 1, 2, 3].to_vec(),
        "image/jpeg",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 415);
    let r = send(vec![0u8; 11 * 1024 * 1024], "image/jpeg")
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "payload_too_large"
    );
    let r = app
        .client
        .post(app.url("/api/v1/photos"))
        .header("content-type", "text/plain")
        .body("hi")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    assert_eq!(
        app.get("/api/v1/photos/0123456789abcdef0123456789abcdef")
            .await
            .status(),
        404
    );
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM photos")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
}
