#!/usr/bin/env bash
# Contract fuzzing with schemathesis: a real `zglos serve` on a scratch database (Kraków loaded,
# a few reports, a staff admin) is driven from its own /openapi.json. Public operations run
# anonymously and staff operations with a logged-in session (cookie + X-CSRF-Token). Checks:
# no 5xx (not_a_server_error), every response matches the document (response_schema_conformance,
# content_type_conformance) and has a documented status (status_code_conformance).
#   scripts/contract.sh
#   CONTRACT_EXAMPLES=50 CONTRACT_MAX_TIME=600 scripts/contract.sh
# CONTRACT_EXAMPLES (default 8) cases per operation, CONTRACT_MAX_TIME (default 80) seconds in
# all. The examples phase is left out: schemathesis 4.32 fails on its own while drawing from the
# examples of POST /api/v1/reports (a KeyError inside its generator). ZGLOS_SERVE_ARGS adds arguments to `zglos serve` (e.g. to raise write rate limits).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
export SQLX_OFFLINE=true
ensure_postgres
ensure_postgis
ensure_schemathesis

EXAMPLES="${CONTRACT_EXAMPLES:-8}"
MAX_TIME="${CONTRACT_MAX_TIME:-80}"
read -r -a SERVE_ARGS <<< "${ZGLOS_SERVE_ARGS:-}"
BIN="${ZGLOS_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/zglos}"
[ -x "$BIN" ] || { say "building zglos"; cargo build --locked --bin zglos; }

DB="zglos_contract_$$"
DB_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$DB"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
work="$(mktemp -d)"
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  psql_admin -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

say "scratch database $DB with Kraków"
psql_admin -c "CREATE DATABASE \"$DB\""
"$BIN" setup --database-url "$DB_URL" --city cities/krakow >"$work/setup.log" 2>&1 || { cat "$work/setup.log" >&2; die "zglos setup failed"; }
ZGLOS_PASSWORD="contract-test-password" "$BIN" user add --database-url "$DB_URL" \
  --login contract-admin --name "Contract Admin" --roles admin >/dev/null

"$BIN" serve --database-url "$DB_URL" --listen "127.0.0.1:$PORT" --web-dir web "${SERVE_ARGS[@]}" >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 90); do curl -fsS "$BASE/readyz" >/dev/null 2>&1 && break; sleep 1; done
curl -fsS "$BASE/readyz" >/dev/null || { cat "$work/serve.log" >&2; die "zglos serve did not start"; }

# A few reports so that ids in paths can exist.
for i in 1 2 3; do
  curl -fsS -o /dev/null -H 'Content-Type: application/json' "$BASE/api/v1/reports" \
    -d "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[19.93$i,50.06$i]},\"properties\":{\"category\":\"pothole\",\"description\":\"Hole $i\"}}"
done

login="$(curl -fsS -D "$work/headers" -H 'Content-Type: application/json' "$BASE/api/v1/staff/login" \
  -d '{"login":"contract-admin","password":"contract-test-password"}')"
cookie="$(grep -i '^set-cookie:' "$work/headers" | head -n1 | sed -E 's/^[Ss]et-[Cc]ookie: *([^;]*).*/\1/' | tr -d '\r')"
csrf="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["csrf_token"])' "$login")"
[ -n "$cookie" ] && [ -n "$csrf" ] || die "staff login failed"

say "schemathesis: $EXAMPLES examples per operation, at most ${MAX_TIME}s"
status=0
# Run from the scratch folder: schemathesis keeps a cache in the current directory.
(cd "$work" && timeout "$((MAX_TIME + 60))" "$SCHEMATHESIS" run "$BASE/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples "$EXAMPLES" --max-time "$MAX_TIME" --workers 2 --seed 1 \
  --phases coverage,fuzzing,stateful \
  --request-timeout 20 --no-shrink \
  --exclude-path /api/v1/staff/logout \
  -H "Cookie: $cookie" -H "X-CSRF-Token: $csrf" \
  --report junit --report-dir "$work/report" \
  --warnings off) || status=$?
if grep -qE 'panicked|status=5[0-9][0-9]' "$work/serve.log"; then
  grep -E 'panicked|status=5[0-9][0-9]' "$work/serve.log" | head -n 20 >&2
  status=1
fi
[ "$status" -eq 0 ] || die "schemathesis found responses outside the contract (see above)"
