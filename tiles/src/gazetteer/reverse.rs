//! Reverse lookup: what to call a point on the map. The nearest address if one is close enough
//! to be the place meant, else the street the point is on or near, else its district.
use rstar::PointDistance;

use super::Gazetteer;

/// The name of a place on the map, most precise first.
#[derive(Clone, Debug, PartialEq)]
pub enum Reverse {
    /// An address point within [`super::Options::reverse_address_m`].
    Address {
        /// "Floriańska 12".
        label: String,
        street: String,
        number: String,
        postcode: Option<String>,
        official: bool,
        /// The address point.
        lon: f64,
        lat: f64,
        distance_m: f64,
        district: Option<String>,
    },
    /// No address close by, a named street within [`super::Options::reverse_street_m`].
    NearStreet {
        street: String,
        /// The nearest point of the street.
        lon: f64,
        lat: f64,
        distance_m: f64,
        district: Option<String>,
    },
    /// No street close by: the district that contains the point.
    District {
        id: i32,
        name: String,
    },
    Nothing,
}

impl Reverse {
    /// The words to show: "Floriańska 12", "Floriańska" (the caller says "near"), a district's
    /// name.
    pub fn label(&self) -> Option<&str> {
        match self {
            Reverse::Address { label, .. } => Some(label),
            Reverse::NearStreet { street, .. } => Some(street),
            Reverse::District { name, .. } => Some(name),
            Reverse::Nothing => None,
        }
    }
}

impl Gazetteer {
    /// What to call the point `lon`, `lat`.
    pub fn reverse(&self, lon: f64, lat: f64) -> Reverse {
        let p = self.local(lon, lat);
        let near_address = self
            .address_tree
            .nearest_neighbor(&p)
            .map(|a| (a.data, a.distance_2(&p).sqrt()))
            .filter(|&(_, d)| d <= self.reverse_address_m);
        if let Some((i, distance_m)) = near_address {
            let a = &self.addresses[i as usize];
            let street = self.street_name(a.street).to_string();
            let number = self.number_of(a).to_string();
            return Reverse::Address {
                label: format!("{street} {number}"),
                street,
                number,
                postcode: self.postcode_of(a).map(str::to_string),
                official: a.official,
                lon: a.lon,
                lat: a.lat,
                distance_m,
                district: self.district_name_at(lon, lat),
            };
        }
        if let Some((street, at, distance_m)) = self.nearest_segment(p, self.reverse_street_m) {
            let c = self.proj.unproject(geo::Coord { x: at[0], y: at[1] });
            return Reverse::NearStreet {
                street: self.street_name(street).to_string(),
                lon: c.x,
                lat: c.y,
                distance_m,
                district: self.district_name_at(lon, lat),
            };
        }
        match self.district_at(lon, lat) {
            Some(d) => Reverse::District {
                id: d.id,
                name: d.name.clone(),
            },
            None => Reverse::Nothing,
        }
    }

    /// The named street whose line passes nearest `lon`, `lat`, within `max_m`, with the
    /// distance: the rule that gives basemap house numbers their street.
    pub fn nearest_street(&self, lon: f64, lat: f64, max_m: f64) -> Option<(&str, f64)> {
        self.nearest_segment(self.local(lon, lat), max_m)
            .map(|(s, _, d)| (self.street_name(s), d))
    }

    /// (street, nearest point in local metres, distance) of the nearest segment within `max_m`.
    fn nearest_segment(&self, p: [f64; 2], max_m: f64) -> Option<(u32, [f64; 2], f64)> {
        let seg = self.segment_tree.nearest_neighbor(&p)?;
        let d = seg.distance_2(&p).sqrt();
        (d <= max_m).then(|| (seg.data, seg.geom().nearest_point(&p), d))
    }
}
