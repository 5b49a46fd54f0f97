//! Domain types that parse instead of validate: once a value of these types exists, it is valid.
pub mod geometry;
pub mod new_report;
pub mod photo;
pub mod query;

pub use geometry::ReportGeometry;
pub use new_report::{Channel, Contact, NewReport};
