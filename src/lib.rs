//! Zgłoś: residents report problems on a map; the city routes them to the unit that can fix them
//! and tells the reporter what was done.
//!
//! The spatial core lives in the `zglos-tiles` crate; this crate is the service around it:
//! configuration, storage (PostGIS) and the HTTP surface.
pub mod addresses;
pub mod app;
pub mod auth;
pub mod basemap;
pub mod catalogue;
pub mod city;
pub mod commands;
pub mod config;
pub mod cql;
pub mod delivery;
pub mod domain;
pub mod engine;
pub mod export;
pub mod http;
pub mod icons;
pub mod mail;
pub mod startup;
pub mod storage;

#[cfg(test)]
mod architecture_tests;
