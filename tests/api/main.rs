//! End-to-end tests of the service on a real PostGIS, one binary: every test gets its own fresh
//! database and its own service on a free port (see `common`).
mod basemap;
mod check;
mod common;
mod deadlines;
mod dedup;
mod deliveries;
mod exports;
mod fix_confirmation;
mod geocode;
mod hardening;
mod hostile;
mod icons;
mod languages;
mod moderation;
mod ogc;
mod open311;
mod openapi;
mod photos;
mod privacy;
mod push;
mod reports_api;
mod retention;
mod routing;
mod staff;
mod tiles;
mod unit_systems;
