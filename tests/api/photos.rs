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

// ---- Hostile uploads: each is refused with a JSON error before anything large is allocated,
// ---- or stored as a plain re-encoded JPEG.

/// CRC-32 (IEEE) as PNG chunks carry it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
}

/// A PNG whose header declares `width` × `height` (8-bit colour type `color`), followed by a few
/// bytes of compressed zeros: tiny on the wire, enormous once decoded.
fn png_claiming(width: u32, height: u32, bit_depth: u8, color: u8) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[bit_depth, color, 0, 0, 0]);
    png_chunk(&mut out, b"IHDR", &ihdr);
    // zlib stream of 64 KiB of zero bytes (filter type 0 rows).
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut z, &vec![0u8; 64 * 1024]).unwrap();
    png_chunk(&mut out, b"IDAT", &z.finish().unwrap());
    png_chunk(&mut out, b"IEND", &[]);
    out
}

fn small_jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 7) as u8, (y * 5) as u8, 90]));
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&img)
        .unwrap();
    out
}

fn small_png(w: u32, h: u32) -> Vec<u8> {
    let img =
        image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 3) as u8, (y * 11) as u8, 40]));
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// Inserts JPEG segments (marker, payload) right after SOI.
fn with_segments(jpeg: &[u8], segments: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    for (marker, payload) in segments {
        out.extend_from_slice(&[0xFF, *marker]);
        out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(payload);
    }
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A real EXIF block (big-endian TIFF) whose IFD0 names the camera and points to a GPS IFD with
/// GPSLatitudeRef/GPSLatitude/GPSLongitudeRef/GPSLongitude of the Main Square in Kraków.
fn exif_with_gps() -> Vec<u8> {
    fn entry(out: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]) {
        out.extend_from_slice(&tag.to_be_bytes());
        out.extend_from_slice(&kind.to_be_bytes());
        out.extend_from_slice(&count.to_be_bytes());
        out.extend_from_slice(&value);
    }
    const ASCII: u16 = 2;
    const LONG: u16 = 4;
    const RATIONAL: u16 = 5;
    // Layout (offsets from the TIFF header): header 8, IFD0 at 8 with 2 entries (2+24+4 = 30)
    // -> make string at 38 (12 bytes) -> GPS IFD at 50 with 4 entries (2+48+4 = 54)
    // -> latitude rationals at 104 (24 bytes) -> longitude rationals at 128 (24 bytes).
    let mut t = b"MM\0\x2a\0\0\0\x08".to_vec();
    t.extend_from_slice(&2u16.to_be_bytes());
    entry(&mut t, 0x010F, ASCII, 12, 38u32.to_be_bytes()); // Make
    entry(&mut t, 0x8825, LONG, 1, 50u32.to_be_bytes()); // GPSInfo IFD pointer
    t.extend_from_slice(&0u32.to_be_bytes());
    assert_eq!(t.len(), 38);
    t.extend_from_slice(b"SpyPhoneCam\0");
    assert_eq!(t.len(), 50);
    t.extend_from_slice(&4u16.to_be_bytes());
    entry(&mut t, 0x0001, ASCII, 2, *b"N\0\0\0"); // GPSLatitudeRef
    entry(&mut t, 0x0002, RATIONAL, 3, 104u32.to_be_bytes()); // GPSLatitude
    entry(&mut t, 0x0003, ASCII, 2, *b"E\0\0\0"); // GPSLongitudeRef
    entry(&mut t, 0x0004, RATIONAL, 3, 128u32.to_be_bytes()); // GPSLongitude
    t.extend_from_slice(&0u32.to_be_bytes());
    assert_eq!(t.len(), 104);
    for (num, den) in [
        (50u32, 1u32),
        (3, 1),
        (4212, 100),
        (19, 1),
        (56, 1),
        (1428, 100),
    ] {
        t.extend_from_slice(&num.to_be_bytes());
        t.extend_from_slice(&den.to_be_bytes());
    }
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&t);
    app1
}

fn xmp_with_gps() -> Vec<u8> {
    let mut app1 = b"http://ns.adobe.com/xap/1.0/\0".to_vec();
    app1.extend_from_slice(
        br#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="50,3.70N" exif:GPSLongitude="19,56.23E"/></rdf:RDF></x:xmpmeta>"#,
    );
    app1
}

async fn upload(app: &TestApp, bytes: Vec<u8>, mime: &str) -> reqwest::Response {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes)
            .file_name("upload")
            .mime_str(mime)
            .unwrap(),
    );
    app.client
        .post(app.url("/api/v1/photos"))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// The error is a 4xx with the JSON body `{error: {code, message, field}}` naming the file.
async fn assert_refused(r: reqwest::Response, what: &str) -> Value {
    let status = r.status();
    assert!(
        status.is_client_error(),
        "{what}: expected a 4xx, got {status}"
    );
    let e: Value = r
        .json()
        .await
        .unwrap_or_else(|_| panic!("{what}: JSON error body"));
    assert!(e["error"]["code"].is_string(), "{what}: {e}");
    assert!(e["error"]["message"].is_string(), "{what}: {e}");
    assert_eq!(e["error"]["field"], "file", "{what}: {e}");
    e
}

async fn photo_rows(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM photos")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn decompression_bombs_are_refused_from_their_header_before_decoding() {
    let app = spawn_app().await;
    // 100000 × 100000 RGBA: 40 GB of pixels declared in a file of about a hundred bytes.
    let huge = png_claiming(100_000, 100_000, 8, 6);
    assert!(huge.len() < 1024);
    let started = std::time::Instant::now();
    let e = assert_refused(upload(&app, huge, "image/png").await, "100000² PNG").await;
    assert!(
        e["error"]["message"].as_str().unwrap().contains("limit")
            || e["error"]["message"].as_str().unwrap().contains("large"),
        "{e}"
    );
    // Inside the side limit but 16-bit RGBA: 12000 × 12000 × 8 bytes = 1.15 GB, over the
    // allocation limit; and 12000 × 12000 RGB (432 MB), also over it.
    for (depth, color, what) in [(16, 6, "16-bit RGBA 12000²"), (8, 2, "RGB 12000²")] {
        let bomb = png_claiming(12_000, 12_000, depth, color);
        assert_refused(upload(&app, bomb, "image/png").await, what).await;
    }
    // A JPEG frame header (SOF0) claiming 65500 × 65500.
    let mut jpeg = small_jpeg(16, 16);
    let sof = jpeg
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("baseline JPEG has SOF0");
    jpeg[sof + 5..sof + 7].copy_from_slice(&65_500u16.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&65_500u16.to_be_bytes());
    assert_refused(upload(&app, jpeg, "image/jpeg").await, "65500² JPEG").await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "refused from the header, not after decoding: {:?}",
        started.elapsed()
    );
    assert_eq!(photo_rows(&app).await, 0);
}

#[tokio::test]
async fn a_pdf_sent_as_image_jpeg_and_truncated_images_are_refused_with_json_errors() {
    let app = spawn_app().await;
    let pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
    let e = assert_refused(
        upload(&app, pdf.to_vec(), "image/jpeg").await,
        "PDF as JPEG",
    )
    .await;
    assert_eq!(e["error"]["code"], "unsupported_media_type");
    // The same PDF as a raw image/jpeg body.
    let r = app
        .client
        .post(app.url("/api/v1/photos"))
        .header("content-type", "image/jpeg")
        .body(pdf.to_vec())
        .send()
        .await
        .unwrap();
    assert_refused(r, "raw PDF body").await;

    let png = small_png(64, 64);
    for cut in [8, 33, png.len() / 2, png.len() - 13] {
        let e = assert_refused(
            upload(&app, png[..cut].to_vec(), "image/png").await,
            &format!("PNG cut at {cut}"),
        )
        .await;
        assert_eq!(e["error"]["code"], "unsupported_media_type", "{e}");
    }
    let jpeg = small_jpeg(64, 64);
    for cut in [4, 20, jpeg.len() / 3] {
        assert_refused(
            upload(&app, jpeg[..cut].to_vec(), "image/jpeg").await,
            &format!("JPEG cut at {cut}"),
        )
        .await;
    }
    assert_eq!(photo_rows(&app).await, 0);
}

#[tokio::test]
async fn polyglots_are_stored_as_plain_jpegs_or_refused() {
    let app = spawn_app().await;
    let html = b"<html><script>alert(document.cookie)</script><img src=x onerror=alert(1)></html>";
    // A valid JPEG whose comment segment is an HTML page.
    let jpeg_html = with_segments(&small_jpeg(48, 48), &[(0xFE, html.to_vec())]);
    // A valid PNG with the HTML in a tEXt chunk before IEND.
    let mut png_html = small_png(48, 48);
    let iend = png_html.len() - 12;
    let mut text = b"Comment\0".to_vec();
    text.extend_from_slice(html);
    let mut chunk = Vec::new();
    png_chunk(&mut chunk, b"tEXt", &text);
    png_html.splice(iend..iend, chunk);
    for (bytes, mime, what) in [
        (jpeg_html, "image/jpeg", "JPEG/HTML"),
        (png_html, "image/png", "PNG/HTML"),
    ] {
        assert!(contains(&bytes, b"<script>"));
        let r = upload(&app, bytes, mime).await;
        assert_eq!(r.status(), 201, "{what} decodes as an image");
        let photo: Value = r.json().await.unwrap();
        for url in [&photo["url"], &photo["thumbnail_url"]] {
            let r = app.get(url.as_str().unwrap()).await;
            assert_eq!(r.headers()["content-type"], "image/jpeg");
            let stored = r.bytes().await.unwrap();
            assert!(stored.starts_with(&[0xFF, 0xD8]), "{what}: stored as JPEG");
            for marker in [&b"<script"[..], b"<html", b"onerror", b"alert("] {
                assert!(
                    !contains(&stored, marker),
                    "{what}: re-encoding drops the HTML"
                );
            }
        }
    }
    // GIF/JavaScript: `GIF89a=…` parses as a script and sniffs as a GIF. GIFs are refused.
    let gif_js = b"GIF89a/*\x01\x00\x01\x00\x00\x00\x00*/=1;alert(document.domain);//\x3b".to_vec();
    let e = assert_refused(upload(&app, gif_js, "image/gif").await, "GIF/JS").await;
    assert_eq!(e["error"]["code"], "unsupported_media_type");
    // An SVG with a script is not an accepted format at all.
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>"#;
    assert_refused(upload(&app, svg.to_vec(), "image/svg+xml").await, "SVG").await;
    assert_refused(upload(&app, svg.to_vec(), "image/png").await, "SVG as PNG").await;
    assert_eq!(photo_rows(&app).await, 2);
}

#[tokio::test]
async fn a_jpeg_with_gps_exif_and_xmp_is_stored_with_no_metadata_at_all() {
    let app = spawn_app().await;
    let original = with_segments(
        &small_jpeg(640, 480),
        &[(0xE1, exif_with_gps()), (0xE1, xmp_with_gps())],
    );
    assert!(contains(&original, b"Exif\0\0MM"));
    assert!(contains(&original, b"SpyPhoneCam"));
    // The decoder itself must accept the file with its metadata.
    assert_eq!(image::load_from_memory(&original).unwrap().width(), 640);
    let r = upload(&app, original, "image/jpeg").await;
    assert_eq!(r.status(), 201);
    let photo: Value = r.json().await.unwrap();
    let id = photo["id"].as_str().unwrap().to_owned();

    let mut served = Vec::new();
    for url in [&photo["url"], &photo["thumbnail_url"]] {
        served.push(
            app.get(url.as_str().unwrap())
                .await
                .bytes()
                .await
                .unwrap()
                .to_vec(),
        );
    }
    let (jpeg, thumbnail): (Vec<u8>, Vec<u8>) =
        sqlx::query_as("SELECT image, thumbnail FROM photos WHERE id = $1")
            .bind(&id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(served, vec![jpeg.clone(), thumbnail.clone()]);
    for (bytes, what) in [(&jpeg, "photo"), (&thumbnail, "thumbnail")] {
        assert!(
            !has_segment(bytes, 0xE1),
            "{what}: no APP1 segment (EXIF/XMP)"
        );
        for marker in [
            &b"Exif"[..],
            b"MM\0\x2a",
            b"II\x2a\0",
            b"http://ns.adobe.com",
            b"xmpmeta",
            b"GPS",
            b"SpyPhoneCam",
        ] {
            assert!(
                !contains(bytes, marker),
                "{what}: {:?} is gone",
                String::from_utf8_lossy(marker)
            );
        }
        assert!(image::load_from_memory(bytes).is_ok());
    }
}

/// Whether a JPEG carries a segment with this marker before its image data.
fn has_segment(jpeg: &[u8], marker: u8) -> bool {
    let mut i = 2;
    while i + 4 <= jpeg.len() && jpeg[i] == 0xFF {
        let m = jpeg[i + 1];
        if m == marker {
            return true;
        }
        if m == 0xDA {
            return false;
        }
        let len = u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]) as usize;
        i += 2 + len;
    }
    false
}
