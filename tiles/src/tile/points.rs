//! A direct MVT 2.1 writer for one layer of points with unsigned-integer properties: the heatmap's
//! thousands of cells. The `mvt` crate builds a message object per feature (with its own vectors
//! and hashed tags), which costs more than aggregating the cells; this writes the protobuf wire
//! format straight into one buffer.
use std::collections::HashMap;

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i32) -> u64 {
    ((v << 1) ^ (v >> 31)) as u32 as u64
}

/// Field tag: number and wire type (0 varint, 2 length-delimited).
fn tag(out: &mut Vec<u8>, field: u64, wire: u64) {
    varint(out, field << 3 | wire);
}

fn bytes_field(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    tag(out, field, 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

pub struct PointLayer {
    name: &'static str,
    extent: u32,
    keys: &'static [&'static str],
    values: Vec<u64>,
    value_index: HashMap<u64, u32>,
    /// Encoded features, each as a length-delimited field 2 of the layer.
    features: Vec<u8>,
    count: usize,
    // Buffers reused from one feature to the next.
    feature: Vec<u8>,
    tags: Vec<u8>,
    geometry: Vec<u8>,
}

impl PointLayer {
    /// A layer whose every feature carries the properties `keys`, in that order.
    pub fn new(name: &'static str, extent: u32, keys: &'static [&'static str]) -> Self {
        Self {
            name,
            extent,
            keys,
            values: Vec::new(),
            value_index: HashMap::new(),
            features: Vec::new(),
            count: 0,
            feature: Vec::new(),
            tags: Vec::new(),
            geometry: Vec::new(),
        }
    }

    /// A point at tile coordinates (x, y) with one value per key.
    pub fn add(&mut self, id: u64, x: i32, y: i32, values: &[u64]) {
        debug_assert_eq!(values.len(), self.keys.len());
        self.tags.clear();
        for (k, &v) in values.iter().enumerate() {
            let next = self.values.len() as u32;
            let index = *self.value_index.entry(v).or_insert(next);
            if index == next {
                self.values.push(v);
            }
            varint(&mut self.tags, k as u64);
            varint(&mut self.tags, index as u64);
        }
        self.geometry.clear();
        varint(&mut self.geometry, 1 | (1 << 3)); // MoveTo, one point
        varint(&mut self.geometry, zigzag(x));
        varint(&mut self.geometry, zigzag(y));
        let f = &mut self.feature;
        f.clear();
        tag(f, 1, 0);
        varint(f, id);
        bytes_field(f, 2, &self.tags);
        tag(f, 3, 0);
        varint(f, 1); // POINT
        bytes_field(f, 4, &self.geometry);
        bytes_field(&mut self.features, 2, f);
        self.count += 1;
    }

    /// The layer as a whole tile (empty layers are left out, as the spec allows).
    pub fn into_tile(self) -> Vec<u8> {
        if self.count == 0 {
            return Vec::new();
        }
        let mut layer = Vec::with_capacity(self.features.len() + self.values.len() * 4 + 64);
        tag(&mut layer, 15, 0);
        varint(&mut layer, 2);
        bytes_field(&mut layer, 1, self.name.as_bytes());
        layer.extend_from_slice(&self.features);
        for k in self.keys {
            bytes_field(&mut layer, 3, k.as_bytes());
        }
        let mut value = Vec::with_capacity(11);
        for v in &self.values {
            value.clear();
            tag(&mut value, 5, 0); // uint_value
            varint(&mut value, *v);
            bytes_field(&mut layer, 4, &value);
        }
        tag(&mut layer, 5, 0);
        varint(&mut layer, self.extent as u64);
        let mut tile = Vec::with_capacity(layer.len() + 8);
        bytes_field(&mut tile, 3, &layer);
        tile
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{decode, Value};

    #[test]
    fn points_decode_with_ids_properties_and_positions() {
        let mut layer = PointLayer::new("heatmap", 4096, &["count", "weight"]);
        layer.add(1, 10, 20, &[3, 7]);
        layer.add(4097, 4095, 0, &[7, 300]);
        layer.add(99, -5, 4100, &[u32::MAX as u64 + 1, 3]);
        let layers = decode(&layer.into_tile()).unwrap();
        assert_eq!(layers.len(), 1);
        let l = &layers[0];
        assert_eq!((l.name.as_str(), l.version, l.extent), ("heatmap", 2, 4096));
        let got: Vec<_> = l
            .features
            .iter()
            .map(|f| {
                (
                    f.id,
                    f.geom_type,
                    f.parts.clone(),
                    f.properties["count"].clone(),
                    f.properties["weight"].clone(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    Some(1),
                    1,
                    vec![vec![(10, 20)]],
                    Value::Uint(3),
                    Value::Uint(7)
                ),
                (
                    Some(4097),
                    1,
                    vec![vec![(4095, 0)]],
                    Value::Uint(7),
                    Value::Uint(300)
                ),
                (
                    Some(99),
                    1,
                    vec![vec![(-5, 4100)]],
                    Value::Uint(u32::MAX as u64 + 1),
                    Value::Uint(3)
                ),
            ]
        );
    }

    #[test]
    fn an_empty_layer_is_an_empty_tile() {
        assert!(PointLayer::new("heatmap", 4096, &["count"])
            .into_tile()
            .is_empty());
    }
}
