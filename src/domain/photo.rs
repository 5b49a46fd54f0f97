//! A photo as the city keeps it: decoded, turned upright, scaled down and re-encoded as JPEG.
//! Re-encoding from pixels drops every piece of metadata (EXIF with GPS, XMP, comments).
use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;
pub const MAX_SIDE: u32 = 2048;
pub const THUMB_SIDE: u32 = 320;
/// The largest side a decoder may declare: above it the header alone refuses the file.
pub const MAX_DECODE_SIDE: u32 = 12_000;
/// The most the decoder may allocate for one image (a 64-megapixel RGB photo takes 192 MB). A
/// header declaring more (a decompression bomb: a small file claiming huge dimensions) is
/// refused before any pixel buffer is allocated.
pub const MAX_DECODE_BYTES: u64 = 200 * 1024 * 1024;

/// How a photo is linked from a report.
pub fn photo_json(id: &str) -> serde_json::Value {
    serde_json::json!({"id": id, "url": format!("/api/v1/photos/{id}"), "thumbnail_url": format!("/api/v1/photos/{id}/thumbnail")})
}

pub struct Photo {
    pub width: u32,
    pub height: u32,
    pub jpeg: Vec<u8>,
    pub thumbnail: Vec<u8>,
}

/// Why an upload is not a photo the city keeps. Each names the multipart field `file`.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    #[error("a photo may be at most 10 MB")]
    TooLarge,
    #[error("{0}")]
    NotAnImage(String),
    /// Re-encoding failed: the service's fault, not the upload's.
    #[error("the photo could not be encoded: {0}")]
    Encode(String),
}

fn not_an_image(message: impl Into<String>) -> PhotoError {
    PhotoError::NotAnImage(message.into())
}

fn encode(img: &DynamicImage, quality: u8) -> Result<Vec<u8>, PhotoError> {
    let mut out = Vec::new();
    let rgb = img.to_rgb8();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(&rgb)
        .map_err(|e| PhotoError::Encode(e.to_string()))?;
    Ok(out)
}

/// Whether a JPEG reaches its end-of-image marker after its first scan. The decoder fills a
/// truncated scan with grey and reports success; a cut-off upload is refused instead. Segments
/// before the scan are skipped by their lengths (an EXIF thumbnail has its own end marker);
/// inside entropy-coded data a 0xFF byte is always followed by 0x00 or a restart marker, so
/// 0xFF 0xD9 there is the real end.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let mut i = 2;
    while i + 4 <= bytes.len() {
        if bytes[i] != 0xFF {
            return false;
        }
        let marker = bytes[i + 1];
        if marker == 0xFF {
            i += 1; // fill byte
            continue;
        }
        let len = u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]) as usize;
        if marker == 0xDA {
            let scan = bytes.get(i + 2 + len..).unwrap_or(&[]);
            return scan.windows(2).any(|w| w == [0xFF, 0xD9]);
        }
        i += 2 + len;
    }
    false
}

impl Photo {
    pub fn from_upload(bytes: &[u8]) -> Result<Self, PhotoError> {
        if bytes.len() > MAX_UPLOAD_BYTES {
            return Err(PhotoError::TooLarge);
        }
        let format = image::guess_format(bytes)
            .map_err(|_| not_an_image("the file is not a JPEG, PNG or WebP image"))?;
        if !matches!(
            format,
            ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP
        ) {
            return Err(not_an_image(format!(
                "{format:?} images are not accepted; send JPEG, PNG or WebP"
            )));
        }
        if format == ImageFormat::Jpeg && !jpeg_is_complete(bytes) {
            return Err(not_an_image(
                "the image cannot be read: the JPEG file is incomplete (no end of image)",
            ));
        }
        let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
        let mut limits = Limits::default();
        limits.max_image_width = Some(MAX_DECODE_SIDE);
        limits.max_image_height = Some(MAX_DECODE_SIDE);
        limits.max_alloc = Some(MAX_DECODE_BYTES);
        reader.limits(limits);
        let mut decoder = reader
            .into_decoder()
            .map_err(|e| not_an_image(format!("the image cannot be read: {e}")))?;
        let orientation = decoder.orientation().ok();
        let mut img = DynamicImage::from_decoder(decoder)
            .map_err(|e| not_an_image(format!("the image cannot be read: {e}")))?;
        if let Some(o) = orientation {
            img.apply_orientation(o);
        }
        let img = if img.width().max(img.height()) > MAX_SIDE {
            img.thumbnail(MAX_SIDE, MAX_SIDE)
        } else {
            img
        };
        let thumb = img.thumbnail(THUMB_SIDE, THUMB_SIDE);
        Ok(Self {
            width: img.width(),
            height: img.height(),
            jpeg: encode(&img, 85)?,
            thumbnail: encode(&thumb, 75)?,
        })
    }
}
