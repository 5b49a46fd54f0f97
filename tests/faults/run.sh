#!/usr/bin/env bash
# The fault suite: a throwaway PostgreSQL cluster, `zglos setup` and `zglos serve` on loopback,
# a steady load of report submissions (tests/faults/load.py), and faults in turn:
#   1. outage   PostgreSQL stopped (-m immediate) for OUTAGE_SECONDS and started again
#   2. sigkill  the service killed with SIGKILL mid-load and started again
#   3. sigterm  SIGTERM under load: in-flight requests answered, exit 0 within the bound
#   4. smtp     the SMTP listener stopped while mail is queued (status changes through the staff
#               API), started again: every queued message delivered exactly once (by Message-ID)
# After each fault `zglos check` compares the service's memory with PostGIS, and verify.py
# checks that every answered submission is stored exactly once.
#
#   tests/faults/run.sh                  the full run
#   FAULTS_SHORT=1 tests/faults/run.sh   the short form CI runs (about two minutes)
#   ZGLOS_FAULTS_SERVE_ARGS="--flag value"  extra arguments for `zglos serve`
#   ZGLOS_BIN=path/to/zglos              another binary (default: the debug build, built if missing)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
export SQLX_OFFLINE=true
SHORT="${FAULTS_SHORT:-0}"
RATE="${FAULTS_RATE:-20}"
OUTAGE_SECONDS="${FAULTS_OUTAGE_SECONDS:-10}"
if [ "$SHORT" = 1 ]; then LOAD=20; SMTP_DOWN=12; MAILS=10; else LOAD=60; SMTP_DOWN=60; MAILS=40; fi
TARGET="${CARGO_TARGET_DIR:-target}"
BIN="${ZGLOS_BIN:-$TARGET/debug/zglos}"
PGBIN="$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)"
[ -x "$PGBIN/initdb" ] || PGBIN=/usr/lib/postgresql/15/bin
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

[ -x "$BIN" ] || { say "building zglos"; cargo build --quiet --bin zglos; }
WORK="$(mktemp -d /tmp/zglos-faults.XXXXXX)"
if [ "$(id -u)" -eq 0 ]; then
  chown postgres "$WORK"
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PGPORT_F="$(free_port)"
APORT="$(free_port)"
SMTP_PORT="$(free_port)"
SINK_PID=""
URL="http://127.0.0.1:$APORT"
export DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT_F/zglos"
SERVE_PID=""
LOAD_PID=""
cleanup() {
  [ -n "$LOAD_PID" ] && kill "$LOAD_PID" 2>/dev/null || true
  [ -n "$SERVE_PID" ] && kill -9 "$SERVE_PID" 2>/dev/null || true
  [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null || true
  as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" stop -m immediate >/dev/null 2>&1 || true
  if [ "${FAULTS_KEEP:-0}" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

pg_start() { as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg.log" -w -t 30 start >/dev/null; }
pg_stop() { as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -m immediate -w stop >/dev/null; }
psql_f() { psql -X -q -tA -h 127.0.0.1 -p "$PGPORT_F" -U postgres "$@"; }

say "throwaway PostgreSQL cluster on port $PGPORT_F ($WORK/pg)"
as_pg "$PGBIN/initdb" -D "$WORK/pg" -U postgres --auth=trust -E UTF8 >/dev/null
cat >>"$WORK/pg/postgresql.conf" <<CONF
port = $PGPORT_F
listen_addresses = '127.0.0.1'
unix_socket_directories = '$WORK'
fsync = on
CONF
pg_start
psql_f -d postgres -c 'CREATE DATABASE zglos'
psql_f -d zglos -c 'CREATE EXTENSION postgis'
say "zglos setup (Kraków)"
"$BIN" setup --city cities/krakow >"$WORK/setup.log" 2>&1 || { cat "$WORK/setup.log"; exit 1; }

# The load comes from one address and one contact, so the anonymous-write limits are lifted:
# they are not what this suite tests (tests/api/hardening.rs does), and a 429 would hide a loss.
LIFTED_LIMITS="--write-burst 1000000 --write-per-hour 1000000000 --contact-per-hour 1000000"
# shellcheck disable=SC2086
serve() {
  "$BIN" serve --listen "127.0.0.1:$APORT" --sync-seconds 2 --web-dir web --smtp-url "smtp://127.0.0.1:$SMTP_PORT" $LIFTED_LIMITS ${ZGLOS_FAULTS_SERVE_ARGS:-} >>"$WORK/serve.log" 2>&1 &
  SERVE_PID=$!
  for _ in $(seq 1 300); do
    curl -fs "$URL/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$SERVE_PID" 2>/dev/null || { tail -20 "$WORK/serve.log"; exit 1; }
    sleep 0.2
  done
  echo "the service did not become ready" >&2; exit 1
}
check() {
  say "zglos check after $1"
  "$BIN" check --url "$URL" --settle-seconds 20 | tee -a "$WORK/figures.txt"
}
rows() { psql_f -d zglos -c "SELECT description || '|' || count(*) FROM reports WHERE description LIKE '$1-%' GROUP BY description" >"$WORK/$1.rows"; }
verify() { python3 tests/faults/verify.py "$WORK/$1.log" "$WORK/$1.rows" "$@" | tee -a "$WORK/figures.txt"; }
load() { python3 tests/faults/load.py --url "$URL" --rate "$RATE" --duration "$2" --retry-window 40 --prefix "$1" --out "$WORK/$1.log" & LOAD_PID=$!; }
FAILED=0
sink_start() { python3 tests/faults/smtp_sink.py "$SMTP_PORT" "$WORK/received.txt" & SINK_PID=$!; sleep 0.5; }
sink_start

serve
say "1. outage: PostgreSQL away for $OUTAGE_SECONDS s under $RATE submissions/s"
load outage "$LOAD"
sleep 4
pg_stop
sleep 1
ready_during="$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "$URL/readyz")"
sleep $((OUTAGE_SECONDS - 1))
pg_start
wait "$LOAD_PID"; LOAD_PID=""
echo "outage: /readyz during the outage answered $ready_during s" | tee -a "$WORK/figures.txt"
[ "${ready_during%% *}" = 503 ] || { echo "  FAIL /readyz did not report the outage"; FAILED=1; }
rows outage
verify outage || FAILED=1
check "the outage" || FAILED=1

say "2. sigkill: the service killed mid-load and started again"
load sigkill "$((LOAD / 2))"
sleep 4
kill -9 "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true
serve
wait "$LOAD_PID"; LOAD_PID=""
rows sigkill
verify sigkill || FAILED=1
check "SIGKILL" || FAILED=1

say "3. sigterm: graceful shutdown under load"
load sigterm "$((LOAD / 2))"
sleep 3
# A slow request in flight: its body arrives 3 s after the shutdown began.
python3 tests/faults/slow_request.py "$URL" 4 >"$WORK/slow.status" &
SLOW_PID=$!
sleep 1
term_at=$(date +%s.%N)
kill -TERM "$SERVE_PID"
rc=0; wait "$SERVE_PID" || rc=$?
took=$(python3 -c "import time; print(f'{time.time() - $term_at:.2f}')")
refused="$(curl -s -o /dev/null -w '%{http_code}' "$URL/readyz" || true)"
wait "$SLOW_PID" || true
echo "sigterm: exit code $rc after $took s; a slow request in flight answered $(cat "$WORK/slow.status"); a new connection after exit got '$refused' (000 = refused)" | tee -a "$WORK/figures.txt"
[ "$rc" = 0 ] || { echo "  FAIL exit code $rc"; FAILED=1; }
[ "$(cat "$WORK/slow.status")" = 201 ] || { echo "  FAIL the request in flight was not answered"; FAILED=1; }
[ "$refused" = 000 ] || { echo "  FAIL a new connection was accepted after exit"; FAILED=1; }
python3 -c "import sys; sys.exit(0 if $took < 30 else 1)" || { echo "  FAIL shutdown took $took s"; FAILED=1; }
serve
wait "$LOAD_PID"; LOAD_PID=""
rows sigterm
verify sigterm || FAILED=1
resets="$(grep -c '"status": "error"' "$WORK/sigterm.log" || true)"
echo "sigterm: $resets attempts reset or timed out" | tee -a "$WORK/figures.txt"
[ "$resets" = 0 ] || { echo "  FAIL requests sent before the shutdown were reset"; FAILED=1; }
check "SIGTERM" || FAILED=1

say "4. smtp: the mail listener away for $SMTP_DOWN s while $MAILS messages are queued"
ZGLOS_PASSWORD="faults password 1" "$BIN" user add --login faults@example.org --name Faults --roles admin >/dev/null
kill "$SINK_PID"; wait "$SINK_PID" 2>/dev/null || true; SINK_PID=""
smtp_down_at=$(date +%s)
python3 tests/faults/mail_load.py "$URL" "$MAILS" faults@example.org "faults password 1"
sleep $((SMTP_DOWN - ($(date +%s) - smtp_down_at)))
sink_start
pending=1
for _ in $(seq 1 120); do
  pending="$(psql_f -d zglos -c 'SELECT count(*) FROM outbox WHERE sent_at IS NULL')"
  [ "$pending" = 0 ] && break
  sleep 2
done
waited=$(( $(date +%s) - smtp_down_at - SMTP_DOWN ))
psql_f -d zglos -c "SELECT '<outbox.' || id || '@zglos.invalid>' FROM outbox ORDER BY id" >"$WORK/queued.txt"
queued=$(wc -l <"$WORK/queued.txt")
received=$(wc -l <"$WORK/received.txt" 2>/dev/null || echo 0)
dups=$(sort "$WORK/received.txt" | uniq -d | wc -l)
missing=$(sort "$WORK/queued.txt" | comm -23 - <(sort -u "$WORK/received.txt") | wc -l)
echo "smtp: queued $queued, received $received, missing $missing, delivered twice $dups, still pending $pending, all delivered ${waited} s after the listener returned" | tee -a "$WORK/figures.txt"
[ "$missing" = 0 ] && [ "$dups" = 0 ] && [ "$pending" = 0 ] && [ "$queued" -ge "$MAILS" ] || { echo "  FAIL mail lost or delivered twice"; FAILED=1; }

say "figures"
cat "$WORK/figures.txt"
if [ "$FAILED" != 0 ]; then
  cp "$WORK/serve.log" "$TARGET/faults-serve.log" 2>/dev/null || true
  echo "FAULTS FAILED (service log in $TARGET/faults-serve.log)" >&2
  exit 1
fi
say "faults: all passed"
