//! Use cases: what residents, consultants and city staff do, each as one function that opens the
//! transaction, asks the domain's rules, calls storage and keeps the in-memory engine in step.
//! Nothing here knows about HTTP; errors are [`AppError`], which the HTTP edge turns into
//! statuses.
pub mod check;
pub mod deadlines;
pub mod delivery;
pub mod error;
pub mod moderation;
pub mod push;
pub mod reports;
pub mod retention;
pub mod staff;
pub mod sweep;
pub mod sync;

pub use error::{AppError, AppResult};
