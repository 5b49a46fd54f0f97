//! A small reader for Mapbox Vector Tiles, to check what the encoder wrote (tests, benchmarks).
//! It reads the protobuf wire format directly: layers, features, ids, tags and geometry commands.
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    String(String),
    Float(f32),
    Double(f64),
    Int(i64),
    Uint(u64),
    Sint(i64),
    Bool(bool),
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::Uint(v) => Some(v),
            Value::Int(v) | Value::Sint(v) if v >= 0 => Some(v as u64),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Feature {
    pub id: Option<u64>,
    /// 1 point, 2 linestring, 3 polygon.
    pub geom_type: u32,
    pub properties: BTreeMap<String, Value>,
    /// Decoded rings / lines / points in tile coordinates: one Vec per MoveTo.
    pub parts: Vec<Vec<(i32, i32)>>,
}

#[derive(Clone, Debug, Default)]
pub struct Layer {
    pub name: String,
    pub version: u32,
    pub extent: u32,
    pub features: Vec<Feature>,
}

#[derive(Debug, PartialEq)]
pub struct DecodeError(pub &'static str);

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }
    fn done(&self) -> bool {
        self.pos >= self.buf.len()
    }
    fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self
                .buf
                .get(self.pos)
                .ok_or(DecodeError("truncated varint"))?;
            self.pos += 1;
            v |= ((b & 0x7f) as u64) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(DecodeError("varint too long"))
    }
    fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.varint()? as usize;
        let end = self
            .pos
            .checked_add(len)
            .filter(|&e| e <= self.buf.len())
            .ok_or(DecodeError("truncated field"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn fixed(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos + n;
        let s = self
            .buf
            .get(self.pos..end)
            .ok_or(DecodeError("truncated fixed"))?;
        self.pos = end;
        Ok(s)
    }
    /// (field number, wire type)
    fn key(&mut self) -> Result<(u64, u64), DecodeError> {
        let k = self.varint()?;
        Ok((k >> 3, k & 7))
    }
    fn skip(&mut self, wire: u64) -> Result<(), DecodeError> {
        match wire {
            0 => self.varint().map(|_| ()),
            1 => self.fixed(8).map(|_| ()),
            2 => self.bytes().map(|_| ()),
            5 => self.fixed(4).map(|_| ()),
            _ => Err(DecodeError("unknown wire type")),
        }
    }
    fn packed(&mut self) -> Result<Vec<u64>, DecodeError> {
        let mut r = Reader::new(self.bytes()?);
        let mut out = Vec::new();
        while !r.done() {
            out.push(r.varint()?);
        }
        Ok(out)
    }
}

fn zigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn value(buf: &[u8]) -> Result<Value, DecodeError> {
    let mut r = Reader::new(buf);
    let mut v = Err(DecodeError("empty value"));
    while !r.done() {
        let (field, wire) = r.key()?;
        v = Ok(match (field, wire) {
            (1, 2) => Value::String(
                String::from_utf8(r.bytes()?.to_vec()).map_err(|_| DecodeError("bad utf-8"))?,
            ),
            (2, 5) => Value::Float(f32::from_le_bytes(r.fixed(4)?.try_into().unwrap())),
            (3, 1) => Value::Double(f64::from_le_bytes(r.fixed(8)?.try_into().unwrap())),
            (4, 0) => Value::Int(r.varint()? as i64),
            (5, 0) => Value::Uint(r.varint()?),
            (6, 0) => Value::Sint(zigzag(r.varint()?)),
            (7, 0) => Value::Bool(r.varint()? != 0),
            (_, w) => {
                r.skip(w)?;
                continue;
            }
        });
    }
    v
}

fn geometry(cmds: &[u64]) -> Result<Vec<Vec<(i32, i32)>>, DecodeError> {
    let (mut x, mut y) = (0i64, 0i64);
    let mut parts: Vec<Vec<(i32, i32)>> = Vec::new();
    let mut i = 0;
    while i < cmds.len() {
        let (id, count) = (cmds[i] & 7, (cmds[i] >> 3) as usize);
        i += 1;
        match id {
            1 | 2 => {
                for k in 0..count {
                    let dx = zigzag(*cmds.get(i).ok_or(DecodeError("truncated geometry"))?);
                    let dy = zigzag(*cmds.get(i + 1).ok_or(DecodeError("truncated geometry"))?);
                    i += 2;
                    x += dx;
                    y += dy;
                    if id == 1 && (k == 0 || parts.is_empty()) || parts.is_empty() {
                        parts.push(Vec::new());
                    }
                    parts.last_mut().unwrap().push((x as i32, y as i32));
                }
            }
            7 => {}
            _ => return Err(DecodeError("unknown geometry command")),
        }
    }
    Ok(parts)
}

fn layer(buf: &[u8]) -> Result<Layer, DecodeError> {
    let mut r = Reader::new(buf);
    let mut l = Layer {
        version: 1,
        extent: 4096,
        ..Default::default()
    };
    let (mut keys, mut values, mut raw) = (Vec::new(), Vec::new(), Vec::new());
    while !r.done() {
        match r.key()? {
            (15, 0) => l.version = r.varint()? as u32,
            (1, 2) => {
                l.name =
                    String::from_utf8(r.bytes()?.to_vec()).map_err(|_| DecodeError("bad utf-8"))?
            }
            (2, 2) => raw.push(r.bytes()?),
            (3, 2) => keys.push(
                String::from_utf8(r.bytes()?.to_vec()).map_err(|_| DecodeError("bad utf-8"))?,
            ),
            (4, 2) => values.push(value(r.bytes()?)?),
            (5, 0) => l.extent = r.varint()? as u32,
            (_, w) => r.skip(w)?,
        }
    }
    for f in raw {
        let mut r = Reader::new(f);
        let mut feature = Feature::default();
        while !r.done() {
            match r.key()? {
                (1, 0) => feature.id = Some(r.varint()?),
                (2, 2) => {
                    let tags = r.packed()?;
                    for pair in tags.chunks(2) {
                        let [k, v] = pair else {
                            return Err(DecodeError("odd tag count"));
                        };
                        let key = keys.get(*k as usize).ok_or(DecodeError("bad key index"))?;
                        let val = values
                            .get(*v as usize)
                            .ok_or(DecodeError("bad value index"))?;
                        feature.properties.insert(key.clone(), val.clone());
                    }
                }
                (3, 0) => feature.geom_type = r.varint()? as u32,
                (4, 2) => feature.parts = geometry(&r.packed()?)?,
                (_, w) => r.skip(w)?,
            }
        }
        l.features.push(feature);
    }
    Ok(l)
}

/// Decodes a whole tile into its layers.
pub fn decode(buf: &[u8]) -> Result<Vec<Layer>, DecodeError> {
    decode_where(buf, |_| true)
}

/// Decodes only the layers named in `names` (a basemap tile's building layer alone can hold
/// thousands of features a reader of street names has no use for). The others are skipped
/// without reading their features.
pub fn decode_only(buf: &[u8], names: &[&str]) -> Result<Vec<Layer>, DecodeError> {
    decode_where(buf, |name| names.contains(&name))
}

fn decode_where(buf: &[u8], wanted: impl Fn(&str) -> bool) -> Result<Vec<Layer>, DecodeError> {
    let mut r = Reader::new(buf);
    let mut layers = Vec::new();
    while !r.done() {
        match r.key()? {
            (3, 2) => {
                let bytes = r.bytes()?;
                if wanted(&layer_name(bytes)?) {
                    layers.push(layer(bytes)?);
                }
            }
            (_, w) => r.skip(w)?,
        }
    }
    Ok(layers)
}

/// The name of an encoded layer, read without decoding its features.
fn layer_name(buf: &[u8]) -> Result<String, DecodeError> {
    let mut r = Reader::new(buf);
    while !r.done() {
        match r.key()? {
            (1, 2) => {
                return String::from_utf8(r.bytes()?.to_vec()).map_err(|_| DecodeError("bad utf-8"))
            }
            (_, w) => r.skip(w)?,
        }
    }
    Ok(String::new())
}
