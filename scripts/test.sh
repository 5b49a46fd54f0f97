#!/usr/bin/env bash
# Runs the whole test suite: unit tests of the spatial core, end-to-end HTTP tests on a real
# PostGIS (a fresh database per test), and browser tests in headless Chromium.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

ensure_rust
ensure_postgres
ensure_postgis
ensure_node
ensure_chromium
ensure_gis_clients
npm_install "$ROOT/web"
npm_install "$ROOT/tests/browser"

say "cargo test (spatial core, HTTP end to end)"
cargo test --workspace --locked

say "browser tests (headless Chromium)"
node --test --test-concurrency=1 tests/browser/
