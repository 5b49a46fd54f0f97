#!/usr/bin/env bash
# Zgłoś heatmap tiles against the same aggregation in PostGIS, on run.sh's database:
#   (a) GET /tiles/heatmap/{z}/{x}/{y}.mvt (staff session) with wrk, z8–z16 and mixed, in three
#       filter variants, from the service's tile cache ("zglos") and with every tile built
#       ("zglos-uncached": each request carries its own far-future `to=`, so no cache hit);
#   (b) the same tiles built by one SQL statement (64 × 64 ST_SnapToGrid cells of the Web-Mercator
#       anchors in ST_TileEnvelope, count + sum(supporters), ST_AsMVT) with pgbench ("postgis");
#   (c) a status change through the staff API, and the next status=open heatmap tile.
# Loopback only; every load step is bounded in time; whatever this script starts is stopped when
# it exits. Raw outputs go to bench/out/heatmap-<timestamp>/ (bench/out/heatmap-latest).
#
#   bench/heatmap.sh                                         # 1,000,000 reports, 10 s per step
#   N=20000 DB=zglos_bench_small DURATION=3 bench/heatmap.sh # quick check
#
# Settings (environment): N, SEED, DB, PGHOST, PGPORT, PGUSER, DURATION (s), CONNECTIONS, THREADS,
# ZGLOS_PORT, URL_COUNT, SCENARIOS ("z8 z10 z12 z14 z16 mixed"), VARIANTS ("all open-cat last30d"),
# SERVERS ("zglos zglos-uncached postgis"), ACCEPT_ENCODING (gzip; empty for identity),
# WRK_TIMEOUT (s), ZGLOS_BIN (measure this binary instead of building the working tree),
# FORCE_LOAD=1 (regenerate and reload even if the database holds N reports of SEED).
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-1000000}
SEED=${SEED:-42}
DB=${DB:-zglos_bench}
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-postgres}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-8}
THREADS=${THREADS:-2}
ZGLOS_PORT=${ZGLOS_PORT:-8788}
URL_COUNT=${URL_COUNT:-20000}
SCENARIOS=${SCENARIOS:-z8 z10 z12 z14 z16 mixed}
VARIANTS=${VARIANTS:-all open-cat last30d}
SERVERS=${SERVERS:-zglos zglos-uncached postgis}
ACCEPT_ENCODING=${ACCEPT_ENCODING-gzip}
WRK_TIMEOUT=${WRK_TIMEOUT:-30}
FORCE_LOAD=${FORCE_LOAD:-0}
export PGHOST PGPORT PGUSER ACCEPT_ENCODING

case "$PGHOST" in
127.0.0.1 | localhost | ::1) ;;
*) echo "bench/heatmap.sh: loopback only (PGHOST=$PGHOST)" >&2; exit 2 ;;
esac

TARGET=${CARGO_TARGET_DIR:-target}
BENCH_BIN=$TARGET/release/zglos-bench
ZGLOS_BIN_GIVEN=${ZGLOS_BIN:-}
ZGLOS_BIN=${ZGLOS_BIN:-$TARGET/release/zglos}
DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$DB"
OUT=bench/out/heatmap-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
ln -sfn "$(basename "$OUT")" bench/out/heatmap-latest
RESULTS=$OUT/results.jsonl
: >"$RESULTS"
# The staff accounts this script uses (analyst: reads heatmaps; admin: changes a status).
PASSWORD=${BENCH_STAFF_PASSWORD:-bench-heatmap-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')}
ANALYST=bench@example.org
ADMIN=bench-admin@example.org

source bench/lib.sh
load_avg() { cut -d' ' -f1-3 /proc/loadavg; }

PIDS=()
RESTORE_SQL=
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
            kill -9 "$pid" 2>/dev/null || true
        fi
    done
    # Put back the status of the report the check changed and drop the rows the change wrote
    # (updated_at and rev move on: the table's trigger sets them).
    if [[ -n $RESTORE_SQL ]]; then
        psql -X -q -d "$DB" -c "$RESTORE_SQL" >/dev/null 2>&1 || echo "could not restore: $RESTORE_SQL" >&2
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM



# ---------------------------------------------------------------------------------------------
log "output: $OUT"
{
    echo "date: $(date -Is)"
    echo "git: $(git rev-parse --short HEAD 2>/dev/null || echo none) $(git status --porcelain 2>/dev/null | grep -q . && echo '(dirty)')"
    echo "cpu: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    echo "memory: $(free -g | awk '/Mem:/ {print $2 " GiB"}')"
    echo "postgres: $(psql -X -At -d postgres -c 'select version()')"
    echo "postgis: $(psql -X -At -d postgres -c "select default_version from pg_available_extensions where name = 'postgis'")"
    echo "wrk: $(wrk -v 2>&1 | head -1)"
    echo "pgbench: $(pgbench --version)"
    echo "settings: N=$N SEED=$SEED DB=$DB DURATION=${DURATION}s CONNECTIONS=$CONNECTIONS THREADS=$THREADS URL_COUNT=$URL_COUNT ACCEPT_ENCODING=${ACCEPT_ENCODING:-identity}"
    echo "load average at start: $(load_avg)"
} >"$OUT/machine.txt"

log "building release binaries"
cargo build --release -p zglos-bench 2>&1 | tail -3 | tee -a "$OUT/run.log" >&2
if [[ -z $ZGLOS_BIN_GIVEN ]]; then
    cargo build --release -p zglos 2>&1 | tail -3 | tee -a "$OUT/run.log" >&2
fi
[[ -x $ZGLOS_BIN ]] || { log "no zglos binary at $ZGLOS_BIN"; exit 1; }

# --- database: run.sh's, loaded with run.sh's loader when missing --------------------------------
if [[ -z $(psql -X -At -d postgres -c "select 1 from pg_database where datname = '$DB'") ]]; then
    log "creating database $DB"
    createdb "$DB"
fi
log "zglos setup (migrations + city pack)"
"$ZGLOS_BIN" setup --database-url "$DATABASE_URL" --city cities/krakow >"$OUT/setup.log" 2>&1 ||
    { log "zglos setup failed, see $OUT/setup.log"; exit 1; }
if [[ $FORCE_LOAD != 1 && "$(loaded)" == "n=$N seed=$SEED" ]]; then
    log "$DB already holds the $N reports of seed $SEED"
else
    log "generating and loading $N reports (seed $SEED) with bench/load.sql"
    t0=$SECONDS
    "$BENCH_BIN" gen --n "$N" --seed "$SEED" 2>>"$OUT/gen.log" |
        psql -X -d "$DB" -v n="$N" -v seed="$SEED" -f bench/load.sql >"$OUT/load.log" 2>&1 ||
        { log "load failed, see $OUT/load.log"; exit 1; }
    log "loaded in $((SECONDS - t0)) s"
fi
echo "reports: $(psql -X -At -d "$DB" -c "select count(*) || ' (' || count(*) filter (where status in (select code from statuses where is_open)) || ' open)' from reports")" >>"$OUT/machine.txt"

log "staff accounts $ANALYST (analyst) and $ADMIN (admin)"
ZGLOS_PASSWORD=$PASSWORD "$ZGLOS_BIN" user add --database-url "$DATABASE_URL" --login "$ANALYST" --name Bench --roles analyst >>"$OUT/setup.log" 2>&1
ZGLOS_PASSWORD=$PASSWORD "$ZGLOS_BIN" user add --database-url "$DATABASE_URL" --login "$ADMIN" --name "Bench admin" --roles admin >>"$OUT/setup.log" 2>&1

# --- tile lists: one set of tiles per scenario, the same for every variant and server -------------
FROM_DATE=$(date -u -d '30 days ago' +%F)
OPEN_SQL=$(psql -X -At -d "$DB" -c "select string_agg(quote_literal(code), ', ' order by sort_order) from statuses where is_open")
variant_query() {   # the service's query string
    case $1 in
    all) echo "status=all" ;;
    open-cat) echo "status=open&category=pothole,litter" ;;
    last30d) echo "status=all&from=$FROM_DATE" ;;
    *) echo "unknown variant $1" >&2; exit 2 ;;
    esac
}
variant_sql() {     # the same filter in SQL
    case $1 in
    all) echo "" ;;
    open-cat) echo "AND r.status IN ($OPEN_SQL) AND r.category IN ('pothole', 'litter')" ;;
    last30d) echo "AND r.created_at >= '${FROM_DATE}T00:00:00Z'::timestamptz" ;;
    esac
}
zooms_of() {
    case $1 in
    mixed) echo 8-16 ;;
    z*) echo "${1#z}" ;;
    *) echo "unknown scenario $1" >&2; exit 2 ;;
    esac
}

log "tile lists ($URL_COUNT per scenario) and the pgbench tile table"
psql_q -c "DROP TABLE IF EXISTS bench_heat_tiles" \
    -c "CREATE TABLE bench_heat_tiles (list int, i int, z int, x int, y int, PRIMARY KEY (list, i))"
seed=200
list=0
declare -A LIST_ID NTILES
for sc in $SCENARIOS; do
    seed=$((seed + 1))
    list=$((list + 1))
    LIST_ID[$sc]=$list
    "$BENCH_BIN" urls --base "http://127.0.0.1:$ZGLOS_PORT/tiles/heatmap" --suffix '.mvt' \
        --zooms "$(zooms_of "$sc")" --count "$URL_COUNT" --seed "$seed" --out "$OUT/tiles-$sc.txt" 2>>"$OUT/run.log"
    tail -n 1 "$OUT/run.log" | sed "s/^/$sc: /" >>"$OUT/machine.txt"
    NTILES[$sc]=$(wc -l <"$OUT/tiles-$sc.txt")
    sed -E 's#.*/([0-9]+)/([0-9]+)/([0-9]+)\.mvt$#\1\t\2\t\3#' "$OUT/tiles-$sc.txt" |
        awk -v l="$list" -v OFS='\t' '{print l, NR, $1, $2, $3}' |
        psql_q -c "\\copy bench_heat_tiles FROM pstdin"
    for v in $VARIANTS; do
        awk -v q="$(variant_query "$v")" '{print $0 "?" q}' "$OUT/tiles-$sc.txt" >"$OUT/urls-$sc-$v.txt"
    done
done
psql_q -c "ANALYZE bench_heat_tiles"

# The PostGIS peer, one script per variant: a random tile of the list, then the tile in one
# statement: anchors inside ST_TileEnvelope (candidates from the GiST index on geom, which holds
# every anchor; the exact test in Web-Mercator, half-open like the service's tile), snapped to a
# 64 × 64 grid of cell centres, count + sum(supporters) + mean position per cell, ST_AsMVT.
heat_sql() {   # heat_sql FILTER -> the tile statement for :z :x :y
    cat <<SQL
WITH b AS (
    SELECT e, ST_Transform(e, 4326) AS e4326, (ST_XMax(e) - ST_XMin(e)) / 64 AS c
    FROM (SELECT ST_TileEnvelope(:z, :x, :y) AS e) t
), p AS (
    SELECT q.g, q.supporters
    FROM (
        SELECT ST_Transform(r.anchor, 3857) AS g, r.supporters
        FROM reports r, b
        WHERE r.geom && b.e4326 AND r.anchor && b.e4326 $1
    ) q, b
    WHERE ST_X(q.g) >= ST_XMin(b.e) AND ST_X(q.g) < ST_XMax(b.e) AND ST_Y(q.g) > ST_YMin(b.e) AND ST_Y(q.g) <= ST_YMax(b.e)
), cells AS (
    SELECT count(*) AS count, sum(p.supporters) AS weight, avg(ST_X(p.g)) AS mx, avg(ST_Y(p.g)) AS my
    FROM p, b
    GROUP BY ST_SnapToGrid(p.g, ST_XMin(b.e) + b.c / 2, ST_YMin(b.e) + b.c / 2, b.c, b.c)
)
SELECT ST_AsMVT(m, 'heatmap', 4096, 'geom') FROM (
    SELECT ST_AsMVTGeom(ST_SetSRID(ST_MakePoint(cells.mx, cells.my), 3857), b.e, 4096, 0, false) AS geom,
           cells.count, cells.weight
    FROM cells, b
) m;
SQL
}
for v in $VARIANTS; do
    {
        echo '\set i random(1, :ntiles)'
        echo 'SELECT z, x, y FROM bench_heat_tiles WHERE list = :list AND i = :i \gset'
        heat_sql "$(variant_sql "$v")"
    } >"$OUT/pgbench-$v.sql"
done

psql_q -c "CHECKPOINT" >/dev/null

# --- the service ---------------------------------------------------------------------------------
port_free "$ZGLOS_PORT" || { log "port $ZGLOS_PORT is taken"; exit 1; }
log "starting zglos on 127.0.0.1:$ZGLOS_PORT"
t0=$SECONDS
"$ZGLOS_BIN" serve --database-url "$DATABASE_URL" --listen "127.0.0.1:$ZGLOS_PORT" >"$OUT/zglos.log" 2>&1 &
ZGLOS_PID=$!
PIDS+=("$ZGLOS_PID")
wait_http "http://127.0.0.1:$ZGLOS_PORT/readyz" 600 "$ZGLOS_PID" ||
    { log "zglos did not become ready, see $OUT/zglos.log"; exit 1; }
log "zglos ready after $((SECONDS - t0)) s"

# login LOGIN -> prints "cookie<TAB>csrf"
login() {
    local headers body
    headers=$(curl -s -D - -o "$OUT/login-body.json" --max-time 10 -H 'content-type: application/json' \
        -d "{\"login\":\"$1\",\"password\":\"$PASSWORD\"}" "http://127.0.0.1:$ZGLOS_PORT/api/v1/staff/login")
    body=$(cat "$OUT/login-body.json")
    rm -f "$OUT/login-body.json"
    printf '%s\t%s\n' "$(printf '%s' "$headers" | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \(zglos_session=[^;]*\).*/\1/p' | head -1)" \
        "$(printf '%s' "$body" | jq -r '.csrf_token // empty')"
}
IFS=$'\t' read -r COOKIE _ <<<"$(login "$ANALYST")"
[[ -n $COOKIE ]] || { log "login as $ANALYST failed"; exit 1; }
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$ZGLOS_PORT/tiles/heatmap/12/2274/1388.mvt?status=all")
log "heatmap without the session: HTTP $code (expected 401); with it: HTTP $(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -H "Cookie: $COOKIE" "http://127.0.0.1:$ZGLOS_PORT/tiles/heatmap/12/2274/1388.mvt?status=all")"

# --- same tiles from both: total count and weight per tile --------------------------------------
mkdir -p "$OUT/tiles"
{
    printf '%-8s %-9s %-22s %s | %s\n' scenario variant tile "zglos: cells count weight" "postgis: cells count weight (ms)"
    for sc in $SCENARIOS; do
        line=$(head -n 1 "$OUT/tiles-$sc.txt")
        read -r z x y < <(sed -E 's#.*/([0-9]+)/([0-9]+)/([0-9]+)\.mvt$#\1 \2 \3#' <<<"$line")
        for v in $VARIANTS; do
            f=$OUT/tiles/$sc-$v
            curl -s --compressed --max-time 60 -H "Cookie: $COOKIE" -o "$f-zglos.mvt" \
                "http://127.0.0.1:$ZGLOS_PORT/tiles/heatmap/$z/$x/$y.mvt?$(variant_query "$v")"
            t1=$(date +%s%N)
            q=$(heat_sql "$(variant_sql "$v")" | sed "s/:z/$z/; s/:x/$x/; s/:y/$y/; \$ s/;\$//")
            psql -X -At -d "$DB" -v ON_ERROR_STOP=1 -c "SELECT encode(($q), 'base64')" | base64 -d >"$f-postgis.mvt"
            ms=$((($(date +%s%N) - t1) / 1000000))
            printf '%-8s %-9s %-22s %s | %s (%s ms)\n' "$sc" "$v" "$z/$x/$y" \
                "$("$BENCH_BIN" heatsum "$f-zglos.mvt")" "$("$BENCH_BIN" heatsum "$f-postgis.mvt")" "$ms"
        done
    done
} >"$OUT/sanity.txt" 2>&1
cat "$OUT/sanity.txt" >&2

# --- load ----------------------------------------------------------------------------------------
run_wrk() {   # run_wrk NAME SCRIPT LIST SCENARIO VARIANT
    local name=$1 script=$2 list=$3 sc=$4 v=$5 raw=$OUT/wrk-$4-$5-$1.txt
    log "wrk $sc $v on $name (${DURATION}s, $CONNECTIONS connections; load $(load_avg))"
    timeout $((DURATION + WRK_TIMEOUT + 30)) \
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout "${WRK_TIMEOUT}s" --latency \
        -H "Cookie: $COOKIE" -s "$script" "http://127.0.0.1:$ZGLOS_PORT" -- "$list" >"$raw" 2>&1 ||
        log "wrk exited with $? ($raw)"
    sed -n "s/^RESULT {/{\"scenario\":\"$sc $v\",\"server\":\"$name\",\"load\":\"$(load_avg)\",/p" "$raw" | tee -a "$RESULTS" >&2
    if grep -q '"non2xx":[1-9]' "$raw"; then log "non-2xx answers in $raw: check the URLs and the session"; fi
}
run_pgbench() {   # run_pgbench SCENARIO VARIANT
    local sc=$1 v=$2 prefix=$OUT/pgbench-$1-$2 tps
    log "pgbench $sc $v (${DURATION}s, $CONNECTIONS clients; load $(load_avg))"
    rm -f "$prefix".log*
    timeout $((DURATION + 120)) \
        pgbench -n -c "$CONNECTIONS" -j "$THREADS" -T "$DURATION" -D list="${LIST_ID[$sc]}" -D ntiles="${NTILES[$sc]}" \
        -l --log-prefix="$prefix.log" -f "$OUT/pgbench-$v.sql" "$DB" >"$prefix.txt" 2>&1 ||
        log "pgbench exited with $? ($prefix.txt)"
    tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$prefix.txt")
    "$BENCH_BIN" pglat --field scenario="$sc $v" --field server=postgis --field pgbench_tps="${tps:-0}" \
        --field load="$(load_avg)" "$prefix".log.* | tee -a "$RESULTS" >&2
    gzip -f "$prefix".log.*
}

# Warm the tile cache once over every list (a few seconds each), as a day of staff use would.
if [[ " $SERVERS " == *" zglos "* ]]; then
    for sc in $SCENARIOS; do
        for v in $VARIANTS; do
            timeout 60 wrk -t1 -c2 -d2s --timeout 20s -H "Cookie: $COOKIE" -s bench/wrk/urls.lua \
                "http://127.0.0.1:$ZGLOS_PORT" -- "$OUT/urls-$sc-$v.txt" >"$OUT/warmup-$sc-$v.txt" 2>&1 || true
        done
    done
fi
for sc in $SCENARIOS; do
    for v in $VARIANTS; do
        for srv in $SERVERS; do
            case $srv in
            zglos) run_wrk zglos bench/wrk/urls.lua "$OUT/urls-$sc-$v.txt" "$sc" "$v" ;;
            zglos-uncached) run_wrk zglos-uncached bench/wrk/uncached.lua "$OUT/urls-$sc-$v.txt" "$sc" "$v" ;;
            postgis) run_pgbench "$sc" "$v" ;;
            *) log "unknown server $srv"; exit 2 ;;
            esac
            sleep 1
        done
    done
done
echo "load average at end of load: $(load_avg)" >>"$OUT/machine.txt"

# --- a status change shows in the next heatmap tile ----------------------------------------------
log "status change check"
IFS=$'\t' read -r ADMIN_COOKIE CSRF <<<"$(login "$ADMIN")"
[[ -n $ADMIN_COOKIE && -n $CSRF ]] || { log "login as $ADMIN failed"; exit 1; }
read -r RID RSTATUS Z X Y < <(psql -X -At -F ' ' -d "$DB" -c "
    SELECT id, status, 14,
           floor((ST_X(anchor) + 180) / 360 * 2 ^ 14)::int,
           floor((1 - ln(tan(radians(ST_Y(anchor))) + 1 / cos(radians(ST_Y(anchor)))) / pi()) / 2 * 2 ^ 14)::int
    FROM reports WHERE status = 'new' AND duplicate_of IS NULL AND ST_GeometryType(geom) = 'ST_Point'
    ORDER BY id LIMIT 1")
T_CHECK=$(psql -X -At -d "$DB" -c "select now()")
RESTORE_SQL="BEGIN;
DELETE FROM outbox WHERE report_id = $RID AND created_at >= '$T_CHECK';
DELETE FROM audit_log WHERE report_id = $RID AND at >= '$T_CHECK';
DELETE FROM report_events WHERE report_id = $RID AND at >= '$T_CHECK';
UPDATE reports SET status = '$RSTATUS' WHERE id = $RID;
COMMIT;"
tile_url="http://127.0.0.1:$ZGLOS_PORT/tiles/heatmap/$Z/$X/$Y.mvt?status=open"
heat_total() { curl -s --compressed --max-time 30 -H "Cookie: $ADMIN_COOKIE" -o "$OUT/tiles/check.mvt" "$tile_url" && "$BENCH_BIN" heatsum "$OUT/tiles/check.mvt"; }
{
    echo "report $RID (status $RSTATUS), heatmap tile $Z/$X/$Y, status=open"
    read -r _ before _ <<<"$(heat_total)"
    read -r _ again _ <<<"$(heat_total)"
    echo "open reports in the tile: $before (built), $again (again, from the cache)"
    t1=$(date +%s%N)
    code=$(curl -s -o "$OUT/status-change.json" -w '%{http_code}' --max-time 30 \
        -H "Cookie: $ADMIN_COOKIE" -H "X-CSRF-Token: $CSRF" -H 'content-type: application/json' \
        -d '{"status":"resolved","public_note":"x"}' "http://127.0.0.1:$ZGLOS_PORT/api/v1/staff/reports/$RID/status")
    t2=$(date +%s%N)
    read -r _ after _ <<<"$(heat_total)"
    t3=$(date +%s%N)
    echo "POST /api/v1/staff/reports/$RID/status {\"status\":\"resolved\"}: HTTP $code in $(((t2 - t1) / 1000000)) ms"
    echo "open reports in the next tile (fetched $(((t3 - t2) / 1000000)) ms after the answer): $after"
    if [[ $code == 200 && $after -eq $((before - 1)) ]]; then
        echo "RESULT: reflected in the next tile ($before -> $after)"
    else
        echo "RESULT: NOT reflected ($before -> $after, HTTP $code)"
    fi
} | tee "$OUT/status-check.txt" >&2

kill "$ZGLOS_PID" 2>/dev/null || true
"$BENCH_BIN" report --peer postgis --goal-p99-ms 20 "$RESULTS" | tee "$OUT/results.md"
log "done: $OUT/results.md"
