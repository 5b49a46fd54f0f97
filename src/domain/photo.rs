//! A photo as the city keeps it: decoded, turned upright, scaled down and re-encoded as JPEG.
//! Re-encoding from pixels drops every piece of metadata (EXIF with GPS, XMP, comments).
use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;
pub const MAX_SIDE: u32 = 2048;
pub const THUMB_SIDE: u32 = 320;

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
        let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
        let mut limits = Limits::default();
        limits.max_image_width = Some(12_000);
        limits.max_image_height = Some(12_000);
        limits.max_alloc = Some(512 * 1024 * 1024);
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
