//! A city's data pack: a folder with `city.json`, `categories.csv`, `units.csv` and
//! `routing.csv`, pointing at GeoJSON files for the districts and the city boundary, and
//! optionally an `icons/` folder of category SVGs (`icon_file` in categories.csv). A second
//! city is a second folder, not a code change.
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use geo::{MultiPolygon, Polygon};
use serde::Deserialize;

use crate::domain::calendar::{CalendarSettings, EscalationSettings, Target};
use crate::domain::Names;

#[derive(Debug, Deserialize)]
pub struct CityFile {
    pub slug: String,
    pub name: String,
    pub districts: DistrictSource,
    pub boundary: Option<FileRef>,
    pub attribution: String,
    #[serde(default = "default_near_border")]
    pub near_border_m: f64,
    #[serde(default)]
    pub map: MapSettings,
    /// How long personal data is kept (see [`RetentionSettings`]); optional.
    #[serde(default)]
    pub retention: RetentionSettings,
    /// Where address search and reverse lookup come from; optional.
    pub gazetteer: Option<GazetteerSource>,
    /// The city's own basemap; optional (without it the map shows districts and reports, or
    /// `map.basemap_style_url`).
    pub basemap: Option<BasemapSource>,
    /// Working days: whose public holidays, the local time zone, the city's own days off.
    #[serde(default)]
    pub calendar: CalendarSettings,
    /// When late reports are escalated and the weekly digest day.
    #[serde(default)]
    pub escalation: EscalationSettings,
}

/// A row of the optional `targets.csv`: for a category, and optionally only for one unit's
/// reports of it, the response and fix targets in working days.
#[derive(Debug, Clone, Deserialize)]
pub struct TargetRow {
    pub category: String,
    #[serde(default)]
    pub unit: Option<String>,
    pub response_days: u32,
    pub fix_days: u32,
}

/// `"basemap"` in city.json: a folder of vector tiles `{z}/{x}/{y}.pbf` (uncompressed or gzip,
/// with an optional TileJSON-like `metadata.json`) and a MapLibre style for them. `zglos setup`
/// writes the tiles into one PMTiles file the service serves (see `crate::basemap`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasemapSource {
    pub tiles: PathBuf,
    /// The style, with `/tiles/basemap.json` as its source and `/fonts/{fontstack}/{range}.pbf`
    /// as its glyphs: paths on the service's own origin.
    pub style: PathBuf,
    /// Shown on the map beside the city's attribution.
    #[serde(default = "default_basemap_attribution")]
    pub attribution: String,
}

fn default_basemap_attribution() -> String {
    "© OpenStreetMap contributors".into()
}

/// `"gazetteer"` in city.json: the basemap's vector tiles (OpenMapTiles schema) whose street
/// names, house numbers and places are read at import, and optionally the city's official
/// address register (a CSV of `street,number,lon,lat[,postcode]`), whose points win over
/// derived ones.
#[derive(Debug, Clone, Deserialize)]
pub struct GazetteerSource {
    /// A folder of `{z}/{x}/{y}.pbf` tiles.
    pub basemap_tiles: Option<PathBuf>,
    /// The zoom to read (default 14, where OpenMapTiles has every name and number).
    pub zoom: Option<u8>,
    pub addresses: Option<PathBuf>,
}

/// `"retention"` in city.json: months after a report closed (resolved, rejected, closed,
/// duplicate, or rejected by moderation) when the reporter's contact is erased (default 12),
/// and when its photos' full-size images are dropped, keeping the 320 px thumbnail (default:
/// never).
#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RetentionSettings {
    #[serde(default = "default_contact_months")]
    pub contact_months: u32,
    #[serde(default)]
    pub drop_photo_originals_months: Option<u32>,
}

fn default_contact_months() -> u32 {
    12
}

impl Default for RetentionSettings {
    fn default() -> Self {
        Self {
            contact_months: default_contact_months(),
            drop_photo_originals_months: None,
        }
    }
}

fn default_near_border() -> f64 {
    10.0
}

#[derive(Debug, Deserialize)]
pub struct DistrictSource {
    pub file: PathBuf,
    pub id_property: String,
    pub code_property: String,
    pub name_property: String,
    pub full_name_property: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct FileRef {
    pub file: PathBuf,
}

#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
pub struct MapSettings {
    pub center: Option<[f64; 2]>,
    pub zoom: Option<f64>,
    pub basemap_style_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CategoryRow {
    pub code: String,
    pub name_pl: String,
    pub name_en: String,
    pub group_code: String,
    /// Space-separated subset of `point line area`.
    pub geometry_kinds: String,
    pub dedup_radius_m: f64,
    pub dedup_window_days: i32,
    pub color: String,
    pub icon: String,
    /// The category's SVG pictogram, relative to the pack (optional: without it the `icon`
    /// text stands in).
    #[serde(default)]
    pub icon_file: Option<PathBuf>,
    pub sort_order: i32,
    /// Every `name_xx` column (see [`read_named_csv`]).
    #[serde(skip)]
    pub names: Names,
}

/// A row of the optional `statuses.csv`: the name of each of the service's statuses in the
/// city's languages (`code,name_pl,name_en,name_uk,…`). The statuses themselves and their
/// workflow are the service's; a pack only names them.
#[derive(Debug, Clone, Deserialize)]
pub struct StatusRow {
    pub code: String,
    pub name_pl: String,
    pub name_en: String,
    #[serde(skip)]
    pub names: Names,
}

/// A CSV row that has names in any number of languages.
trait Named {
    fn set_names(&mut self, names: Names);
}

impl Named for CategoryRow {
    fn set_names(&mut self, names: Names) {
        self.names = names;
    }
}

impl Named for StatusRow {
    fn set_names(&mut self, names: Names) {
        self.names = names;
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct UnitRow {
    pub code: String,
    pub name: String,
    pub handles: String,
    pub contact: String,
    pub sources: String,
    /// The delivery channel (inbox, email, open311, webhook; empty or absent: inbox), its
    /// address or URL, its secret (`env:NAME` reads the environment variable NAME at import, so
    /// the secret needs not be in the pack) and, for open311, `CATEGORY=SERVICE` pairs.
    #[serde(default)]
    pub delivery: String,
    #[serde(default)]
    pub delivery_to: String,
    #[serde(default)]
    pub delivery_secret: String,
    #[serde(default)]
    pub delivery_services: String,
    /// The channel, read from the four columns above at load.
    #[serde(skip)]
    pub channel: crate::domain::delivery::Delivery,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RuleRow {
    pub id: String,
    pub category: Option<String>,
    /// Space-separated district ids whose union is the rule's area.
    pub districts: Option<String>,
    /// A GeoJSON file (relative to the pack) with the rule's area.
    pub area_file: Option<PathBuf>,
    pub unit_code: String,
    pub priority: i32,
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub struct DistrictData {
    pub id: i32,
    pub code: String,
    pub name: String,
    pub full_name: String,
    pub geometry: MultiPolygon<f64>,
}

#[derive(Debug, Clone)]
pub struct RuleData {
    pub row: RuleRow,
    pub area_name: Option<String>,
    pub area: Option<MultiPolygon<f64>>,
}

/// Everything a city loads, read and checked.
#[derive(Debug)]
pub struct CityPack {
    pub slug: String,
    pub name: String,
    pub attribution: String,
    pub near_border_m: f64,
    pub map: MapSettings,
    pub retention: RetentionSettings,
    pub districts: Vec<DistrictData>,
    pub boundary: MultiPolygon<f64>,
    pub categories: Vec<CategoryRow>,
    /// The statuses' names from `statuses.csv` (empty without one: the built-in names stay).
    pub statuses: Vec<StatusRow>,
    pub calendar: CalendarSettings,
    pub escalation: EscalationSettings,
    /// (category, unit or None for all its units, target) from `targets.csv`.
    pub targets: Vec<(String, Option<String>, Target)>,
    pub units: Vec<UnitRow>,
    pub rules: Vec<RuleData>,
    /// The gazetteer's rows as the import writes them (empty without a `"gazetteer"`).
    pub gazetteer: Vec<crate::addresses::GazetteerRow>,
    /// The basemap's files, paths resolved against the pack.
    pub basemap: Option<BasemapSource>,
    /// The categories' SVG icons as (code, SVG), each checked (see `crate::icons`).
    pub icons: Vec<(String, String)>,
}

/// Overrides for where the geometry comes from.
#[derive(Debug, Default, Clone)]
pub struct GeometryFiles {
    pub districts: Option<PathBuf>,
    pub boundary: Option<PathBuf>,
}

fn read_csv<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    reader
        .deserialize()
        .enumerate()
        .map(|(i, row)| row.with_context(|| format!("{}: row {}", path.display(), i + 2)))
        .collect()
}

/// Reads a CSV whose `name_xx` columns (`name_pl`, `name_en`, `name_uk`, any language a city
/// writes in) become the row's [`Names`].
fn read_named_csv<T: for<'de> Deserialize<'de> + Named>(path: &Path) -> Result<Vec<T>> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let headers = reader.headers()?.clone();
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let at = || format!("{}: row {}", path.display(), i + 2);
        let record = record.with_context(at)?;
        let mut row: T = record.deserialize(Some(&headers)).with_context(at)?;
        let names = Names::parse(
            headers
                .iter()
                .zip(record.iter())
                .filter_map(|(h, v)| h.strip_prefix("name_").map(|lang| (lang, v))),
        )
        .map_err(|e| anyhow!("{}: {}", at(), e.message))?;
        row.set_names(names);
        rows.push(row);
    }
    Ok(rows)
}

fn read_geojson(path: &Path) -> Result<geojson::GeoJson> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.parse::<geojson::GeoJson>()
        .with_context(|| format!("{} is not GeoJSON", path.display()))
}

fn to_multipolygon(g: &geojson::Geometry, what: &str) -> Result<MultiPolygon<f64>> {
    let g: geo::Geometry<f64> = g.clone().try_into().map_err(|e| anyhow!("{what}: {e}"))?;
    match g {
        geo::Geometry::Polygon(p) => Ok(MultiPolygon(vec![p])),
        geo::Geometry::MultiPolygon(mp) => Ok(mp),
        other => bail!("{what}: expected a Polygon or MultiPolygon, got {other:?}"),
    }
}

/// Every polygon of a GeoJSON file, as one area.
fn read_area(path: &Path) -> Result<MultiPolygon<f64>> {
    let mut polygons: Vec<Polygon<f64>> = Vec::new();
    for g in features(read_geojson(path)?)
        .iter()
        .filter_map(|f| f.geometry.as_ref())
    {
        polygons.extend(to_multipolygon(g, &path.display().to_string())?.0);
    }
    Ok(MultiPolygon(polygons))
}

fn features(gj: geojson::GeoJson) -> Vec<geojson::Feature> {
    match gj {
        geojson::GeoJson::FeatureCollection(fc) => fc.features,
        geojson::GeoJson::Feature(f) => vec![f],
        geojson::GeoJson::Geometry(g) => vec![geojson::Feature {
            geometry: Some(g),
            ..Default::default()
        }],
    }
}

fn prop_string(f: &geojson::Feature, key: &str) -> Option<String> {
    match f.property(key)? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn resolve(dir: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        dir.join(p)
    }
}

impl CityPack {
    pub fn load(dir: &Path, files: &GeometryFiles) -> Result<Self> {
        let city_path = dir.join("city.json");
        let city: CityFile = serde_json::from_str(
            &std::fs::read_to_string(&city_path)
                .with_context(|| format!("cannot read {}", city_path.display()))?,
        )
        .with_context(|| format!("{} is not a valid city file", city_path.display()))?;

        let districts_path = files
            .districts
            .clone()
            .unwrap_or_else(|| resolve(dir, &city.districts.file));
        if !districts_path.exists() {
            bail!(
                "district file {} not found; pass --districts /path/to/districts.geojson (a GeoJSON FeatureCollection of the city's district polygons)",
                districts_path.display()
            );
        }
        let src = &city.districts;
        let mut districts = Vec::new();
        for (i, f) in features(read_geojson(&districts_path)?)
            .into_iter()
            .enumerate()
        {
            let what = format!("{} feature {i}", districts_path.display());
            let id: i32 = prop_string(&f, &src.id_property)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| {
                    anyhow!(
                        "{what}: property {:?} must be an integer id",
                        src.id_property
                    )
                })?;
            let code = prop_string(&f, &src.code_property).unwrap_or_else(|| id.to_string());
            let name = prop_string(&f, &src.name_property)
                .ok_or_else(|| anyhow!("{what}: no {:?}", src.name_property))?;
            let full_name = src
                .full_name_property
                .as_deref()
                .and_then(|k| prop_string(&f, k))
                .unwrap_or_else(|| name.clone());
            let geometry = to_multipolygon(
                f.geometry
                    .as_ref()
                    .ok_or_else(|| anyhow!("{what}: no geometry"))?,
                &what,
            )?;
            districts.push(DistrictData {
                id,
                code,
                name,
                full_name,
                geometry,
            });
        }
        if districts.is_empty() {
            bail!("{} holds no districts", districts_path.display());
        }

        let boundary_path = files
            .boundary
            .clone()
            .or_else(|| city.boundary.as_ref().map(|b| resolve(dir, &b.file)));
        let boundary = match boundary_path {
            Some(p) if p.exists() => read_area(&p)?,
            Some(p) => bail!(
                "boundary file {} not found; pass --boundary /path/to/boundary.geojson",
                p.display()
            ),
            // Without a boundary file, the city is the union of its districts.
            None => MultiPolygon(
                districts
                    .iter()
                    .flat_map(|d| d.geometry.0.clone())
                    .collect(),
            ),
        };

        let categories: Vec<CategoryRow> = read_named_csv(&dir.join("categories.csv"))?;
        let statuses_file = dir.join("statuses.csv");
        let statuses: Vec<StatusRow> = if statuses_file.exists() {
            read_named_csv(&statuses_file)?
        } else {
            Vec::new()
        };
        for c in &categories {
            for kind in c.geometry_kinds.split_whitespace() {
                if !["point", "line", "area"].contains(&kind) {
                    bail!("categories.csv: {}: geometry kind {kind:?} is not one of point, line, area", c.code);
                }
            }
        }
        let mut icons = Vec::new();
        for c in &categories {
            if let Some(file) = &c.icon_file {
                if !c
                    .code
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
                {
                    bail!("categories.csv: {}: a category with an icon_file needs a code of letters, digits, '_' and '-'", c.code);
                }
                let svg = crate::icons::read(&resolve(dir, file))
                    .with_context(|| format!("categories.csv: {}: icon_file", c.code))?;
                icons.push((c.code.clone(), svg));
            }
        }
        let mut units: Vec<UnitRow> = read_csv(&dir.join("units.csv"))?;
        for (i, u) in units.iter_mut().enumerate() {
            let secret = match u.delivery_secret.trim().strip_prefix("env:") {
                Some(name) => std::env::var(name).with_context(|| {
                    format!(
                        "units.csv: row {} ({}): delivery_secret: the environment variable {name} is not set",
                        i + 2,
                        u.code
                    )
                })?,
                None => u.delivery_secret.clone(),
            };
            u.channel = crate::domain::delivery::Delivery::parse(
                &u.delivery,
                &u.delivery_to,
                &secret,
                &u.delivery_services,
            )
            .map_err(|(column, message)| {
                anyhow::anyhow!("units.csv: row {} ({}): {column}: {message}", i + 2, u.code)
            })?;
        }
        let targets_file = dir.join("targets.csv");
        let mut targets = Vec::new();
        if targets_file.exists() {
            for (i, row) in read_csv::<TargetRow>(&targets_file)?
                .into_iter()
                .enumerate()
            {
                let at = format!("targets.csv: row {}", i + 2);
                if !categories.iter().any(|c| c.code == row.category) {
                    bail!("{at}: unknown category {:?}", row.category);
                }
                let unit = row.unit.filter(|u| !u.trim().is_empty());
                if let Some(u) = &unit {
                    if !units.iter().any(|k| &k.code == u) {
                        bail!("{at}: unknown unit {u:?}");
                    }
                }
                if targets
                    .iter()
                    .any(|(c, u, _): &(String, Option<String>, Target)| {
                        *c == row.category && *u == unit
                    })
                {
                    bail!(
                        "{at}: a second target for {} {}",
                        row.category,
                        unit.as_deref().unwrap_or("(all units)")
                    );
                }
                let target = Target::parse(row.response_days, row.fix_days)
                    .map_err(|e| anyhow!("{at}: {}", e.message))?;
                targets.push((row.category, unit, target));
            }
        }
        let mut rules = Vec::new();
        for row in read_csv::<RuleRow>(&dir.join("routing.csv"))? {
            if !units.iter().any(|u| u.code == row.unit_code) {
                bail!(
                    "routing.csv: rule {}: unknown unit {}",
                    row.id,
                    row.unit_code
                );
            }
            if let Some(c) = row.category.as_deref().filter(|c| !c.is_empty()) {
                if !categories.iter().any(|k| k.code == c) {
                    bail!("routing.csv: rule {}: unknown category {c}", row.id);
                }
            }
            let ids: Vec<i32> = row
                .districts
                .as_deref()
                .unwrap_or("")
                .split_whitespace()
                .map(|s| {
                    s.parse().map_err(|_| {
                        anyhow!(
                            "routing.csv: rule {}: district id {s:?} is not a number",
                            row.id
                        )
                    })
                })
                .collect::<Result<_>>()?;
            let (area_name, area) =
                if let Some(file) = row.area_file.as_ref().filter(|f| !f.as_os_str().is_empty()) {
                    (
                        Some(file.display().to_string()),
                        Some(read_area(&resolve(dir, file))?),
                    )
                } else if !ids.is_empty() {
                    let mut polys = Vec::new();
                    let mut names = Vec::new();
                    for id in &ids {
                        let d = districts.iter().find(|d| d.id == *id).ok_or_else(|| {
                            anyhow!("routing.csv: rule {}: no district {id}", row.id)
                        })?;
                        polys.extend(d.geometry.0.iter().cloned());
                        names.push(d.name.clone());
                    }
                    (Some(names.join(", ")), Some(MultiPolygon(polys)))
                } else {
                    (None, None)
                };
            let row = RuleRow {
                category: row.category.filter(|c| !c.is_empty()),
                ..row
            };
            rules.push(RuleData {
                row,
                area_name,
                area,
            });
        }
        let gazetteer = match &city.gazetteer {
            None => Vec::new(),
            Some(g) => {
                let basemap = match &g.basemap_tiles {
                    Some(d) => crate::addresses::read_basemap(
                        &resolve(dir, d),
                        g.zoom.unwrap_or(crate::addresses::DEFAULT_ZOOM),
                    )?,
                    None => Default::default(),
                };
                let official = match &g.addresses {
                    Some(f) => crate::addresses::read_official(&resolve(dir, f))?,
                    None => Vec::new(),
                };
                crate::addresses::rows(&basemap, &official)
            }
        };
        Ok(Self {
            slug: city.slug,
            name: city.name,
            attribution: city.attribution,
            near_border_m: city.near_border_m,
            map: city.map,
            retention: city.retention,
            districts,
            boundary,
            categories,
            statuses,
            calendar: city.calendar,
            escalation: city.escalation,
            targets,
            units,
            rules,
            gazetteer,
            basemap: city.basemap.map(|b| BasemapSource {
                tiles: resolve(dir, &b.tiles),
                style: resolve(dir, &b.style),
                attribution: b.attribution,
            }),
            icons,
        })
    }
}
