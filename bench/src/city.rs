//! What the generator needs to know about the city: its boundary (for point-in-polygon tests) and
//! its categories (codes, allowed geometry kinds).
use std::path::Path;

use anyhow_lite::{bail, Context, Result};

/// Minimal error plumbing so the harness needs no extra crates.
pub mod anyhow_lite {
    pub type Result<T> = std::result::Result<T, String>;

    pub trait Context<T> {
        fn context(self, msg: impl std::fmt::Display) -> Result<T>;
    }

    impl<T, E: std::fmt::Display> Context<T> for std::result::Result<T, E> {
        fn context(self, msg: impl std::fmt::Display) -> Result<T> {
            self.map_err(|e| format!("{msg}: {e}"))
        }
    }

    impl<T> Context<T> for Option<T> {
        fn context(self, msg: impl std::fmt::Display) -> Result<T> {
            self.ok_or_else(|| msg.to_string())
        }
    }

    macro_rules! bail {
        ($($t:tt)*) => { return Err(format!($($t)*)) };
    }
    pub(crate) use bail;
}

/// A polygon (outer rings and holes, all treated alike by the even-odd rule) with its edges
/// bucketed into horizontal bands, so a point-in-polygon test only looks at the few edges that
/// cross the point's band instead of all ~4,000.
pub struct Region {
    pub min_lon: f64,
    pub min_lat: f64,
    pub max_lon: f64,
    pub max_lat: f64,
    band_h: f64,
    /// Per band: edges (x0, y0, x1, y1) whose y-range overlaps the band.
    bands: Vec<Vec<[f64; 4]>>,
}

impl Region {
    pub fn from_rings(rings: &[Vec<[f64; 2]>]) -> Result<Self> {
        let mut min_lon = f64::INFINITY;
        let mut min_lat = f64::INFINITY;
        let mut max_lon = f64::NEG_INFINITY;
        let mut max_lat = f64::NEG_INFINITY;
        for ring in rings {
            for &[x, y] in ring {
                min_lon = min_lon.min(x);
                max_lon = max_lon.max(x);
                min_lat = min_lat.min(y);
                max_lat = max_lat.max(y);
            }
        }
        if !min_lon.is_finite() {
            bail!("boundary has no vertices");
        }
        const NBANDS: usize = 2048;
        let band_h = (max_lat - min_lat) / NBANDS as f64;
        let mut bands = vec![Vec::new(); NBANDS];
        for ring in rings {
            for w in ring.windows(2) {
                let ([x0, y0], [x1, y1]) = (w[0], w[1]);
                if y0 == y1 {
                    continue; // horizontal edges never cross a horizontal ray
                }
                let lo = (((y0.min(y1) - min_lat) / band_h).floor() as isize)
                    .clamp(0, NBANDS as isize - 1);
                let hi = (((y0.max(y1) - min_lat) / band_h).floor() as isize)
                    .clamp(0, NBANDS as isize - 1);
                for b in lo..=hi {
                    bands[b as usize].push([x0, y0, x1, y1]);
                }
            }
        }
        Ok(Self {
            min_lon,
            min_lat,
            max_lon,
            max_lat,
            band_h,
            bands,
        })
    }

    /// Reads a GeoJSON FeatureCollection / Feature / geometry holding Polygons or MultiPolygons.
    pub fn from_geojson_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).context(format!("reading {}", path.display()))?;
        let v: serde_json::Value =
            serde_json::from_str(&text).context(format!("parsing {}", path.display()))?;
        let mut rings = Vec::new();
        collect_rings(&v, &mut rings)?;
        Self::from_rings(&rings)
    }

    /// Even-odd crossing test over the edges of the point's band.
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        if lon < self.min_lon || lon > self.max_lon || lat < self.min_lat || lat > self.max_lat {
            return false;
        }
        let b = (((lat - self.min_lat) / self.band_h) as usize).min(self.bands.len() - 1);
        let mut inside = false;
        for &[x0, y0, x1, y1] in &self.bands[b] {
            if (y0 > lat) != (y1 > lat) {
                let x = x0 + (lat - y0) * (x1 - x0) / (y1 - y0);
                if x > lon {
                    inside = !inside;
                }
            }
        }
        inside
    }
}

fn ring_of(v: &serde_json::Value) -> Result<Vec<[f64; 2]>> {
    let arr = v.as_array().context("ring is not an array")?;
    arr.iter()
        .map(|p| {
            let p = p.as_array().context("position is not an array")?;
            match (
                p.first().and_then(|x| x.as_f64()),
                p.get(1).and_then(|x| x.as_f64()),
            ) {
                (Some(x), Some(y)) => Ok([x, y]),
                _ => Err("bad position".to_string()),
            }
        })
        .collect()
}

fn collect_rings(v: &serde_json::Value, out: &mut Vec<Vec<[f64; 2]>>) -> Result<()> {
    match v.get("type").and_then(|t| t.as_str()) {
        Some("FeatureCollection") => {
            for f in v["features"]
                .as_array()
                .context("features is not an array")?
            {
                collect_rings(f, out)?;
            }
        }
        Some("Feature") => collect_rings(&v["geometry"], out)?,
        Some("Polygon") => {
            for r in v["coordinates"].as_array().context("bad Polygon")? {
                out.push(ring_of(r)?);
            }
        }
        Some("MultiPolygon") => {
            for poly in v["coordinates"].as_array().context("bad MultiPolygon")? {
                for r in poly.as_array().context("bad MultiPolygon part")? {
                    out.push(ring_of(r)?);
                }
            }
        }
        other => bail!("unsupported GeoJSON type {other:?}"),
    }
    Ok(())
}

#[derive(Clone, Debug)]
pub struct Category {
    pub code: String,
    pub name_pl: String,
    pub line: bool,
    pub area: bool,
}

/// Reads the city pack's categories.csv.
pub fn read_categories(path: &Path) -> Result<Vec<Category>> {
    let mut rdr = csv::Reader::from_path(path).context(format!("opening {}", path.display()))?;
    let headers = rdr.headers().context("reading header")?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .context(format!("categories.csv has no column {name}"))
    };
    let (c_code, c_name, c_kinds) = (col("code")?, col("name_pl")?, col("geometry_kinds")?);
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.context("reading categories.csv")?;
        let kinds = rec.get(c_kinds).unwrap_or("point");
        let has = |k: &str| kinds.split([' ', ';', '|']).any(|x| x == k);
        out.push(Category {
            code: rec.get(c_code).unwrap_or_default().to_string(),
            name_pl: clean(rec.get(c_name).unwrap_or_default()),
            line: has("line"),
            area: has("area") || has("polygon"),
        });
    }
    if out.is_empty() {
        bail!("{} holds no categories", path.display());
    }
    Ok(out)
}

/// Text safe for PostgreSQL's COPY text format.
pub fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c == '\t' || c == '\n' || c == '\r' || c == '\\' {
                ' '
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn square_with_hole() {
        let outer = vec![
            [0.0, 0.0],
            [10.0, 0.0],
            [10.0, 10.0],
            [0.0, 10.0],
            [0.0, 0.0],
        ];
        let hole = vec![[4.0, 4.0], [6.0, 4.0], [6.0, 6.0], [4.0, 6.0], [4.0, 4.0]];
        let r = Region::from_rings(&[outer, hole]).unwrap();
        assert!(r.contains(1.0, 1.0));
        assert!(r.contains(9.5, 5.0));
        assert!(!r.contains(5.0, 5.0));
        assert!(!r.contains(11.0, 5.0));
        assert!(!r.contains(-0.5, 5.0));
    }
}
