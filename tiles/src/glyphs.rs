//! Map label glyphs from a font file: MapLibre asks for `/fonts/{fontstack}/{start}-{end}.pbf`,
//! 256 code points at a time, each glyph as a signed distance field (so one rendering scales to
//! every label size). The layout follows what MapLibre and the usual generators expect: glyphs
//! rasterised at 24 px, a 3 px buffer around each bitmap, distances out to 8 px, a quarter of
//! the byte range for the inside of the outline.
//!
//! Rasterising is pure Rust (ab_glyph); the distance field is `sdf_glyph_renderer`'s, the same
//! code the usual MapLibre glyph tools use behind FreeType. The protocol buffer is written by hand:
//! it has three small messages.
use ab_glyph::{Font, FontRef, ScaleFont};

const SIZE: f32 = 24.0;
const BUFFER: usize = 3;
const RADIUS: usize = 8;
const CUTOFF: f64 = 0.25;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The bytes are not a font ab_glyph can read.
    NotAFont,
    /// The range does not start at a multiple of 256 or lies beyond U+FFFF.
    BadRange(u32),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::NotAFont => write!(f, "not a TrueType or OpenType font"),
            Error::BadRange(s) => write!(
                f,
                "a glyph range starts at a multiple of 256 up to 65280, not {s}"
            ),
        }
    }
}

impl std::error::Error for Error {}

/// The name a style uses for the font: family and style, as the font's own name table gives
/// them ("DejaVu Sans Bold"); None when the table has no family name.
pub fn font_name(font: &[u8]) -> Option<String> {
    let face = ttf_parser::Face::parse(font, 0).ok()?;
    let name = |id: u16| {
        face.names()
            .into_iter()
            .filter(|n| n.name_id == id && n.is_unicode())
            .find_map(|n| n.to_string())
    };
    let family = name(ttf_parser::name_id::TYPOGRAPHIC_FAMILY)
        .or_else(|| name(ttf_parser::name_id::FAMILY))?;
    let style = name(ttf_parser::name_id::TYPOGRAPHIC_SUBFAMILY)
        .or_else(|| name(ttf_parser::name_id::SUBFAMILY))
        .unwrap_or_else(|| "Regular".into());
    Some(format!("{family} {style}"))
}

/// The glyph range starting at `start` (a multiple of 256) as MapLibre's PBF: the glyphs the
/// font has in it; a range the font does not cover is a valid file with no glyphs.
pub fn glyph_range(font: &[u8], stack: &str, start: u32) -> Result<Vec<u8>, Error> {
    if !start.is_multiple_of(256) || start > 65_280 {
        return Err(Error::BadRange(start));
    }
    let font = FontRef::try_from_slice(font).map_err(|_| Error::NotAFont)?;
    // FreeType's pixel size is the em square; ab_glyph's scale is ascent minus descent.
    let em = font.units_per_em().unwrap_or(1000.0);
    let scale = ab_glyph::PxScale::from(SIZE * font.height_unscaled() / em);
    let scaled = font.as_scaled(scale);
    let ascender = scaled.ascent().round() as i32;

    let mut glyphs = Vec::new();
    for code in start..start + 256 {
        let Some(c) = char::from_u32(code) else {
            continue;
        };
        let id = font.glyph_id(c);
        if id.0 == 0 {
            continue;
        }
        let advance = scaled.h_advance(id).round().max(0.0) as u32;
        let glyph = id.with_scale(scale);
        let mut g = Glyph {
            id: code,
            advance,
            ..Glyph::default()
        };
        if let Some(outline) = font.outline_glyph(glyph) {
            let b = outline.px_bounds();
            let (w, h) = (b.width() as usize, b.height() as usize);
            if w > 0 && h > 0 {
                let mut alpha = vec![0u8; w * h];
                outline.draw(|x, y, c| {
                    let at = y as usize * w + x as usize;
                    if let Some(a) = alpha.get_mut(at) {
                        *a = (c.clamp(0.0, 1.0) * 255.0).round() as u8;
                    }
                });
                let bitmap = sdf_glyph_renderer::BitmapGlyph::from_unbuffered(&alpha, w, h, BUFFER)
                    .expect("the bitmap has the size given");
                let sdf = sdf_glyph_renderer::clamp_to_u8(&bitmap.render_sdf(RADIUS), CUTOFF)
                    .expect("the cutoff is within (0, 1)");
                g.bitmap = sdf;
                g.width = w as u32;
                g.height = h as u32;
                g.left = b.min.x.round() as i32;
                // From the top of the line box: MapLibre places glyphs by their top edge.
                g.top = (-b.min.y).round() as i32 - ascender;
            }
        }
        glyphs.push(g);
    }
    Ok(encode(stack, start, &glyphs))
}

#[derive(Debug, Default)]
struct Glyph {
    id: u32,
    bitmap: Vec<u8>,
    width: u32,
    height: u32,
    left: i32,
    top: i32,
    advance: u32,
}

/// `glyphs { repeated fontstack stacks = 1 }`, `fontstack { name = 1; range = 2; repeated glyph
/// glyphs = 3 }`, `glyph { id = 1; bitmap = 2; width = 3; height = 4; sint32 left = 5; sint32
/// top = 6; advance = 7 }`.
fn encode(stack: &str, start: u32, glyphs: &[Glyph]) -> Vec<u8> {
    let mut fontstack = Vec::new();
    bytes_field(&mut fontstack, 1, stack.as_bytes());
    bytes_field(
        &mut fontstack,
        2,
        format!("{}-{}", start, start + 255).as_bytes(),
    );
    for g in glyphs {
        let mut m = Vec::new();
        uint_field(&mut m, 1, g.id as u64);
        if !g.bitmap.is_empty() {
            bytes_field(&mut m, 2, &g.bitmap);
        }
        uint_field(&mut m, 3, g.width as u64);
        uint_field(&mut m, 4, g.height as u64);
        uint_field(&mut m, 5, zigzag(g.left));
        uint_field(&mut m, 6, zigzag(g.top));
        uint_field(&mut m, 7, g.advance as u64);
        bytes_field(&mut fontstack, 3, &m);
    }
    let mut out = Vec::new();
    bytes_field(&mut out, 1, &fontstack);
    out
}

fn zigzag(v: i32) -> u64 {
    ((v << 1) ^ (v >> 31)) as u32 as u64
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn uint_field(out: &mut Vec<u8>, field: u32, v: u64) {
    varint(out, (field as u64) << 3);
    varint(out, v);
}

fn bytes_field(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    varint(out, ((field as u64) << 3) | 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests;
