//! Web Mercator tiles (XYZ scheme) and the Z-order keys that make a tile one contiguous range.

/// The latitude limit of Web Mercator.
pub const MAX_LAT: f64 = 85.051_128_779_806_59;
/// The deepest zoom level served.
pub const MAX_ZOOM: u8 = 24;

/// Lon/lat degrees to the unit square: x grows east, y grows south, (0,0) is the north-west corner.
pub fn to_unit(lon: f64, lat: f64) -> (f64, f64) {
    let x = (lon + 180.0) / 360.0;
    let s = lat.clamp(-MAX_LAT, MAX_LAT).to_radians().sin();
    let y = 0.5 - ((1.0 + s) / (1.0 - s)).ln() / (4.0 * std::f64::consts::PI);
    (x.clamp(0.0, 1.0), y.clamp(0.0, 1.0))
}

/// Unit square back to lon/lat degrees.
pub fn from_unit(x: f64, y: f64) -> (f64, f64) {
    let lon = x * 360.0 - 180.0;
    let n = std::f64::consts::PI * (1.0 - 2.0 * y);
    let lat = n.sinh().atan().to_degrees();
    (lon, lat)
}

/// Position on the unit square quantised to 32 bits per axis (about 1 cm on the ground).
pub fn quantise(x: f64, y: f64) -> (u32, u32) {
    const SCALE: f64 = 4_294_967_296.0; // 2^32
    let q = |v: f64| (v * SCALE).clamp(0.0, u32::MAX as f64) as u32;
    (q(x), q(y))
}

/// Interleaves the bits of x and y (x in the even bits): points that are close on the map are
/// mostly close in this order, and every tile's points form one contiguous key range.
pub fn morton(x: u32, y: u32) -> u64 {
    fn spread(v: u32) -> u64 {
        let mut v = v as u64;
        v = (v | (v << 16)) & 0x0000_FFFF_0000_FFFF;
        v = (v | (v << 8)) & 0x00FF_00FF_00FF_00FF;
        v = (v | (v << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
        v = (v | (v << 2)) & 0x3333_3333_3333_3333;
        v = (v | (v << 1)) & 0x5555_5555_5555_5555;
        v
    }
    spread(x) | (spread(y) << 1)
}

/// The Z-order key of a lon/lat position.
pub fn key_of(lon: f64, lat: f64) -> u64 {
    let (x, y) = to_unit(lon, lat);
    let (qx, qy) = quantise(x, y);
    morton(qx, qy)
}

/// The unit-square position back from a key (the inverse of [`key_of`] up to quantisation).
pub fn unit_of_key(key: u64) -> (f64, f64) {
    fn squash(mut v: u64) -> u32 {
        v &= 0x5555_5555_5555_5555;
        v = (v | (v >> 1)) & 0x3333_3333_3333_3333;
        v = (v | (v >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
        v = (v | (v >> 4)) & 0x00FF_00FF_00FF_00FF;
        v = (v | (v >> 8)) & 0x0000_FFFF_0000_FFFF;
        v = (v | (v >> 16)) & 0x0000_0000_FFFF_FFFF;
        v as u32
    }
    const SCALE: f64 = 4_294_967_296.0;
    (squash(key) as f64 / SCALE, squash(key >> 1) as f64 / SCALE)
}

/// One map tile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    pub z: u8,
    pub x: u32,
    pub y: u32,
}

impl TileId {
    /// A tile, if it exists: z ≤ [`MAX_ZOOM`] and x, y < 2^z.
    pub fn new(z: u8, x: u32, y: u32) -> Option<Self> {
        if z > MAX_ZOOM {
            return None;
        }
        let n = 1u64 << z;
        ((x as u64) < n && (y as u64) < n).then_some(Self { z, x, y })
    }

    /// The tile at zoom z that holds a unit-square position.
    pub fn containing(z: u8, ux: f64, uy: f64) -> Self {
        let n = (1u64 << z) as f64;
        let max = (1u64 << z) - 1;
        let x = ((ux * n) as u64).min(max) as u32;
        let y = ((uy * n) as u64).min(max) as u32;
        Self { z, x, y }
    }

    /// Size of the tile on the unit square.
    pub fn span(&self) -> f64 {
        1.0 / (1u64 << self.z) as f64
    }

    /// (min x, min y, max x, max y) on the unit square.
    pub fn unit_bounds(&self) -> (f64, f64, f64, f64) {
        let s = self.span();
        (
            self.x as f64 * s,
            self.y as f64 * s,
            (self.x + 1) as f64 * s,
            (self.y + 1) as f64 * s,
        )
    }

    /// (west, south, east, north) in degrees.
    pub fn lonlat_bounds(&self) -> (f64, f64, f64, f64) {
        let (x0, y0, x1, y1) = self.unit_bounds();
        let (w, n) = from_unit(x0, y0);
        let (e, s) = from_unit(x1, y1);
        (w, s, e, n)
    }

    /// The inclusive range of Z-order keys of positions inside this tile.
    pub fn key_range(&self) -> (u64, u64) {
        if self.z == 0 {
            return (0, u64::MAX);
        }
        let shift = 32 - self.z as u32;
        let start = morton(self.x << shift, self.y << shift);
        let len_bits = 64 - 2 * self.z as u32;
        (start, start + ((1u64 << len_bits) - 1))
    }

    /// Unit-square position to tile-local coordinates on an `extent`-wide grid.
    pub fn to_tile_coords(&self, ux: f64, uy: f64, extent: u32) -> (f64, f64) {
        let n = (1u64 << self.z) as f64;
        let e = extent as f64;
        ((ux * n - self.x as f64) * e, (uy * n - self.y as f64) * e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_round_trip() {
        let (x, y) = to_unit(19.94, 50.06);
        let (lon, lat) = from_unit(x, y);
        assert!((lon - 19.94).abs() < 1e-9 && (lat - 50.06).abs() < 1e-9);
    }

    #[test]
    fn key_range_holds_exactly_the_tile() {
        let (lon, lat) = (19.9383, 50.0614); // Rynek Główny
        let key = key_of(lon, lat);
        let (ux, uy) = to_unit(lon, lat);
        for z in 0..=20u8 {
            let t = TileId::containing(z, ux, uy);
            let (a, b) = t.key_range();
            assert!(a <= key && key <= b, "z{z}");
            // The neighbouring tile does not contain it.
            if let Some(n) = TileId::new(z, t.x + 1, t.y) {
                let (a, b) = n.key_range();
                assert!(!(a <= key && key <= b));
            }
        }
        // Kraków's old town at z12 is tile 2274/1388.
        assert_eq!(
            TileId::containing(12, ux, uy),
            TileId {
                z: 12,
                x: 2274,
                y: 1388
            }
        );
    }

    #[test]
    fn key_decodes_to_position() {
        let (ux, uy) = to_unit(20.0, 50.0);
        let (dx, dy) = unit_of_key(key_of(20.0, 50.0));
        assert!((ux - dx).abs() < 1e-9 && (uy - dy).abs() < 1e-9);
    }

    #[test]
    fn rejects_tiles_outside_the_pyramid() {
        assert!(TileId::new(3, 8, 0).is_none());
        assert!(TileId::new(25, 0, 0).is_none());
        assert!(TileId::new(3, 7, 7).is_some());
    }
}
