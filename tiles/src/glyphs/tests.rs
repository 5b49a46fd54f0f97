use super::*;

/// DejaVu Sans from Debian's fonts-dejavu-core (scripts/lib.sh: ensure_fonts installs it).
fn dejavu() -> Vec<u8> {
    let path = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e} (install fonts-dejavu-core)"))
}

/// The glyphs of a range as (id, width, height, left, top, advance, bitmap length).
type Decoded = (u32, u32, u32, i32, i32, u32, usize);

fn read_varint(b: &[u8], at: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let byte = b[*at];
        *at += 1;
        v |= ((byte & 0x7f) as u64) << shift;
        if byte & 0x80 == 0 {
            return v;
        }
        shift += 7;
    }
}

/// The fields of one message: (number, varint value or bytes).
fn fields(b: &[u8]) -> Vec<(u64, Result<u64, Vec<u8>>)> {
    let mut at = 0;
    let mut out = Vec::new();
    while at < b.len() {
        let key = read_varint(b, &mut at);
        match key & 7 {
            0 => out.push((key >> 3, Ok(read_varint(b, &mut at)))),
            2 => {
                let len = read_varint(b, &mut at) as usize;
                out.push((key >> 3, Err(b[at..at + len].to_vec())));
                at += len;
            }
            t => panic!("unexpected wire type {t}"),
        }
    }
    out
}

fn unzigzag(v: u64) -> i32 {
    ((v >> 1) as i32) ^ -((v & 1) as i32)
}

fn decode(pbf: &[u8]) -> (String, String, Vec<Decoded>) {
    let top = fields(pbf);
    assert_eq!(top.len(), 1, "one fontstack");
    let Err(stack) = &top[0].1 else {
        panic!("fontstack is a message")
    };
    let (mut name, mut range, mut glyphs) = (String::new(), String::new(), Vec::new());
    for (n, v) in fields(stack) {
        match (n, v) {
            (1, Err(b)) => name = String::from_utf8(b).unwrap(),
            (2, Err(b)) => range = String::from_utf8(b).unwrap(),
            (3, Err(b)) => {
                let mut g = (0, 0, 0, 0, 0, 0, 0);
                for (n, v) in fields(&b) {
                    match (n, v) {
                        (1, Ok(v)) => g.0 = v as u32,
                        (2, Err(b)) => g.6 = b.len(),
                        (3, Ok(v)) => g.1 = v as u32,
                        (4, Ok(v)) => g.2 = v as u32,
                        (5, Ok(v)) => g.3 = unzigzag(v),
                        (6, Ok(v)) => g.4 = unzigzag(v),
                        (7, Ok(v)) => g.5 = v as u32,
                        other => panic!("unexpected glyph field {other:?}"),
                    }
                }
                glyphs.push(g);
            }
            other => panic!("unexpected fontstack field {other:?}"),
        }
    }
    (name, range, glyphs)
}

fn glyph(glyphs: &[Decoded], c: char) -> Decoded {
    *glyphs
        .iter()
        .find(|g| g.0 == c as u32)
        .unwrap_or_else(|| panic!("no glyph for {c:?}"))
}

#[test]
fn the_font_is_named_by_its_family_and_style() {
    assert_eq!(font_name(&dejavu()).as_deref(), Some("DejaVu Sans Book"));
    assert_eq!(font_name(b"not a font"), None);
}

#[test]
fn latin_glyphs_are_distance_fields_with_a_buffer_and_metrics_in_pixels() {
    let (name, range, glyphs) = decode(&glyph_range(&dejavu(), "DejaVu Sans Book", 0).unwrap());
    assert_eq!(name, "DejaVu Sans Book");
    assert_eq!(range, "0-255");
    let a = glyph(&glyphs, 'A');
    let (_, w, h, _, top, advance, len) = a;
    assert!(
        (12..=20).contains(&w) && (14..=20).contains(&h),
        "A is {w}x{h} at 24 px"
    );
    assert_eq!(len, (w as usize + 2 * BUFFER) * (h as usize + 2 * BUFFER));
    assert!((12..=19).contains(&advance));
    // A capital sits a little below the top of the line box.
    assert!((-8..=0).contains(&top), "top of A: {top}");
    let g = glyph(&glyphs, 'g');
    // Bottoms measured down from the top of the line box.
    let bottom = |g: Decoded| g.2 as i32 - g.4;
    assert!(bottom(g) > bottom(a) + 3, "g descends below the baseline");
    let space = glyph(&glyphs, ' ');
    assert_eq!(
        (space.1, space.2, space.6),
        (0, 0, 0),
        "a space has no bitmap"
    );
    assert!(space.5 > 0, "but it moves the pen");
    assert!(glyphs.iter().any(|g| g.0 == 'ó' as u32));
}

#[test]
fn polish_and_ukrainian_letters_are_in_their_ranges() {
    let font = dejavu();
    let (_, range, latin_ext) = decode(&glyph_range(&font, "s", 256).unwrap());
    assert_eq!(range, "256-511");
    for c in ['ą', 'ć', 'ę', 'ł', 'ń', 'ś', 'ź', 'ż', 'Ł', 'Ś', 'Ż'] {
        let g = glyph(&latin_ext, c);
        assert!(g.1 > 0 && g.6 > 0, "{c} has a bitmap");
    }
    let (_, _, cyrillic) = decode(&glyph_range(&font, "s", 1024).unwrap());
    for c in ['і', 'ї', 'є', 'ґ', 'Ї', 'щ'] {
        assert!(glyph(&cyrillic, c).6 > 0, "{c} has a bitmap");
    }
}

#[test]
fn a_range_the_font_lacks_is_empty_and_a_bad_range_is_refused() {
    let font = dejavu();
    let (_, range, glyphs) = decode(&glyph_range(&font, "s", 0xE000).unwrap());
    assert_eq!(range, "57344-57599");
    assert!(glyphs.is_empty());
    assert_eq!(glyph_range(&font, "s", 100), Err(Error::BadRange(100)));
    assert_eq!(
        glyph_range(&font, "s", 65_536),
        Err(Error::BadRange(65_536))
    );
    assert_eq!(glyph_range(b"nope", "s", 0), Err(Error::NotAFont));
}
