//! Domain types that parse instead of validate: once a value of these types exists, it is valid.
//! The rules of the workflow and of access are pure functions here, tested without a database.
//! Nothing in this module knows about HTTP or SQL.
pub mod access;
pub mod address;
pub mod calendar;
pub mod credentials;
pub mod deadline_stats;
pub mod delivery;
pub mod error;
pub mod geometry;
pub mod limits;
pub mod messages;
pub mod moderation;
pub mod names;
pub mod net;
pub mod new_report;
pub mod open311_form;
pub mod people;
pub mod photo;
pub mod query;
pub mod webpush;
pub mod workflow;

pub use access::{AccessError, Caller, StaffUser};
pub use address::Address;
pub use error::{Invalid, InvalidKind};
pub use geometry::ReportGeometry;
pub use names::Names;
pub use new_report::{Channel, Contact, NewReport};
pub use people::{Email, Lang, Role};
pub use workflow::{Workflow, WorkflowError};
