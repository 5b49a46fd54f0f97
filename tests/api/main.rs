//! End-to-end tests of the service on a real PostGIS, one binary: every test gets its own fresh
//! database and its own service on a free port (see `common`).
mod common;
mod dedup;
mod exports;
mod ogc;
mod open311;
mod openapi;
mod photos;
mod reports_api;
mod routing;
mod staff;
mod tiles;
