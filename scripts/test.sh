#!/usr/bin/env bash
# Runs the whole test suite: unit tests of the spatial core, end-to-end HTTP tests on a real
# PostGIS (a fresh database per test), and browser tests in headless Chromium.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
# The SQL statements are checked at compile time against the offline data in .sqlx/: builds
# need no database.
export SQLX_OFFLINE=true

ensure_rust
ensure_postgres
ensure_postgis
ensure_node
ensure_chromium
ensure_gis_clients
npm_install "$ROOT/web"
npm_install "$ROOT/tests/browser"

say "cargo fmt --check and clippy (warnings are errors)"
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings

say "checking that .sqlx/ is current (the SQL statements against the migrations)"
ensure_sqlx_database
sqlx_tmp="$(mktemp -d)"
trap 'rm -rf "$sqlx_tmp"' EXIT
sqlx_generate "$sqlx_tmp"
if ! diff -r "$ROOT/.sqlx" "$sqlx_tmp" >/dev/null 2>&1; then
  diff -rq "$ROOT/.sqlx" "$sqlx_tmp" | sed "s|$sqlx_tmp|(regenerated)|" >&2 || true
  die ".sqlx/ is out of date with the SQL statements or the migrations: run scripts/sqlx-prepare.sh and commit .sqlx/"
fi

say "cargo test (spatial core, HTTP end to end)"
cargo test --workspace --locked

say "browser tests (headless Chromium)"
node --test --test-concurrency=1 tests/browser/
