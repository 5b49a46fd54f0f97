//! The spatial engine of Zgłoś.
//!
//! Plain Rust over plain geometry types: nothing here knows about HTTP or SQL. The service feeds it
//! rows it read from PostGIS and asks it questions:
//!
//! * [`districts::DistrictIndex`]: which district holds a point, and is it close to a border?
//! * [`routing::Router`]: which unit is responsible for a category at a place (and by which rule)?
//! * [`dedup::DedupIndex`]: is there an open report of the same category nearby (an R-tree per category)?
//! * [`store::ReportStore`]: every report as a compact record sorted along a Z-order curve, so that
//!   the reports of any map tile are one contiguous slice.
//! * [`aggregate`]: heatmap cells of a tile, counted from the store's keys without computing a
//!   coordinate per report.
//! * [`tile`]: vector tiles (MVT 2.1) of reports with server-side clustering, heatmap cells and
//!   district boundaries, clipped to the tile.
//! * [`gazetteer::Gazetteer`]: addresses, streets, stops and places found from what residents
//!   type (forgiving case, diacritics, typos, declension), and the name of a point on the map.
//!
//! * [`pmtiles`]: a tile pyramid in one PMTiles file, written at import and read when serving
//!   the city's basemap; [`glyphs`]: map label glyphs (signed distance fields) from a font file.
//!
//! # Layers
//!
//! Each module uses only modules of the layers below it (and, within the store layer, the store
//! uses the heat index, never the reverse), so the modules import each other without cycles. A
//! test reads these sources and fails on an import that goes up.
//!
//! 1. **Primitives**: [`mercator`] (Web Mercator, tile ids, Z-order keys), [`geometry`] (local
//!    metres, anchors), and [`decode`] (an MVT reader for tests and tools); beside them the basemap's
//!    file formats, [`pmtiles`] and [`glyphs`].
//! 2. **Records and filters**: [`record`] ([`record::ReportRec`], [`record::Kind`], the sorted
//!    merge), then [`filter`] ([`filter::Filter`], which matches records).
//! 3. **Store and heat index**: [`aggregate`] ([`aggregate::HeatIndex`] and heatmap grids, over
//!    records), then [`store`] ([`store::ReportStore`], which owns a heat index and keeps it in
//!    step).
//! 4. **MVT encoding**: [`tile`], which may use everything below it.
//!
//! Beside the records, on the primitives alone: [`dedup`], [`districts`] and [`routing`]. The
//! [`gazetteer`] uses the primitives and [`districts`].
pub mod aggregate;
pub mod decode;
pub mod dedup;
pub mod districts;
pub mod filter;
pub mod gazetteer;
pub mod geometry;
pub mod glyphs;
pub mod mercator;
pub mod pmtiles;
pub mod record;
pub mod routing;
pub mod store;
pub mod tile;

pub use geometry::{anchor_of, LocalMetres};
pub use mercator::TileId;

#[cfg(test)]
mod layers;
