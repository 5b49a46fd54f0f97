#!/usr/bin/env bash
# Sets everything up (PostgreSQL + PostGIS, the web front end, the build, Kraków's data) and
# starts Zgłoś on http://127.0.0.1:8080. Safe to run again.
#
#   ZGLOS_DB      database name (default zglos)
#   ZGLOS_CITY    city data pack (default cities/krakow)
#   ZGLOS_LISTEN  address (default 127.0.0.1:8080)
#   extra arguments are passed to `zglos setup` (e.g. --districts /path/to/districts.geojson)
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
# The build checks the SQL statements against .sqlx/, not against a database.
export SQLX_OFFLINE=true

DB="${ZGLOS_DB:-zglos}"
CITY="${ZGLOS_CITY:-cities/krakow}"
export DATABASE_URL="${DATABASE_URL:-postgres://$PGUSER@$PGHOST:$PGPORT/$DB}"
export ZGLOS_LISTEN="${ZGLOS_LISTEN:-127.0.0.1:8080}"

ensure_rust
ensure_postgres
ensure_postgis
ensure_database "$DB"
ensure_node
ensure_fonts
npm_install "$ROOT/web"

say "building zglos (release)"
cargo build --release --quiet --bin zglos

say "migrating and loading $CITY (its basemap into var/)"
./target/release/zglos setup --city "$CITY" "$@"

say "serving on http://$ZGLOS_LISTEN (Ctrl-C stops)"
exec ./target/release/zglos serve
