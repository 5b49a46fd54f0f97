//! Just enough Mapbox Vector Tile (protobuf) reading to compare two servers' tiles: per layer,
//! the extent and how many features of each geometry type it holds.
use std::collections::BTreeMap;

#[derive(Debug, Default, PartialEq)]
pub struct LayerInfo {
    pub name: String,
    pub extent: u64,
    /// Feature counts by geometry type: unknown, point, linestring, polygon.
    pub by_type: [u64; 4],
    pub with_id: u64,
    pub keys: Vec<String>,
    /// Per property key, the sum of its integer values over all features (heatmap `count` and
    /// `weight`).
    pub sums: BTreeMap<String, u64>,
}

impl LayerInfo {
    pub fn features(&self) -> u64 {
        self.by_type.iter().sum()
    }
}

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

    fn varint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.buf.get(self.pos).ok_or("truncated varint")?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("varint too long".into())
    }

    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let n = self.varint()? as usize;
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len()).ok_or("truncated field")?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    /// Reads a field key; returns (field number, wire type).
    fn key(&mut self) -> Result<(u64, u64), String> {
        let k = self.varint()?;
        Ok((k >> 3, k & 7))
    }

    fn skip(&mut self, wire: u64) -> Result<(), String> {
        match wire {
            0 => {
                self.varint()?;
            }
            1 => self.pos += 8,
            2 => {
                self.bytes()?;
            }
            5 => self.pos += 4,
            w => return Err(format!("unsupported wire type {w}")),
        }
        if self.pos > self.buf.len() {
            return Err("truncated".into());
        }
        Ok(())
    }
}

/// An integer from a layer's `Value` message (int, uint or sint); `None` for other types.
fn int_value(buf: &[u8]) -> Result<Option<u64>, String> {
    let mut r = Reader::new(buf);
    let mut out = None;
    while !r.done() {
        match r.key()? {
            (4, 0) | (5, 0) => out = Some(r.varint()?),
            (6, 0) => {
                let v = r.varint()?;
                out = Some(((v >> 1) as i64 ^ -((v & 1) as i64)) as u64);
            }
            (_, w) => r.skip(w)?,
        }
    }
    Ok(out)
}

/// One feature: its geometry type, whether it has an id, and its tags as (key, value) indexes.
fn feature(buf: &[u8], layer: &mut LayerInfo, tags: &mut Vec<(u64, u64)>) -> Result<(), String> {
    let mut r = Reader::new(buf);
    let mut gtype = 0u64;
    while !r.done() {
        match r.key()? {
            (1, 0) => {
                r.varint()?;
                layer.with_id += 1;
            }
            (2, 2) => {
                let mut t = Reader::new(r.bytes()?);
                while !t.done() {
                    let k = t.varint()?;
                    let v = t.varint()?;
                    tags.push((k, v));
                }
            }
            (3, 0) => gtype = r.varint()?,
            (_, w) => r.skip(w)?,
        }
    }
    layer.by_type[gtype.min(3) as usize] += 1;
    Ok(())
}

fn layer(buf: &[u8]) -> Result<LayerInfo, String> {
    let mut r = Reader::new(buf);
    let mut info = LayerInfo { extent: 4096, ..Default::default() };
    let mut tags = Vec::new();
    let mut values = Vec::new();
    while !r.done() {
        match r.key()? {
            (1, 2) => info.name = String::from_utf8_lossy(r.bytes()?).into_owned(),
            (2, 2) => feature(r.bytes()?, &mut info, &mut tags)?,
            (3, 2) => info.keys.push(String::from_utf8_lossy(r.bytes()?).into_owned()),
            (4, 2) => values.push(int_value(r.bytes()?)?),
            (5, 0) => info.extent = r.varint()?,
            (_, w) => r.skip(w)?,
        }
    }
    for (k, v) in tags {
        if let (Some(key), Some(Some(v))) = (info.keys.get(k as usize), values.get(v as usize)) {
            *info.sums.entry(key.clone()).or_default() += v;
        }
    }
    Ok(info)
}

/// Layers of an uncompressed MVT, by name.
pub fn read_tile(buf: &[u8]) -> Result<BTreeMap<String, LayerInfo>, String> {
    if buf.starts_with(&[0x1f, 0x8b]) {
        return Err("gzip-compressed tile: fetch it with `curl --compressed`".into());
    }
    let mut r = Reader::new(buf);
    let mut out = BTreeMap::new();
    while !r.done() {
        match r.key()? {
            (3, 2) => {
                let l = layer(r.bytes()?)?;
                out.insert(l.name.clone(), l);
            }
            (_, w) => r.skip(w)?,
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    fn field_bytes(n: u64, data: &[u8], out: &mut Vec<u8>) {
        varint(n << 3 | 2, out);
        varint(data.len() as u64, out);
        out.extend_from_slice(data);
    }

    #[test]
    fn counts_features_by_type() {
        let mut point = Vec::new();
        varint(1 << 3, &mut point); // id
        varint(7, &mut point);
        varint(3 << 3, &mut point); // type
        varint(1, &mut point);
        field_bytes(2, &[0, 0], &mut point); // tags: count = values[0]
        field_bytes(4, &[9, 50, 34], &mut point); // geometry
        let mut poly = Vec::new();
        varint(3 << 3, &mut poly);
        varint(3, &mut poly);
        let mut layer = Vec::new();
        field_bytes(1, b"reports", &mut layer);
        field_bytes(2, &point, &mut layer);
        field_bytes(2, &point, &mut layer);
        field_bytes(2, &poly, &mut layer);
        field_bytes(3, b"count", &mut layer);
        field_bytes(4, &[5 << 3, 21], &mut layer); // uint 21
        varint(5 << 3, &mut layer);
        varint(4096, &mut layer);
        let mut tile = Vec::new();
        field_bytes(3, &layer, &mut tile);
        let t = read_tile(&tile).unwrap();
        let l = &t["reports"];
        assert_eq!(l.by_type, [0, 2, 0, 1]);
        assert_eq!(l.with_id, 2);
        assert_eq!(l.features(), 3);
        assert_eq!(l.keys, vec!["count".to_string()]);
        assert_eq!(l.sums["count"], 42);
        assert_eq!(l.extent, 4096);
        assert!(read_tile(&[]).unwrap().is_empty());
    }
}
