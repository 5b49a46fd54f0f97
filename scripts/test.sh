#!/usr/bin/env bash
# Runs the whole test suite: unit tests of the spatial core, end-to-end HTTP tests on a real
# PostGIS (a fresh database per test), and browser tests in headless Chromium.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
# The SQL statements are checked at compile time against the offline data in .sqlx/: builds
# need no database.
export SQLX_OFFLINE=true
# One build directory per machine, outside the work tree (unless CARGO_TARGET_DIR says
# otherwise): every clone on the machine, and a CI run starts from a fresh one, reuses what the
# last run compiled instead of starting from nothing.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/zglos/target}"

ensure_rust
ensure_postgres
ensure_postgis
ensure_node
ensure_chromium
ensure_fonts
ensure_gis_clients
npm_install "$ROOT/web"
npm_install "$ROOT/tests/browser"
# The webhook tests check the service's signatures with openssl, as a receiver would.
command -v openssl >/dev/null || apt_install openssl

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
# The end-to-end tests mostly wait (on PostgreSQL, on timers, on their receivers): four at a
# time keep two cores busy without starving the ones that wait for a deadline.
cargo test --workspace --locked -- --test-threads="${ZGLOS_TEST_THREADS:-4}"

say "fault suite, short form (PostgreSQL outage, SIGKILL, SIGTERM; its own throwaway cluster)"
cargo build --quiet --locked --bin zglos
FAULTS_SHORT=1 tests/faults/run.sh

say "browser tests (headless Chromium)"
node --test --test-concurrency=1 tests/browser/

say "coverage-guided fuzzing of the input parsers, the MVT encoder and the photo decoder (bounded)"
FUZZ_SECONDS="${FUZZ_SECONDS:-10}" "$ROOT/scripts/fuzz.sh"

say "contract fuzzing against /openapi.json (schemathesis, bounded)"
"$ROOT/scripts/contract.sh"
