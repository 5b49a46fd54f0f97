//! The gazetteer: find a place from the words a resident types, and name the place under a map
//! pin, without a geocoding service.
//!
//! A report is easier to file and to act on when it carries an address: residents type
//! "florianska 12" or "ul. Floriańskiej" into the search box, and staff want to read "Floriańska
//! 12" rather than coordinates. Everything here is built in memory at import from the city's
//! basemap (OpenMapTiles-schema vector tiles), the public-transport stops, the districts and,
//! when the city has them, its official address points.
//!
//! # Building
//!
//! 1. [`BasemapReader`] reads tiles of one zoom (z14): named street lines, house-number points,
//!    named points of interest and areas, and [`BasemapReader::finish`] merges them across tiles
//!    into a [`Basemap`] (a street name far from another street of the same name, beyond
//!    [`Options::split_distance_m`], stays a street of its own).
//! 2. [`Gazetteer::build`] takes the basemap with the stops, districts and official address
//!    points ([`Inputs`]). Basemap house numbers carry no street: each gets the street whose line
//!    passes nearest, if one does within [`Options::street_radius_m`] (150 m). Numbers farther
//!    from any named street are **dropped** and counted in [`BuildStats::numbers_without_street`]
//!    (an address without a street can be neither searched for nor read out). An official
//!    point replaces the derived point of the same street and number, and hides any derived
//!    point with its number within [`Options::official_shadow_m`] (the derived street is a
//!    guess, the official one is not).
//!
//! # Forward search ([`Gazetteer::search`])
//!
//! Names and queries are folded the same way (lowercase, no diacritics, split at spaces and
//! hyphens: [`text`]). The index holds one *entry* per street, point of interest, stop and
//! district, each a short list of word ids into a sorted vocabulary of distinct words, and an
//! inverted list from word to entries. Addresses are not entries: a query with a number finds
//! the street first and then the number among that street's addresses (a contiguous, sorted
//! slice), so tens of thousands of addresses cost the word index nothing.
//!
//! For each query word the vocabulary gives candidate words with a quality: the word itself
//! (1.0) or a declined form's nominative ("floriańskiej" → "floriańska", 0.96); as a prefix when
//! it is the last word being typed or was written as an abbreviation ("Floria", "św."); within
//! one typo for 4–7 letters, two from 8 (a scan of the vocabulary that rejects almost
//! every word on length and a 32-bit letter set before computing an edit distance, `fuzzy.rs`). Street-type
//! words (ul., al., os., pl., rondo and their long and declined forms) are optional in the
//! query and do not count in a name. The word with the fewest postings drives: only its entries
//! are scored, each by the mean quality of its best match for every query word, the share of
//! the entry's own words the query covers, and a small prior by kind and size (streets with many
//! addresses, named areas and districts first). Every query word must match.
//!
//! A number in the query ("12", "12a", "12/3", before or after the street) is first matched
//! against numbers in names ("Aleja 29 Listopada", "Fort 44"); otherwise it is the house number:
//! the exact number, else the building without the flat or letter ("12/3" → "12", "12A" →
//! "12"), else the nearest number of the street, each with a [`Note`], and the street itself.
//!
//! # Reverse lookup ([`Gazetteer::reverse`])
//!
//! Three R-trees in local metres: address points (nearest within 50 m), street segments
//! (nearest within 500 m: "near Floriańska"), and the districts (the one that contains the
//! point).
mod basemap;
mod build;
mod csv;
mod fuzzy;
mod reverse;
mod search;
pub mod text;

#[cfg(test)]
mod tests;

use geo::Contains;
use rstar::primitives::{GeomWithData, Line};
use rstar::RTree;

use crate::districts::{District, DistrictIndex};
use crate::geometry::LocalMetres;

pub use basemap::{
    basemap_tiles, Basemap, BasemapReader, BasemapStats, NumberPoint, Place, StreetLines, LAYERS,
};
pub use build::BuildStats;
pub use csv::{parse_official_csv, parse_stops_csv, CsvError};
pub use reverse::Reverse;
pub use search::{Hit, Note, SearchOptions};

/// What an entry or a hit is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Street,
    Address,
    Poi,
    Stop,
    District,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Street => "street",
            Kind::Address => "address",
            Kind::Poi => "poi",
            Kind::Stop => "stop",
            Kind::District => "district",
        }
    }
}

/// An address point from the city's register (parsed by the caller, or by
/// [`parse_official_csv`]).
#[derive(Clone, Debug, PartialEq)]
pub struct OfficialAddress {
    pub street: String,
    pub number: String,
    pub lon: f64,
    pub lat: f64,
    pub postcode: Option<String>,
}

/// A public-transport stop (one platform or the whole stop; platforms of one name close
/// together become one entry).
#[derive(Clone, Debug, PartialEq)]
pub struct Stop {
    pub name: String,
    pub lon: f64,
    pub lat: f64,
}

/// Distances and words that shape the index.
#[derive(Clone, Debug)]
pub struct Options {
    /// A house number gets the nearest named street within this distance, or is dropped.
    pub street_radius_m: f64,
    /// Points of the same number closer than this are one point (tiles repeat their edges).
    pub dedup_radius_m: f64,
    /// Lines of one name farther apart than this are different streets.
    pub split_distance_m: f64,
    /// An official address joins a basemap street of its name within this distance; otherwise
    /// it makes a street of its own.
    pub official_match_m: f64,
    /// A derived point with an official point of its number this close is dropped.
    pub official_shadow_m: f64,
    /// Stops of one name within this distance are one stop.
    pub stop_merge_m: f64,
    /// Reverse lookup: the nearest address within this distance...
    pub reverse_address_m: f64,
    /// ... else the nearest street within this distance, else the district.
    pub reverse_street_m: f64,
    /// Words a query may carry that name no place, such as the city's own name ("Kraków").
    pub ignored_words: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            street_radius_m: 150.0,
            dedup_radius_m: 1.0,
            split_distance_m: 1000.0,
            official_match_m: 1000.0,
            official_shadow_m: 10.0,
            stop_merge_m: 300.0,
            reverse_address_m: 50.0,
            reverse_street_m: 500.0,
            ignored_words: Vec::new(),
        }
    }
}

/// Everything the index is built from.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    pub basemap: Basemap,
    pub stops: Vec<Stop>,
    pub districts: Vec<District>,
    pub official: Vec<OfficialAddress>,
}

/// One searchable name: a street, a point of interest, a stop or a district.
#[derive(Debug)]
struct Entry {
    kind: Kind,
    name: Box<str>,
    lon: f64,
    lat: f64,
    tok_start: u32,
    tok_len: u16,
    /// The street (streets), the district (districts) or the category (points of interest
    /// and stops) this entry stands for.
    target: u32,
    prior: f32,
}

#[derive(Debug)]
struct Street {
    entry: u32,
    /// This street's addresses: `addresses[addr_start..addr_start + addr_len]`, sorted by
    /// number.
    addr_start: u32,
    addr_len: u32,
    /// West, south, east, north.
    bbox: [f64; 4],
}

#[derive(Debug)]
struct Address {
    street: u32,
    /// The number as shown, in [`Gazetteer::numbers`].
    num_start: u32,
    num_len: u16,
    official: bool,
    /// Index into [`Gazetteer::postcodes`], `u32::MAX` for none.
    postcode: u32,
    lon: f64,
    lat: f64,
}

const NONE: u32 = u32::MAX;

type SegmentItem = GeomWithData<Line<[f64; 2]>, u32>;
type PointItem = GeomWithData<[f64; 2], u32>;

/// The built index: forward search and reverse lookup, read-only and `Sync`.
pub struct Gazetteer {
    entries: Vec<Entry>,
    /// Word ids of each entry's name, in order.
    entry_tokens: Vec<u32>,
    vocab: fuzzy::Vocabulary,
    /// The type word each vocabulary word is a form of.
    word_types: Vec<Option<text::TypeWord>>,
    /// Entries of word `w`: `postings[post_start[w]..post_start[w + 1]]`.
    post_start: Vec<u32>,
    postings: Vec<u32>,
    streets: Vec<Street>,
    addresses: Vec<Address>,
    /// House numbers as shown, back to back.
    numbers: String,
    postcodes: Vec<Box<str>>,
    categories: Vec<Box<str>>,
    address_tree: RTree<PointItem>,
    segment_tree: RTree<SegmentItem>,
    districts: DistrictIndex,
    proj: LocalMetres,
    ignored: Vec<String>,
    reverse_address_m: f64,
    reverse_street_m: f64,
    stats: BuildStats,
}

impl Gazetteer {
    /// Counts of what went into the index.
    pub fn stats(&self) -> &BuildStats {
        &self.stats
    }

    /// Addresses in the index (derived and official).
    pub fn address_count(&self) -> usize {
        self.addresses.len()
    }

    /// Streets in the index (a name in two far-apart places counts twice).
    pub fn street_count(&self) -> usize {
        self.streets.len()
    }

    fn street_name(&self, street: u32) -> &str {
        &self.entries[self.streets[street as usize].entry as usize].name
    }

    fn number_of(&self, a: &Address) -> &str {
        &self.numbers[a.num_start as usize..a.num_start as usize + a.num_len as usize]
    }

    fn postcode_of(&self, a: &Address) -> Option<&str> {
        (a.postcode != NONE).then(|| &*self.postcodes[a.postcode as usize])
    }

    fn street_addresses(&self, street: u32) -> &[Address] {
        let s = &self.streets[street as usize];
        &self.addresses[s.addr_start as usize..(s.addr_start + s.addr_len) as usize]
    }

    /// The district that contains `lon`, `lat` (the first loaded where districts overlap, as
    /// [`DistrictIndex::locate`] decides). Only the point-in-polygon test: `locate` also measures
    /// the distance to the district's border, a scan of its whole boundary that a name does not
    /// need and that cost several times the test itself.
    fn district_at(&self, lon: f64, lat: f64) -> Option<&District> {
        let p = geo::Point::new(lon, lat);
        let all = self.districts.districts();
        self.districts
            .in_bbox([lon, lat], [lon, lat])
            .filter(|d| d.geometry.contains(&p))
            .min_by_key(|d| all.iter().position(|x| std::ptr::eq(x, *d)))
    }

    fn district_name_at(&self, lon: f64, lat: f64) -> Option<String> {
        self.district_at(lon, lat).map(|d| d.name.clone())
    }

    fn local(&self, lon: f64, lat: f64) -> [f64; 2] {
        let c = self.proj.project(geo::Coord { x: lon, y: lat });
        [c.x, c.y]
    }
}

impl std::fmt::Debug for Gazetteer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gazetteer")
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}
