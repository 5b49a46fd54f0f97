//! The city's gazetteer between the data pack, the database and the spatial core.
//!
//! At import, the basemap's vector tiles (one zoom) are read by the core's `BasemapReader` into
//! street lines, house-number points and named places; with the city's official address points
//! (a CSV named in `city.json`) they are written to the `gazetteer` table as they are, before
//! numbers are given streets. At start-up the rows are read back and the core builds the index
//! from them with the districts ([`build`]): giving each number its street is part of building,
//! so a change of the rules needs no new import. Storing the inputs rather than the built index
//! keeps the table readable in SQL (and in QGIS) and the index format private to the core.
use std::path::Path;

use anyhow::{Context, Result};
use zglos_tiles::districts::District;
use zglos_tiles::gazetteer::{
    basemap_tiles, parse_official_csv, Basemap, BasemapReader, Gazetteer, Inputs, Kind,
    NumberPoint, OfficialAddress, Options, Place, StreetLines,
};

/// One entry as stored. Streets carry their lines (a GeoJSON MultiLineString), everything else
/// a point.
#[derive(Debug, Clone, PartialEq)]
pub struct GazetteerRow {
    pub kind: String,
    pub name: String,
    pub number: Option<String>,
    pub postcode: Option<String>,
    /// A street's class rank ("1" to "3"), a place's class ("pharmacy", "tram_stop").
    pub category: Option<String>,
    pub source: String,
    /// GeoJSON of the geometry (7 decimals: ~1 cm).
    pub geometry: String,
}

/// The zoom whose tiles carry every street name and house number (OpenMapTiles: 14).
pub const DEFAULT_ZOOM: u8 = 14;

/// Reads the basemap tiles of `zoom` under `dir` (`{z}/{x}/{y}.pbf`, uncompressed or gzip).
pub fn read_basemap(dir: &Path, zoom: u8) -> Result<Basemap> {
    let tiles = basemap_tiles(dir, zoom)
        .with_context(|| format!("cannot list the basemap tiles under {}", dir.display()))?;
    anyhow::ensure!(
        !tiles.is_empty(),
        "no basemap tiles of zoom {zoom} under {}",
        dir.display()
    );
    let mut reader = BasemapReader::new();
    for (id, path) in tiles {
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let bytes = gunzip_if_needed(bytes)
            .with_context(|| format!("{} is not a readable tile", path.display()))?;
        reader
            .add_tile_bytes(id, &bytes)
            .map_err(|e| anyhow::anyhow!("{}: {e:?}", path.display()))?;
    }
    Ok(reader.finish(&Options::default()))
}

fn gunzip_if_needed(bytes: Vec<u8>) -> std::io::Result<Vec<u8>> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        use std::io::Read;
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..]).read_to_end(&mut out)?;
        Ok(out)
    } else {
        Ok(bytes)
    }
}

/// Reads a city's official address points (`street,number,lon,lat[,postcode]`).
pub fn read_official(path: &Path) -> Result<Vec<OfficialAddress>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse_official_csv(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

fn point(lon: f64, lat: f64) -> String {
    format!(r#"{{"type":"Point","coordinates":[{lon},{lat}]}}"#)
}

fn lines(lines: &[Vec<[f64; 2]>]) -> String {
    let parts: Vec<String> = lines
        .iter()
        .map(|l| {
            let pts: Vec<String> = l.iter().map(|[x, y]| format!("[{x},{y}]")).collect();
            format!("[{}]", pts.join(","))
        })
        .collect();
    format!(
        r#"{{"type":"MultiLineString","coordinates":[{}]}}"#,
        parts.join(",")
    )
}

/// A place of the basemap's `place` layer (a named area) is stored with its class prefixed, so
/// that it reads back as an area.
const AREA_PREFIX: &str = "area:";

/// The rows an import writes: the basemap's streets, numbers and places, then the official
/// points.
pub fn rows(basemap: &Basemap, official: &[OfficialAddress]) -> Vec<GazetteerRow> {
    let mut out = Vec::with_capacity(
        basemap.streets.len() + basemap.numbers.len() + basemap.places.len() + official.len(),
    );
    for s in &basemap.streets {
        out.push(GazetteerRow {
            kind: "street".into(),
            name: s.name.clone(),
            number: None,
            postcode: None,
            category: Some(s.class_rank.to_string()),
            source: "basemap".into(),
            geometry: lines(&s.lines),
        });
    }
    for n in &basemap.numbers {
        out.push(GazetteerRow {
            kind: "address".into(),
            name: String::new(),
            number: Some(n.number.clone()),
            postcode: None,
            category: None,
            source: "basemap".into(),
            geometry: point(n.lon, n.lat),
        });
    }
    for p in &basemap.places {
        out.push(GazetteerRow {
            kind: p.kind.as_str().into(),
            name: p.name.clone(),
            number: None,
            postcode: None,
            category: Some(if p.area {
                format!("{AREA_PREFIX}{}", p.category)
            } else {
                p.category.clone()
            }),
            source: "basemap".into(),
            geometry: point(p.lon, p.lat),
        });
    }
    for a in official {
        out.push(GazetteerRow {
            kind: "address".into(),
            name: a.street.clone(),
            number: Some(a.number.clone()),
            postcode: a.postcode.clone(),
            category: None,
            source: "official".into(),
            geometry: point(a.lon, a.lat),
        });
    }
    out
}

fn read_point(geojson: &str) -> Option<[f64; 2]> {
    let v: serde_json::Value = serde_json::from_str(geojson).ok()?;
    let c = v.get("coordinates")?.as_array()?;
    Some([c.first()?.as_f64()?, c.get(1)?.as_f64()?])
}

fn read_lines(geojson: &str) -> Option<Vec<Vec<[f64; 2]>>> {
    let v: serde_json::Value = serde_json::from_str(geojson).ok()?;
    let lines = v.get("coordinates")?.as_array()?;
    lines
        .iter()
        .map(|l| {
            l.as_array()?
                .iter()
                .map(|p| Some([p.get(0)?.as_f64()?, p.get(1)?.as_f64()?]))
                .collect()
        })
        .collect()
}

/// The core's inputs from stored rows (rows that cannot be read are skipped and counted).
pub fn inputs(rows: Vec<GazetteerRow>, districts: Vec<District>) -> (Inputs, usize) {
    let mut basemap = Basemap::default();
    let mut official = Vec::new();
    let mut skipped = 0;
    for r in rows {
        let ok = match (r.kind.as_str(), r.source.as_str()) {
            ("street", _) => read_lines(&r.geometry).map(|lines| {
                basemap.streets.push(StreetLines {
                    name: r.name,
                    class_rank: r.category.and_then(|c| c.parse().ok()).unwrap_or(2),
                    lines,
                })
            }),
            ("address", "official") => read_point(&r.geometry).and_then(|[lon, lat]| {
                official.push(OfficialAddress {
                    street: r.name,
                    number: r.number?,
                    lon,
                    lat,
                    postcode: r.postcode,
                });
                Some(())
            }),
            ("address", _) => read_point(&r.geometry).and_then(|[lon, lat]| {
                basemap.numbers.push(NumberPoint {
                    number: r.number?,
                    lon,
                    lat,
                });
                Some(())
            }),
            (kind @ ("poi" | "stop"), _) => read_point(&r.geometry).map(|[lon, lat]| {
                let category = r.category.unwrap_or_default();
                let (area, category) = match category.strip_prefix(AREA_PREFIX) {
                    Some(c) => (true, c.to_owned()),
                    None => (false, category),
                };
                basemap.places.push(Place {
                    name: r.name,
                    kind: if kind == "stop" {
                        Kind::Stop
                    } else {
                        Kind::Poi
                    },
                    category,
                    area,
                    lon,
                    lat,
                })
            }),
            _ => None,
        };
        if ok.is_none() {
            skipped += 1;
        }
    }
    (
        Inputs {
            basemap,
            stops: Vec::new(),
            districts,
            official,
        },
        skipped,
    )
}

/// The index from stored rows, or None for a city without a gazetteer.
pub fn build(
    rows: Vec<GazetteerRow>,
    districts: Vec<District>,
    city_name: &str,
) -> Option<Gazetteer> {
    if rows.is_empty() {
        return None;
    }
    let (inputs, skipped) = inputs(rows, districts);
    if skipped > 0 {
        tracing::warn!(
            skipped,
            "gazetteer rows that could not be read were skipped"
        );
    }
    let options = Options {
        ignored_words: vec![city_name.to_owned()],
        ..Options::default()
    };
    Some(Gazetteer::build(inputs, &options))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_rows_read_back_as_the_same_inputs() {
        let basemap = Basemap {
            streets: vec![StreetLines {
                name: "Floriańska".into(),
                class_rank: 2,
                lines: vec![vec![[19.9397, 50.0625], [19.9405, 50.0648]]],
            }],
            numbers: vec![NumberPoint {
                number: "12A".into(),
                lon: 19.94,
                lat: 50.063,
            }],
            places: vec![Place {
                name: "Kleparz".into(),
                kind: Kind::Poi,
                category: "neighbourhood".into(),
                area: true,
                lon: 19.94,
                lat: 50.07,
            }],
            ..Basemap::default()
        };
        let official = vec![OfficialAddress {
            street: "ul. Floriańska".into(),
            number: "3".into(),
            lon: 19.9398,
            lat: 50.0627,
            postcode: Some("31-019".into()),
        }];
        let (back, skipped) = inputs(rows(&basemap, &official), Vec::new());
        assert_eq!(skipped, 0);
        assert_eq!(back.basemap.streets, basemap.streets);
        assert_eq!(back.basemap.numbers, basemap.numbers);
        assert_eq!(back.basemap.places, basemap.places);
        assert_eq!(back.official, official);
    }

    #[test]
    fn a_row_with_a_broken_geometry_is_skipped_not_fatal() {
        let row = GazetteerRow {
            kind: "street".into(),
            name: "X".into(),
            number: None,
            postcode: None,
            category: None,
            source: "basemap".into(),
            geometry: "{}".into(),
        };
        let (i, skipped) = inputs(vec![row], Vec::new());
        assert_eq!((i.basemap.streets.len(), skipped), (0, 1));
    }
}
