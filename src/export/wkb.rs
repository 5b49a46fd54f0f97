//! A small reader of the (little- or big-endian, 2D) WKB that PostGIS sends, and the writers that
//! turn it into GeoJSON and WKT text without building intermediate objects.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Point = 1,
    LineString = 2,
    Polygon = 3,
    MultiPoint = 4,
    MultiLineString = 5,
    MultiPolygon = 6,
}

/// A parsed 2D geometry: coordinates flat in `xy`, with the structure in `parts`.
/// For a Polygon, `rings` ends of each ring; for multi geometries, `parts` counts rings per part.
#[derive(Debug, Default, Clone)]
pub struct Geom {
    pub kind: Option<Kind>,
    pub xy: Vec<f64>,
    /// End (in points) of each ring or line.
    pub ends: Vec<usize>,
    /// For multi geometries: number of rings (polygons) or lines in each part.
    pub parts: Vec<usize>,
}

#[derive(Debug)]
pub struct WkbError(pub &'static str);

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
    le: bool,
}

impl Reader<'_> {
    fn u8(&mut self) -> Result<u8, WkbError> {
        let v = *self.b.get(self.pos).ok_or(WkbError("truncated"))?;
        self.pos += 1;
        Ok(v)
    }
    fn u32(&mut self) -> Result<u32, WkbError> {
        let s: [u8; 4] = self
            .b
            .get(self.pos..self.pos + 4)
            .ok_or(WkbError("truncated"))?
            .try_into()
            .unwrap();
        self.pos += 4;
        Ok(if self.le {
            u32::from_le_bytes(s)
        } else {
            u32::from_be_bytes(s)
        })
    }
    fn f64(&mut self) -> Result<f64, WkbError> {
        let s: [u8; 8] = self
            .b
            .get(self.pos..self.pos + 8)
            .ok_or(WkbError("truncated"))?
            .try_into()
            .unwrap();
        self.pos += 8;
        Ok(if self.le {
            f64::from_le_bytes(s)
        } else {
            f64::from_be_bytes(s)
        })
    }
    fn header(&mut self) -> Result<u32, WkbError> {
        self.le = self.u8()? == 1;
        let t = self.u32()?;
        if t > 7 {
            return Err(WkbError("only 2D geometries are exported"));
        }
        Ok(t)
    }
    fn points(&mut self, g: &mut Geom) -> Result<(), WkbError> {
        let n = self.u32()? as usize;
        if n > (self.b.len() - self.pos) / 16 {
            return Err(WkbError("truncated"));
        }
        for _ in 0..n {
            let x = self.f64()?;
            let y = self.f64()?;
            g.xy.push(x);
            g.xy.push(y);
        }
        g.ends.push(g.xy.len() / 2);
        Ok(())
    }
    fn polygon(&mut self, g: &mut Geom) -> Result<usize, WkbError> {
        let rings = self.u32()? as usize;
        for _ in 0..rings {
            self.points(g)?;
        }
        Ok(rings)
    }
}

impl Geom {
    pub fn clear(&mut self) {
        self.kind = None;
        self.xy.clear();
        self.ends.clear();
        self.parts.clear();
    }

    /// Parses WKB into `self`, reusing its buffers.
    pub fn read(&mut self, wkb: &[u8]) -> Result<(), WkbError> {
        self.clear();
        let mut r = Reader {
            b: wkb,
            pos: 0,
            le: true,
        };
        let t = r.header()?;
        match t {
            1 => {
                let (x, y) = (r.f64()?, r.f64()?);
                self.xy.extend([x, y]);
                self.ends.push(1);
                self.kind = Some(Kind::Point);
            }
            2 => {
                r.points(self)?;
                self.kind = Some(Kind::LineString);
            }
            3 => {
                let n = r.polygon(self)?;
                self.parts.push(n);
                self.kind = Some(Kind::Polygon);
            }
            4..=6 => {
                let n = r.u32()? as usize;
                for _ in 0..n {
                    let sub = r.header()?;
                    match (t, sub) {
                        (4, 1) => {
                            let (x, y) = (r.f64()?, r.f64()?);
                            self.xy.extend([x, y]);
                            self.ends.push(self.xy.len() / 2);
                        }
                        (5, 2) => r.points(self)?,
                        (6, 3) => {
                            let rings = r.polygon(self)?;
                            self.parts.push(rings);
                        }
                        _ => return Err(WkbError("mixed multi geometry")),
                    }
                }
                self.kind = Some(match t {
                    4 => Kind::MultiPoint,
                    5 => Kind::MultiLineString,
                    _ => Kind::MultiPolygon,
                });
            }
            _ => return Err(WkbError("geometry collections are not exported")),
        }
        Ok(())
    }

    pub fn bbox(&self) -> [f64; 4] {
        let mut b = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for c in self.xy.chunks_exact(2) {
            b[0] = b[0].min(c[0]);
            b[1] = b[1].min(c[1]);
            b[2] = b[2].max(c[0]);
            b[3] = b[3].max(c[1]);
        }
        b
    }

    fn ring(&self, i: usize) -> &[f64] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.xy[start * 2..self.ends[i] * 2]
    }

    pub fn type_name(&self) -> &'static str {
        match self.kind {
            Some(Kind::Point) => "Point",
            Some(Kind::LineString) => "LineString",
            Some(Kind::Polygon) => "Polygon",
            Some(Kind::MultiPoint) => "MultiPoint",
            Some(Kind::MultiLineString) => "MultiLineString",
            Some(Kind::MultiPolygon) => "MultiPolygon",
            None => "GeometryCollection",
        }
    }

    /// GeoJSON geometry object (RFC 7946: lon, lat).
    pub fn write_geojson(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"type\":\"");
        out.extend_from_slice(self.type_name().as_bytes());
        out.extend_from_slice(b"\",\"coordinates\":");
        self.write_coords(out, b'[', b']', b',', b',', true);
        out.push(b'}');
    }

    /// WKT text.
    pub fn write_wkt(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.type_name().to_ascii_uppercase().as_bytes());
        out.push(b' ');
        self.write_coords(out, b'(', b')', b' ', b',', false);
    }

    fn write_coords(&self, out: &mut Vec<u8>, open: u8, close: u8, inner: u8, sep: u8, json: bool) {
        let pos = |out: &mut Vec<u8>, c: &[f64]| {
            if json {
                out.push(b'[');
            }
            num(out, c[0]);
            out.push(inner);
            num(out, c[1]);
            if json {
                out.push(b']');
            }
        };
        let seq = |out: &mut Vec<u8>, r: &[f64]| {
            out.push(open);
            for (i, c) in r.chunks_exact(2).enumerate() {
                if i > 0 {
                    out.push(sep);
                }
                pos(out, c);
            }
            out.push(close);
        };
        match self.kind {
            Some(Kind::Point) => {
                if json {
                    pos(out, &self.xy);
                } else {
                    out.push(b'(');
                    pos(out, &self.xy);
                    out.push(b')');
                }
            }
            Some(Kind::LineString) => seq(out, &self.xy),
            Some(Kind::MultiPoint) => {
                out.push(open);
                for (i, c) in self.xy.chunks_exact(2).enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    if json {
                        pos(out, c);
                    } else {
                        out.push(b'(');
                        pos(out, c);
                        out.push(b')');
                    }
                }
                out.push(close);
            }
            Some(Kind::Polygon) | Some(Kind::MultiLineString) => {
                out.push(open);
                for i in 0..self.ends.len() {
                    if i > 0 {
                        out.push(b',');
                    }
                    seq(out, self.ring(i));
                }
                out.push(close);
            }
            Some(Kind::MultiPolygon) => {
                out.push(open);
                let mut ring = 0;
                for (p, n) in self.parts.iter().enumerate() {
                    if p > 0 {
                        out.push(b',');
                    }
                    out.push(open);
                    for k in 0..*n {
                        if k > 0 {
                            out.push(b',');
                        }
                        seq(out, self.ring(ring));
                        ring += 1;
                    }
                    out.push(close);
                }
                out.push(close);
            }
            None => {
                if json {
                    out.extend_from_slice(b"[]");
                } else {
                    out.extend_from_slice(b"EMPTY");
                }
            }
        }
    }
}

/// Shortest text that reads back as the same double.
pub fn num(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        let mut b = ryu::Buffer::new();
        let s = b.format_finite(v);
        out.extend_from_slice(s.strip_suffix(".0").unwrap_or(s).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

pub fn int(out: &mut Vec<u8>, v: i64) {
    let mut b = itoa::Buffer::new();
    out.extend_from_slice(b.format(v).as_bytes());
}

/// A JSON string literal.
pub fn json_str(out: &mut Vec<u8>, s: &str) {
    // Most text needs no escaping: copy it whole, and leave the rest to serde_json.
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point_wkb(x: f64, y: f64) -> Vec<u8> {
        let mut v = vec![1u8];
        v.extend(1u32.to_le_bytes());
        v.extend(x.to_le_bytes());
        v.extend(y.to_le_bytes());
        v
    }

    #[test]
    fn json_strings_are_escaped_as_serde_json_does() {
        for s in [
            "plain",
            "",
            "Dziura w jezdni, ul. Długa 7",
            "quote \" and \\ backslash",
            "tab\tnew\nline\u{1}",
            "emoji 🕳️ \u{2028}",
        ] {
            let mut out = Vec::new();
            json_str(&mut out, s);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(s).unwrap(),
                "{s:?}"
            );
        }
    }

    #[test]
    fn point_and_polygon_round_trip_to_text() {
        let mut g = Geom::default();
        g.read(&point_wkb(19.9373, 50.0617)).unwrap();
        let mut out = Vec::new();
        g.write_geojson(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"type":"Point","coordinates":[19.9373,50.0617]}"#
        );
        let mut out = Vec::new();
        g.write_wkt(&mut out);
        assert_eq!(String::from_utf8(out).unwrap(), "POINT (19.9373 50.0617)");

        let mut v = vec![1u8];
        v.extend(3u32.to_le_bytes());
        v.extend(1u32.to_le_bytes());
        v.extend(4u32.to_le_bytes());
        for (x, y) in [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)] {
            v.extend(f64::to_le_bytes(x));
            v.extend(f64::to_le_bytes(y));
        }
        g.read(&v).unwrap();
        let mut out = Vec::new();
        g.write_wkt(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "POLYGON ((0 0,1 0,1 1,0 0))"
        );
        assert_eq!(g.bbox(), [0.0, 0.0, 1.0, 1.0]);
        assert!(g.read(&v[..20]).is_err());
    }
}
