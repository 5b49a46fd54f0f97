//! Per-layer summaries of a Mapbox Vector Tile, to compare two servers' tiles: the extent, how
//! many features of each geometry type, and the sums of integer properties (heatmap `count` and
//! `weight`). The tile is read with the spatial core's own decoder.
use std::collections::{BTreeMap, BTreeSet};

use zglos_tiles::decode;

#[derive(Debug, Default, PartialEq)]
pub struct LayerInfo {
    pub name: String,
    pub extent: u64,
    /// Feature counts by geometry type: unknown, point, linestring, polygon.
    pub by_type: [u64; 4],
    pub with_id: u64,
    /// Property keys used by the layer's features, sorted.
    pub keys: Vec<String>,
    /// Per property key, the sum of its non-negative integer values over all features.
    pub sums: BTreeMap<String, u64>,
}

impl LayerInfo {
    pub fn features(&self) -> u64 {
        self.by_type.iter().sum()
    }
}

/// Layers of an uncompressed MVT, by name.
pub fn read_tile(buf: &[u8]) -> Result<BTreeMap<String, LayerInfo>, String> {
    if buf.starts_with(&[0x1f, 0x8b]) {
        return Err("gzip-compressed tile: fetch it with `curl --compressed`".into());
    }
    let layers = decode::decode(buf).map_err(|e| e.0.to_string())?;
    Ok(layers
        .into_iter()
        .map(|l| {
            let mut info = LayerInfo {
                name: l.name.clone(),
                extent: l.extent as u64,
                ..Default::default()
            };
            let mut keys = BTreeSet::new();
            for f in &l.features {
                info.by_type[f.geom_type.min(3) as usize] += 1;
                info.with_id += f.id.is_some() as u64;
                for (k, v) in &f.properties {
                    keys.insert(k.clone());
                    if let Some(n) = v.as_u64() {
                        *info.sums.entry(k.clone()).or_default() += n;
                    }
                }
            }
            info.keys = keys.into_iter().collect();
            (l.name, info)
        })
        .collect())
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
