# Shared steps of scripts/start.sh and scripts/test.sh: install what is missing, idempotently.
# Debian packages only; every step says what it does.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PGHOST="${PGHOST:-127.0.0.1}"
PGPORT="${PGPORT:-5432}"
PGUSER="${PGUSER:-postgres}"
export PGHOST PGPORT PGUSER

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi
}

APT_UPDATED=0
apt_install() {
  if [ "$APT_UPDATED" -eq 0 ]; then
    say "apt-get update"
    as_root apt-get update -qq
    APT_UPDATED=1
  fi
  say "installing $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }

ensure_rust() {
  command -v cargo >/dev/null || die "cargo not found: install the Rust toolchain (rustup, Rust 1.89 or newer) first"
}

# PostgreSQL on $PGHOST:$PGPORT, reachable as $PGUSER without a password.
ensure_postgres() {
  if ! command -v pg_isready >/dev/null; then
    apt_install postgresql postgresql-client
  fi
  if ! pg_isready -q -h "$PGHOST" -p "$PGPORT"; then
    say "starting PostgreSQL"
    local version
    version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)"
    [ -n "$version" ] || die "PostgreSQL is installed but has no cluster in /etc/postgresql"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || as_root pg_ctlcluster "$version" main start
    for _ in $(seq 1 30); do pg_isready -q -h "$PGHOST" -p "$PGPORT" && break; sleep 1; done
  fi
  if ! psql_admin -tAc 'SELECT 1' >/dev/null 2>&1; then
    # A fresh Debian cluster asks for a password over TCP; let the local superuser in from loopback.
    local hba
    hba="$(as_root runuser -u postgres -- psql -tAc 'SHOW hba_file')"
    say "allowing $PGUSER from 127.0.0.1 without a password ($hba)"
    as_root sed -i "1i host all $PGUSER 127.0.0.1/32 trust" "$hba"
    as_root runuser -u postgres -- psql -qc 'SELECT pg_reload_conf()'
    psql_admin -tAc 'SELECT 1' >/dev/null || die "cannot connect to PostgreSQL as $PGUSER at $PGHOST:$PGPORT"
  fi
}

# PostGIS for the running server's major version.
ensure_postgis() {
  if [ "$(psql_admin -tAc "SELECT count(*) FROM pg_available_extensions WHERE name = 'postgis'")" = "0" ]; then
    local major
    major="$(psql_admin -tAc 'SHOW server_version_num' | cut -c1-2)"
    apt_install "postgresql-${major}-postgis-3"
  fi
}

# A database with PostGIS enabled (CREATE EXTENSION needs the superuser).
ensure_database() {
  local db="$1"
  if [ "$(psql_admin -tAc "SELECT count(*) FROM pg_database WHERE datname = '$db'")" = "0" ]; then
    say "creating database $db"
    psql_admin -c "CREATE DATABASE \"$db\""
  fi
  psql -X -q -d "$db" -c 'CREATE EXTENSION IF NOT EXISTS postgis'
}

# The database the compile-time checks of the SQL statements (sqlx's query! macros) run against:
# PostGIS and the migrations, nothing else. Rebuilt from migrations/*.sql, each file in one
# transaction as the service's own migrator runs them, whenever the migrations change (their
# digest is kept as the database's comment). psql rather than `zglos migrate`: the binary is
# built with those checks, so it cannot be what creates the schema they need.
SQLX_DB="${SQLX_DB:-zglos_sqlx}"
SQLX_DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$SQLX_DB"
ensure_sqlx_database() {
  local digest current f
  digest="$(cd "$ROOT/migrations" && sha256sum -- *.sql | sha256sum | cut -c1-16)"
  current="$(psql_admin -tAc "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '$SQLX_DB'")"
  [ "$current" = "migrations $digest" ] && return 0
  say "creating $SQLX_DB (the schema the SQL statements are checked against)"
  PGOPTIONS="-c client_min_messages=warning" psql_admin -c "DROP DATABASE IF EXISTS \"$SQLX_DB\" WITH (FORCE)"
  psql_admin -c "CREATE DATABASE \"$SQLX_DB\""
  psql -X -q -v ON_ERROR_STOP=1 -d "$SQLX_DB" -c 'CREATE EXTENSION IF NOT EXISTS postgis'
  for f in "$ROOT"/migrations/*.sql; do
    PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -1 -d "$SQLX_DB" -f "$f" >/dev/null
  done
  psql_admin -c "COMMENT ON DATABASE \"$SQLX_DB\" IS 'migrations $digest'"
}

# Writes the offline data of every checked SQL statement (one JSON file per statement) into the
# empty folder $1, from the statements as they are in the sources and the schema in $SQLX_DB.
# All of them are in the library, so checking it is enough: `cargo rustc --profile check` with a
# fresh --cfg value makes cargo re-run just the library's macros (dependencies stay built, and
# the artifacts of `cargo build`/`cargo test` are not touched).
sqlx_generate() {
  local out="$1"
  SQLX_OFFLINE=false SQLX_OFFLINE_DIR="$out" DATABASE_URL="$SQLX_DATABASE_URL" \
    cargo rustc --quiet --locked --lib --profile check -- \
    --cfg "sqlx_prepare=\"$$-$(date +%s%N)\"" --check-cfg 'cfg(sqlx_prepare, values(any()))'
  [ -n "$(ls -A "$out")" ] || die "no query data was written to $out"
}

ensure_node() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt_install nodejs npm
  fi
}

# npm ci in a folder when its lock file changed since the last install.
npm_install() {
  local dir="$1"
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    say "npm ci in ${dir#"$ROOT"/}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

ensure_chromium() {
  [ -x /usr/bin/chromium ] || apt_install chromium
}

# The font the basemap's labels are drawn with (Latin with Polish letters, Cyrillic).
ensure_fonts() {
  [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || apt_install fonts-dejavu-core
}

# GIS clients the tests drive against the running service: GDAL (ogrinfo/ogr2ogr, and the
# GeoPackage validator validate_gpkg.py of python3-gdal), and OWSLib, georeport,
# openapi-spec-validator (checks /openapi.json) and pmtiles (reads the basemap file) from PyPI in a virtualenv in the build directory (pinned
# versions).
ensure_gis_clients() {
  command -v ogrinfo >/dev/null || apt_install gdal-bin
  dpkg -s python3-gdal >/dev/null 2>&1 || apt_install python3-gdal
  local venv="${CARGO_TARGET_DIR:-$ROOT/target}/gis-clients"
  if ! "$venv/bin/python" -c 'import owslib, georeport, openapi_spec_validator, pmtiles' 2>/dev/null; then
    command -v python3 >/dev/null || apt_install python3
    python3 -m venv "$venv" 2>/dev/null || { apt_install python3-venv; python3 -m venv "$venv"; }
    say "installing OWSLib, georeport, openapi-spec-validator and pmtiles into ${venv#"$ROOT"/}"
    "$venv/bin/python" -m pip install -q owslib==0.35.0 georeport==0.3.1 openapi-spec-validator==0.9.0 pmtiles==3.8.1
  fi
  export ZGLOS_REQUIRE_GIS_CLIENTS=1
}

# cargo-fuzz (libFuzzer driver) for scripts/fuzz.sh; the targets build with the nightly toolchain.
ensure_cargo_fuzz() {
  rustup toolchain list 2>/dev/null | grep -q '^nightly' || { say "installing the nightly toolchain"; rustup toolchain install nightly --profile minimal; }
  if ! cargo fuzz --version >/dev/null 2>&1; then
    say "installing cargo-fuzz"
    cargo install cargo-fuzz --version 0.13.2 --locked
  fi
}

# schemathesis (contract fuzzing from /openapi.json) in a virtualenv in the build directory, pinned.
SCHEMATHESIS_VERSION="${SCHEMATHESIS_VERSION:-4.32.5}"
ensure_schemathesis() {
  local venv="${CARGO_TARGET_DIR:-$ROOT/target}/schemathesis"
  if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    command -v python3 >/dev/null || apt_install python3
    python3 -m venv "$venv" 2>/dev/null || { apt_install python3-venv; python3 -m venv "$venv"; }
    say "installing schemathesis $SCHEMATHESIS_VERSION into ${venv#"$ROOT"/}"
    "$venv/bin/python" -m pip install -q "schemathesis==$SCHEMATHESIS_VERSION"
  fi
  SCHEMATHESIS="$venv/bin/schemathesis"
}
