//! The city's vocabulary and geography in memory: categories, statuses, units, districts,
//! boundary and routing rules, as loaded at start-up. Read-only while the service runs.
use std::sync::Arc;

use geo::{BoundingRect, MultiPolygon};
use serde_json::{json, Value};
use zglos_tiles::districts::{Boundary, District, DistrictIndex};
use zglos_tiles::gazetteer::Gazetteer;
use zglos_tiles::routing::{Router, Rule};
use zglos_tiles::tile::{CategoryStyle, Vocabulary};
use zglos_tiles::LocalMetres;

use crate::city::MapSettings;
use crate::domain::calendar::{Calendar, Deadlines, Target};
use crate::domain::{Invalid, Names};
use crate::domain::{ReportGeometry, Workflow};

#[derive(Clone, Debug)]
pub struct Category {
    pub code: String,
    pub name_pl: String,
    pub name_en: String,
    /// The names in every language the pack gives (`name_pl` and `name_en` among them).
    pub names: Names,
    pub group: String,
    pub geometry_kinds: Vec<String>,
    pub dedup_radius_m: f64,
    pub dedup_window_days: i32,
    pub color: String,
    pub icon: String,
    /// The pack gives an SVG icon (served as `/icons/{code}.svg`).
    pub has_icon: bool,
}

impl Category {
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "code": self.code, "name_pl": self.name_pl, "name_en": self.name_en, "group": self.group,
            "geometry_kinds": self.geometry_kinds, "dedup_radius_m": self.dedup_radius_m,
            "dedup_window_days": self.dedup_window_days, "color": self.color, "icon": self.icon,
            "names": self.names,
        });
        for (lang, name) in self.names.iter() {
            v[format!("name_{lang}")] = json!(name);
        }
        v
    }

    pub fn dedup_rule(&self) -> zglos_tiles::dedup::DedupRule {
        zglos_tiles::dedup::DedupRule {
            radius_m: self.dedup_radius_m,
            window_secs: self.dedup_window_days as i64 * 86_400,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Status {
    pub code: String,
    pub name_pl: String,
    pub name_en: String,
    pub names: Names,
    pub is_open: bool,
}

#[derive(Clone, Debug)]
pub struct Unit {
    pub code: String,
    pub name: String,
    pub handles: String,
    pub contact: String,
    /// How its reports reach it (the Zgłoś inbox, mail, its Open311 endpoint, a webhook).
    pub delivery: crate::domain::delivery::Delivery,
}

#[derive(Clone, Debug)]
pub struct CityInfo {
    pub slug: String,
    pub name: String,
    pub attribution: String,
    pub near_border_m: f64,
    pub map: MapSettings,
    /// Working days, for deadlines.
    pub calendar: Calendar,
    pub escalation: crate::domain::calendar::EscalationSettings,
}

/// Where a report goes.
#[derive(Clone, Debug, PartialEq)]
pub struct Placement {
    pub district_id: Option<i32>,
    pub near_border: bool,
    pub unit_code: Option<String>,
    pub rule_id: Option<String>,
    /// Where it is in words, when the city has a gazetteer.
    pub address: Option<crate::domain::Address>,
}

pub struct Catalogue {
    pub city: CityInfo,
    pub categories: Vec<Category>,
    pub statuses: Vec<Status>,
    pub units: Vec<Unit>,
    pub districts: DistrictIndex,
    pub boundary: Boundary,
    pub router: Router,
    pub proj: LocalMetres,
    pub vocabulary: Vocabulary,
    /// The statuses' moves and roles.
    pub workflow: Workflow,
    pub targets: Vec<(String, Option<String>, Target)>,
    /// Address search and reverse lookup; None for a city without a gazetteer.
    pub gazetteer: Option<Arc<Gazetteer>>,
}

/// What a city's catalogue is built from, as loaded from the database.
pub struct CatalogueData {
    pub city: CityInfo,
    pub boundary: MultiPolygon<f64>,
    pub categories: Vec<Category>,
    pub statuses: Vec<Status>,
    pub units: Vec<Unit>,
    pub districts: Vec<District>,
    pub rules: Vec<Rule>,
    pub workflow: Workflow,
    /// Response and fix targets: (category, unit or None for all, target).
    pub targets: Vec<(String, Option<String>, Target)>,
    /// The gazetteer's stored rows (see `crate::addresses`); empty for a city without one.
    pub gazetteer: Vec<crate::addresses::GazetteerRow>,
}

impl Catalogue {
    pub fn new(data: CatalogueData) -> Self {
        let CatalogueData {
            city,
            boundary,
            categories,
            statuses,
            units,
            districts,
            rules,
            workflow,
            targets,
            gazetteer,
        } = data;
        let bbox = boundary.bounding_rect();
        let centre = bbox.map(|r| r.center()).unwrap_or_default();
        let proj = LocalMetres::around(centre.x, centre.y);
        let vocabulary = Vocabulary {
            categories: categories
                .iter()
                .map(|c| CategoryStyle {
                    code: c.code.clone(),
                    color: c.color.clone(),
                })
                .collect(),
            statuses: statuses.iter().map(|s| s.code.clone()).collect(),
        };
        let boundary = Boundary::new(boundary);
        let gazetteer =
            crate::addresses::build(gazetteer, districts.clone(), &city.name).map(Arc::new);
        Self {
            city,
            categories,
            statuses,
            units,
            districts: DistrictIndex::new(districts, proj),
            boundary,
            router: Router::new(rules),
            proj,
            vocabulary,
            workflow,
            targets,
            gazetteer,
        }
    }

    /// The target for a category's reports routed to `unit`: the unit's own, else the
    /// category's; None when the city set none.
    pub fn target(&self, category: &str, unit: Option<&str>) -> Option<Target> {
        let find = |u: Option<&str>| {
            self.targets
                .iter()
                .find(|(c, tu, _)| c == category && tu.as_deref() == u)
                .map(|(_, _, t)| *t)
        };
        unit.and_then(|u| find(Some(u))).or_else(|| find(None))
    }

    /// The deadlines of a report of `category` routed to `unit`, filed at `filed`.
    pub fn deadlines(
        &self,
        category: &str,
        unit: Option<&str>,
        filed: chrono::DateTime<chrono::Utc>,
    ) -> Option<Deadlines> {
        self.target(category, unit)
            .map(|t| Deadlines::from_target(&self.city.calendar, filed, t))
    }

    pub fn category(&self, code: &str) -> Option<(u16, &Category)> {
        self.categories
            .iter()
            .enumerate()
            .find(|(_, c)| c.code == code)
            .map(|(i, c)| (i as u16, c))
    }

    /// The category of a submission, or a 422 listing the ones the city has.
    pub fn require_category(&self, code: &str, field: &str) -> Result<(u16, &Category), Invalid> {
        self.category(code).ok_or_else(|| {
            let known: Vec<&str> = self.categories.iter().map(|c| c.code.as_str()).collect();
            Invalid::unacceptable(
                "unknown_category",
                format!(
                    "unknown category {code:?}; the city has: {}",
                    known.join(", ")
                ),
            )
            .at(field)
        })
    }

    pub fn status(&self, code: &str) -> Option<(u8, &Status)> {
        self.statuses
            .iter()
            .enumerate()
            .find(|(_, s)| s.code == code)
            .map(|(i, s)| (i as u8, s))
    }

    pub fn open_statuses(&self) -> Vec<String> {
        self.statuses
            .iter()
            .filter(|s| s.is_open)
            .map(|s| s.code.clone())
            .collect()
    }

    pub fn unit(&self, code: &str) -> Option<&Unit> {
        self.units.iter().find(|u| u.code == code)
    }

    /// [west, south, east, north] of the city.
    pub fn bbox(&self) -> [f64; 4] {
        let r = self.boundary.bbox();
        [r.min().x, r.min().y, r.max().x, r.max().y]
    }

    /// Checks that a report can be accepted and decides where it goes: inside the city, a shape
    /// its category allows, its district (and whether it sits on a border), its unit and rule.
    pub fn place(
        &self,
        category: &Category,
        geometry: &ReportGeometry,
    ) -> Result<Placement, Invalid> {
        if !category.geometry_kinds.iter().any(|k| k == geometry.kind()) {
            return Err(Invalid::unacceptable(
                "geometry_not_allowed",
                format!(
                    "category {} takes {}; got a {}",
                    category.code,
                    category.geometry_kinds.join(" or "),
                    geometry.kind()
                ),
            )
            .at("geometry.type"));
        }
        let anchor = geometry.anchor();
        if !self.boundary.contains(anchor) {
            let swapped = geo::Point::new(anchor.y(), anchor.x());
            let hint = if self.boundary.contains(swapped) {
                " The coordinates look swapped: GeoJSON positions are [longitude, latitude]."
            } else {
                ""
            };
            return Err(Invalid::unacceptable(
                "outside_city",
                format!(
                    "the location ({:.5}, {:.5}) is outside {}.{hint}",
                    anchor.x(),
                    anchor.y(),
                    self.city.name
                ),
            )
            .at("geometry.coordinates"));
        }
        let hit = self.districts.locate(anchor);
        let near_border = hit.is_some_and(|h| {
            h.border_distance_m <= self.city.near_border_m
                && self
                    .districts
                    .other_within(anchor, h.index, self.city.near_border_m)
        });
        let rule = self.router.route(&category.code, anchor);
        Ok(Placement {
            district_id: hit.map(|h| h.id),
            near_border,
            unit_code: rule.map(|r| r.unit.clone()),
            rule_id: rule.map(|r| r.id.clone()),
            address: self.address_at(anchor, hit.map(|h| h.id)),
        })
    }

    /// The address of a point: the gazetteer's answer (an address point within 50 m, else the
    /// nearest named street: street set, number None), else the name of the district `district`
    /// holding it (street and number None).
    pub fn address_at(
        &self,
        p: geo::Point<f64>,
        district: Option<i32>,
    ) -> Option<crate::domain::Address> {
        use zglos_tiles::gazetteer::Reverse;
        let found = self.gazetteer.as_ref().map(|g| g.reverse(p.x(), p.y()));
        match found {
            Some(Reverse::Address {
                label,
                street,
                number,
                ..
            }) => Some(crate::domain::Address {
                street: Some(street),
                number: Some(number),
                label,
            }),
            Some(Reverse::NearStreet { street, .. }) => Some(crate::domain::Address {
                label: street.clone(),
                street: Some(street),
                number: None,
            }),
            _ => district
                .and_then(|id| self.districts.districts().iter().find(|d| d.id == id))
                .map(|d| crate::domain::Address {
                    street: None,
                    number: None,
                    label: d.name.clone(),
                }),
        }
    }

    pub fn city_json(&self) -> Value {
        let [w, s, e, n] = self.bbox();
        let centre = self
            .city
            .map
            .center
            .unwrap_or([(w + e) / 2.0, (s + n) / 2.0]);
        json!({
            "city": {"slug": self.city.slug, "name": self.city.name, "attribution": self.city.attribution},
            "map": {
                "center": centre,
                "zoom": self.city.map.zoom.unwrap_or(11.0),
                "bbox": [w, s, e, n],
                "basemap_style_url": self.city.map.basemap_style_url,
            },
            "languages": ["pl", "en"],
        })
    }
}
