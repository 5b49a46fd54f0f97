//! Command-line adapters of the `zglos` binary that do more than call one use case: like the
//! HTTP handlers, they turn their arguments into typed values and call the layers below.
pub mod abuse;
pub mod check;
pub mod export;
pub mod retention;
