#!/usr/bin/env bash
# Regenerates .sqlx/, the offline data of the SQL statements that are checked at compile time
# (sqlx's query! macros), so that builds need no database. Run it after changing a statement in
# src/storage/ or adding a migration, and commit .sqlx/ with the change; scripts/test.sh fails
# while .sqlx/ is out of date.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

ensure_rust
ensure_postgres
ensure_postgis
ensure_sqlx_database

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
say "checking the SQL statements against $SQLX_DB"
sqlx_generate "$tmp"
rm -rf "$ROOT/.sqlx"
mkdir "$ROOT/.sqlx"
cp "$tmp"/*.json "$ROOT/.sqlx/"
say "wrote $(ls "$ROOT/.sqlx" | wc -l) statements to .sqlx/"
