#!/usr/bin/env bash
# Zgłoś benchmark, in one go, side by side on one PostGIS database:
#   (a) vector tiles: Zgłoś vs Martin serving the same `reports` table, same tile URL lists (wrk);
#   (b) submissions: POST /api/v1/reports vs one SQL statement doing the same dedup + district +
#       insert (pgbench): first pgbench saturating (8 clients, closed loop) for its top rate P; then
#       the service open loop at a fixed rate (SUBMIT_SHARE × P) with `zglos-bench submit-load` and
#       pgbench at the same rate (`pgbench --rate`), both counting latency from when each request
#       was due; the service closed loop with wrk, its saturation throughput; and both closed loop
#       with SUBMIT_FEW (2) clients, below saturation.
# Everything runs on loopback, every load step is bounded in time, and whatever this script
# starts is stopped when it exits. Raw outputs go to bench/out/<timestamp>/ (bench/out/latest).
#
#   bench/run.sh                       # 1,000,000 reports, 20 s per measurement
#   N=20000 DURATION=5 bench/run.sh    # quick check
#   SKIP_TILES=1 bench/run.sh          # submissions only
#
# Settings (environment): N, SEED, DB, PGHOST, PGPORT, PGUSER, DURATION (s), CONNECTIONS, THREADS,
# ZGLOS_PORT, MARTIN_PORT, URL_COUNT, POINTS, SCENARIOS ("mixed z16 z14 z12"), ACCEPT_ENCODING
# (gzip; empty for identity), MARTIN_MODES ("nocache cached": Martin with its tile cache off, on
# MARTIN_PORT, and with its default cache, on MARTIN_PORT+1), WRK_TIMEOUT (s),
# FORCE_LOAD=1 (regenerate and reload even if the database already holds N reports of SEED),
# ZGLOS_BIN (measure this binary instead of building the working tree),
# SKIP_ZGLOS=1 / SKIP_MARTIN=1 / SKIP_TILES=1 / SKIP_SUBMIT=1 (leave a part out),
# SUBMIT_SHARE (0.6: the open-loop rate as a share of pgbench's saturated rate), SUBMIT_RATE (a
# fixed open-loop rate instead), ARRIVALS (fixed, or poisson as pgbench --rate schedules),
# SUBMIT_FEW (2: connections of the closed-loop run below saturation, for both servers).
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-1000000}
SEED=${SEED:-42}
DB=${DB:-zglos_bench}
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-postgres}
DURATION=${DURATION:-20}
CONNECTIONS=${CONNECTIONS:-8}
THREADS=${THREADS:-2}
ZGLOS_PORT=${ZGLOS_PORT:-8787}
MARTIN_PORT=${MARTIN_PORT:-3000}
URL_COUNT=${URL_COUNT:-20000}
POINTS=${POINTS:-100000}
SCENARIOS=${SCENARIOS:-mixed z16 z14 z12}
ACCEPT_ENCODING=${ACCEPT_ENCODING-gzip}
MARTIN_MODES=${MARTIN_MODES:-nocache cached}
WRK_TIMEOUT=${WRK_TIMEOUT:-30}
FORCE_LOAD=${FORCE_LOAD:-0}
SKIP_ZGLOS=${SKIP_ZGLOS:-0}
SKIP_MARTIN=${SKIP_MARTIN:-0}
SKIP_SUBMIT=${SKIP_SUBMIT:-0}
SKIP_TILES=${SKIP_TILES:-0}
SUBMIT_SHARE=${SUBMIT_SHARE:-0.6}
SUBMIT_FEW=${SUBMIT_FEW:-2}
SUBMIT_RATE=${SUBMIT_RATE:-}
ARRIVALS=${ARRIVALS:-fixed}
[[ $SKIP_TILES == 1 ]] && SKIP_MARTIN=1
export PGHOST PGPORT PGUSER ACCEPT_ENCODING

case "$PGHOST" in
127.0.0.1 | localhost | ::1) ;;
*) echo "bench/run.sh: loopback only (PGHOST=$PGHOST)" >&2; exit 2 ;;
esac

TARGET=${CARGO_TARGET_DIR:-target}
BENCH_BIN=$TARGET/release/zglos-bench
# ZGLOS_BIN=/path/to/zglos measures that binary instead of building the working tree.
ZGLOS_BIN_GIVEN=${ZGLOS_BIN:-}
ZGLOS_BIN=${ZGLOS_BIN:-$TARGET/release/zglos}
DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$DB"
OUT=bench/out/$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
ln -sfn "$(basename "$OUT")" bench/out/latest
RESULTS=$OUT/results.jsonl
: >"$RESULTS"

source bench/lib.sh
# wrk (Debian's) drives the tile and closed-loop submission loads.
command -v wrk >/dev/null || { apt-get install -y wrk >/dev/null 2>&1 || sudo apt-get install -y wrk >/dev/null; }

PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
            kill -9 "$pid" 2>/dev/null || true
        fi
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop_pid() {
    local pid=$1
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
}



# ---------------------------------------------------------------------------------------------
log "output: $OUT"
{
    echo "date: $(date -Is)"
    echo "git: $(git rev-parse --short HEAD 2>/dev/null || echo none) $(git status --porcelain 2>/dev/null | grep -q . && echo '(dirty)')"
    echo "cpu: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    echo "memory: $(free -g | awk '/Mem:/ {print $2 " GiB"}')"
    echo "kernel: $(uname -r)"
    echo "postgres: $(psql -X -At -d postgres -c 'select version()')"
    echo "postgis: $(psql -X -At -d postgres -c "select default_version from pg_available_extensions where name = 'postgis'")"
    echo "wrk: $(wrk -v 2>&1 | head -1)"
    echo "pgbench: $(pgbench --version)"
    echo "settings: N=$N SEED=$SEED DURATION=${DURATION}s CONNECTIONS=$CONNECTIONS THREADS=$THREADS URL_COUNT=$URL_COUNT POINTS=$POINTS ACCEPT_ENCODING=${ACCEPT_ENCODING:-identity} MARTIN_MODES='$MARTIN_MODES' SKIP_TILES=$SKIP_TILES SUBMIT_SHARE=$SUBMIT_SHARE SUBMIT_RATE=${SUBMIT_RATE:-} ARRIVALS=$ARRIVALS"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/machine.txt"

log "building release binaries"
cargo build --release -p zglos-bench 2>&1 | tail -3 | tee -a "$OUT/run.log" >&2
if [[ $SKIP_ZGLOS != 1 && -z $ZGLOS_BIN_GIVEN ]]; then
    if ! cargo build --release -p zglos 2>&1 | tail -3 | tee -a "$OUT/run.log" >&2 || [[ ! -x $ZGLOS_BIN ]]; then
        log "the zglos binary does not build: measuring without it (SKIP_ZGLOS=1)"
        SKIP_ZGLOS=1
    fi
fi

MARTIN_BIN=${MARTIN_BIN:-$(command -v martin || echo "$HOME/.cargo/bin/martin")}
if [[ $SKIP_MARTIN != 1 && ! -x $MARTIN_BIN ]]; then
    log "installing Martin 1.14.0 (about 7 minutes on 2 cores)"
    nice -n 10 cargo install martin --version 1.14.0 --locked --no-default-features --features postgres
    MARTIN_BIN=$HOME/.cargo/bin/martin
fi
[[ $SKIP_MARTIN == 1 ]] || echo "martin: $("$MARTIN_BIN" --version)" >>"$OUT/machine.txt"

# --- database ---------------------------------------------------------------------------------
if [[ -z $(psql -X -At -d postgres -c "select 1 from pg_database where datname = '$DB'") ]]; then
    log "creating database $DB"
    createdb "$DB"
fi
if [[ -x $ZGLOS_BIN && $SKIP_ZGLOS != 1 ]]; then
    log "zglos setup (migrations + city pack)"
    "$ZGLOS_BIN" setup --database-url "$DATABASE_URL" --city cities/krakow >"$OUT/setup.log" 2>&1 ||
        { log "zglos setup failed, see $OUT/setup.log"; exit 1; }
elif [[ -z $(psql -X -At -d "$DB" -c "select to_regclass('public.reports')") ]]; then
    log "no zglos binary to set the database up, and $DB has no reports table"
    exit 1
fi

reset_submissions() {
    # Remove reports (and rows pointing at them) added after the load, so every run starts from the
    # same N reports.
    # A server stopped with SIGKILL can leave a transaction committing in its backend: end every
    # other session on the database first, so nothing is written while rows are removed.
    psql_q -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
               WHERE datname = current_database() AND pid <> pg_backend_pid()" >/dev/null
    psql_q <<'SQL'
DO $$
DECLARE
    max_id bigint := (SELECT value::bigint FROM bench_meta WHERE key = 'max_id');
    r record;
BEGIN
    FOR r IN
        SELECT c.conrelid::regclass AS tbl, a.attname AS col
        FROM pg_constraint c
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        WHERE c.contype = 'f' AND c.confrelid = 'reports'::regclass
          AND c.conrelid <> 'reports'::regclass AND array_length(c.conkey, 1) = 1
    LOOP
        EXECUTE format('DELETE FROM %s WHERE %I > $1', r.tbl, r.col) USING max_id;
    END LOOP;
    UPDATE reports SET duplicate_of = NULL WHERE duplicate_of > max_id AND id <= max_id;
    -- duplicates added a supporter to their originals: take it back
    UPDATE reports o SET supporters = greatest(o.supporters - d.n, 1)
    FROM (SELECT duplicate_of AS id, count(*) AS n FROM reports
          WHERE id > max_id AND duplicate_of <= max_id GROUP BY 1) d
    WHERE o.id = d.id;
    DELETE FROM reports WHERE id > max_id;
    PERFORM setval(pg_get_serial_sequence('reports', 'id'), greatest(max_id, 1));
END $$;
SQL
    psql_q -c "VACUUM ANALYZE reports" >/dev/null
}

if [[ $FORCE_LOAD != 1 && "$(loaded)" == "n=$N seed=$SEED" ]]; then
    log "$DB already holds the $N reports of seed $SEED: removing earlier submissions only"
    reset_submissions
else
    log "generating and loading $N reports (seed $SEED)"
    t0=$SECONDS
    "$BENCH_BIN" gen --n "$N" --seed "$SEED" 2>>"$OUT/gen.log" |
        psql -X -d "$DB" -v n="$N" -v seed="$SEED" -f bench/load.sql >"$OUT/load.log" 2>&1 ||
        { log "load failed, see $OUT/load.log"; exit 1; }
    log "loaded in $((SECONDS - t0)) s: $(tail -n 4 "$OUT/load.log" | head -n 1)"
fi
psql -X -d "$DB" -c "select status, count(*) from reports group by 1 order by 2 desc" >"$OUT/data.txt"
psql -X -d "$DB" -c "select category, count(*) from reports group by 1 order by 2 desc" >>"$OUT/data.txt"

log "writing $POINTS submission points and tile URL lists"
"$BENCH_BIN" points --n "$POINTS" --seed 7 --out "$OUT/points.tsv"
psql_q >/dev/null <<SQL
DROP TABLE IF EXISTS bench_points;
CREATE TABLE bench_points (
    id       integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lon      float8 NOT NULL,
    lat      float8 NOT NULL,
    category text NOT NULL
);
\copy bench_points (lon, lat, category) FROM '$OUT/points.tsv'
ANALYZE bench_points;
SQL

zooms_of() {
    case $1 in
    mixed) echo 10-16 ;;
    z*) echo "${1#z}" ;;
    *) echo "unknown scenario $1" >&2; exit 2 ;;
    esac
}
seed=100
for sc in $SCENARIOS warmup; do
    seed=$((seed + 1))
    count=$URL_COUNT zooms=$(if [[ $sc == warmup ]]; then echo 12-16; else zooms_of "$sc"; fi)
    [[ $sc == warmup ]] && count=500
    "$BENCH_BIN" urls --base "http://127.0.0.1:$ZGLOS_PORT/tiles/reports" --suffix '.mvt?status=all' \
        --zooms "$zooms" --count "$count" --seed "$seed" --out "$OUT/urls-$sc-zglos.txt" \
        --peer-base "http://127.0.0.1:$MARTIN_PORT/reports" --peer-out "$OUT/urls-$sc-peer.txt" 2>>"$OUT/run.log"
done

# A clean slate for the measurements: no pending dirty buffers from the load or the reset.
psql_q -c "CHECKPOINT" >/dev/null

# --- servers ------------------------------------------------------------------------------------
# Martin instances: "martin" with its tile cache off (every tile built by PostGIS, as the
# service's own tiles are built per request from memory) and "martin-cached" with Martin's default
# cache, as shipped.
MARTINS=()   # "name port"
if [[ $SKIP_MARTIN != 1 ]]; then
    for mode in $MARTIN_MODES; do
        case $mode in
        nocache) name=martin port=$MARTIN_PORT cache=0 ;;
        cached) name=martin-cached port=$((MARTIN_PORT + 1)) cache= ;;
        *) log "unknown Martin mode $mode"; exit 2 ;;
        esac
        port_free "$port" || { log "port $port is taken"; exit 1; }
        {
            echo "listen_addresses: \"127.0.0.1:$port\""
            if [[ -n $cache ]]; then printf 'cache:\n  size_mb: %s\n' "$cache"; fi
            cat <<YAML
postgres:
  connection_string: "$DATABASE_URL"
  pool_size: 20
  auto_bounds: skip
  auto_publish: false
  tables:
    reports:
      schema: public
      table: reports
      srid: 4326
      geometry_column: geom
      geometry_type: GEOMETRY
      id_column: id
      properties:
        id: int8
        category: text
        status: text
        supporters: int4
YAML
        } >"$OUT/$name.yaml"
        log "starting $name on 127.0.0.1:$port"
        "$MARTIN_BIN" --config "$OUT/$name.yaml" >"$OUT/$name.log" 2>&1 &
        pid=$!
        PIDS+=("$pid")
        wait_http "http://127.0.0.1:$port/health" 60 "$pid" || { log "$name did not start, see $OUT/$name.log"; exit 1; }
        MARTINS+=("$name $port $pid")
        for f in "$OUT"/urls-*-peer.txt; do
            sed "s#^http://127.0.0.1:$MARTIN_PORT/#http://127.0.0.1:$port/#" "$f" >"${f%-peer.txt}-$name.txt"
        done
    done
fi
ZGLOS_PID=
# start_zglos: a fresh service process (it loads every report into memory), in ZGLOS_PID.
start_zglos() {
    port_free "$ZGLOS_PORT" || { log "port $ZGLOS_PORT is taken"; exit 1; }
    log "starting zglos on 127.0.0.1:$ZGLOS_PORT"
    local t0=$SECONDS
    # Every load comes from one loopback address: the per-address write limits (which would
    # answer 429 after the first 20 submissions) are raised out of the way; the service's work
    # per request is what is measured.
    ZGLOS_WRITE_BURST=1000000000 ZGLOS_WRITE_PER_HOUR=1000000000 ZGLOS_CONTACT_PER_HOUR=1000000000 \
        "$ZGLOS_BIN" serve --database-url "$DATABASE_URL" --listen "127.0.0.1:$ZGLOS_PORT" >>"$OUT/zglos.log" 2>&1 &
    ZGLOS_PID=$!
    PIDS+=("$ZGLOS_PID")
    wait_http "http://127.0.0.1:$ZGLOS_PORT/readyz" 600 "$ZGLOS_PID" ||
        { log "zglos did not become ready, see $OUT/zglos.log"; exit 1; }
    log "zglos ready after $((SECONDS - t0)) s (holds $N reports in memory)"
    echo "zglos_ready_s: $((SECONDS - t0))" >>"$OUT/machine.txt"
    echo "zglos_rss_mb_after_start: $(($(awk '/VmRSS/ {print $2}' /proc/$ZGLOS_PID/status) / 1024))" >>"$OUT/machine.txt"
}
stop_zglos() {
    if [[ -n $ZGLOS_PID ]]; then stop_pid "$ZGLOS_PID"; fi
    ZGLOS_PID=
}
if [[ $SKIP_ZGLOS != 1 && $SKIP_TILES != 1 ]]; then
    start_zglos
fi

# The same tiles from each server, as a check that they serve the same data: status, bytes on the
# wire, time, and the decoded layers (feature counts by geometry type, property keys).
if [[ $SKIP_TILES != 1 ]]; then
mkdir -p "$OUT/tiles"
{
    for z in 16 15 14 12 10; do
        line= list=
        for sc in $SCENARIOS warmup; do
            line=$(grep -n -m1 "/reports/$z/" "$OUT/urls-$sc-peer.txt" | cut -d: -f1 || true)
            if [[ -n $line ]]; then list=$sc; break; fi
        done
        [[ -n $line ]] || continue
        for srv in zglos "${MARTINS[@]%% *}"; do
            [[ $srv == zglos && $SKIP_ZGLOS == 1 ]] && continue
            url=$(sed -n "${line}p" "$OUT/urls-$list-$srv.txt")
            printf '%-14s %s -> ' "$srv" "$url"
            curl -s --compressed -o "$OUT/tiles/$srv-z$z.mvt" --max-time 60 \
                -w '%{http_code}, %{size_download} bytes on the wire, %{content_type}, %{time_total} s\n' "$url" || echo failed
            "$BENCH_BIN" mvtinfo "$OUT/tiles/$srv-z$z.mvt" 2>&1 | cut -f2- | sed 's/^/    /'
        done
    done
} >"$OUT/sanity.txt" 2>&1
cat "$OUT/sanity.txt" >&2
fi

# run_wrk SCENARIO SERVER PORT SCRIPT LIST
run_wrk() {
    local sc=$1 srv=$2 port=$3 script=$4 list=$5 raw=$OUT/wrk-$1-$2.txt
    log "wrk $sc on $srv (${DURATION}s, $CONNECTIONS connections)"
    timeout $((DURATION + WRK_TIMEOUT + 30)) \
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout "${WRK_TIMEOUT}s" --latency \
        -s "$script" "http://127.0.0.1:$port" -- "$list" >"$raw" 2>&1 || log "wrk exited with $? ($raw)"
    sed -n "s/^RESULT {/{\"scenario\":\"$sc\",\"server\":\"$srv\",/p" "$raw" | tee -a "${WRK_RESULTS:-$RESULTS}" >&2
}

warm() {
    local srv=$1 port=$2
    timeout 30 wrk -t1 -c2 -d3s --timeout 10s -s bench/wrk/urls.lua "http://127.0.0.1:$port" \
        -- "$OUT/urls-warmup-$srv.txt" >"$OUT/warmup-$srv.txt" 2>&1 || true
}

if [[ $SKIP_TILES != 1 ]]; then
[[ $SKIP_ZGLOS == 1 ]] || warm zglos "$ZGLOS_PORT"
for m in "${MARTINS[@]}"; do
    read -r name port _ <<<"$m"
    warm "$name" "$port"
done
for sc in $SCENARIOS; do
    [[ $SKIP_ZGLOS == 1 ]] || run_wrk "$sc" zglos "$ZGLOS_PORT" bench/wrk/urls.lua "$OUT/urls-$sc-zglos.txt"
    for m in "${MARTINS[@]}"; do
        read -r name port _ <<<"$m"
        sleep 2
        run_wrk "$sc" "$name" "$port" bench/wrk/urls.lua "$OUT/urls-$sc-$name.txt"
    done
    sleep 2
done
fi
for m in "${MARTINS[@]}"; do
    read -r _ _ pid <<<"$m"
    stop_pid "$pid"
done

# --- submissions --------------------------------------------------------------------------------
# Rows added by each load are removed before the next, so every load deduplicates against the
# same N reports; the service is restarted after each removal, since its memory held them.
# rows_since BEFORE NAME: what a load stored (status, duplicates) into submit-NAME-rows.txt.
rows_since() {
    psql -X -d "$DB" -c "select status, count(*), count(duplicate_of) as with_duplicate_of from reports where id > $1 group by 1" \
        >"$OUT/submit-$2-rows.txt"
}
max_id() { psql -X -At -d "$DB" -c "select coalesce(max(id), 0) from reports"; }
# run_pgbench NAME [pgbench options...]: one pgbench submission run, its JSON line on stdout.
run_pgbench() {
    local name=$1 before
    shift
    before=$(max_id)
    rm -f "$OUT"/pgbench_log.*
    timeout $((DURATION + 60)) \
        pgbench -n -M prepared -c "$CONNECTIONS" -j "$THREADS" -T "$DURATION" -D npoints="$POINTS" "$@" \
        -l --log-prefix="$OUT/pgbench_log" -f bench/pgbench/submit.sql "$DB" >"$OUT/$name.txt" 2>&1 ||
        log "pgbench exited with $? ($OUT/$name.txt)"
    local tps
    tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$OUT/$name.txt")
    "$BENCH_BIN" pglat --field pgbench_tps="${tps:-0}" --field load="$(cut -d' ' -f1 /proc/loadavg)" "$OUT"/pgbench_log.*
    rows_since "$before" "$name"
    mkdir -p "$OUT/$name-log" && mv "$OUT"/pgbench_log.* "$OUT/$name-log/" && gzip -f "$OUT/$name-log"/*
    reset_submissions >&2
}
with() { sed "s/^{/{\"scenario\":\"$1\",\"server\":\"$2\",/"; }

if [[ $SKIP_SUBMIT != 1 ]]; then
    stop_zglos
    reset_submissions
    log "pgbench submit, saturating (${DURATION}s, $CONNECTIONS clients, closed loop)"
    pg_sat=$(run_pgbench pgbench-saturated | with submit-saturated pgbench)
    echo "$pg_sat" >&2
    top=$(jq -r '.rps' <<<"$pg_sat")
    rate=${SUBMIT_RATE:-$(awk -v p="$top" -v s="$SUBMIT_SHARE" 'BEGIN { printf "%.0f", p * s }')}
    log "open-loop rate: $rate/s ($(awk -v r="$rate" -v p="$top" 'BEGIN { printf "%.2f", r / p }') × pgbench's saturated $top/s)"
    echo "submit_open_loop_rate: $rate (pgbench saturated: $top)" >>"$OUT/machine.txt"
    open_scenario="submit-open-loop-$rate"
    few_scenario="submit-$SUBMIT_FEW-connections"
    zg_open= zg_sat= zg_few=
    if [[ $SKIP_ZGLOS != 1 ]]; then
        start_zglos
        log "zglos submit, open loop at $rate/s (${DURATION}s, $CONNECTIONS connections, $ARRIVALS arrivals)"
        before=$(max_id)
        poisson=
        [[ $ARRIVALS == poisson ]] && poisson=--poisson
        zg_open=$("$BENCH_BIN" submit-load --url "http://127.0.0.1:$ZGLOS_PORT" --points "$OUT/points.tsv" \
            --rate "$rate" --duration "$DURATION" --connections "$CONNECTIONS" $poisson \
            --field load="$(cut -d' ' -f1 /proc/loadavg)" | with "$open_scenario" zglos) ||
            log "submit-load failed"
        echo "$zg_open" >&2
        rows_since "$before" zglos-open-loop
        stop_zglos
        reset_submissions
        start_zglos
        before=$(max_id)
        # Its line goes to results.jsonl below, with the others in the order the table wants.
        load=$(cut -d' ' -f1 /proc/loadavg)
        WRK_RESULTS=$OUT/wrk-submit.jsonl run_wrk submit-saturated zglos "$ZGLOS_PORT" bench/wrk/submit.lua "$OUT/points.tsv"
        zg_sat=$(tail -n 1 "$OUT/wrk-submit.jsonl" 2>/dev/null | sed "s/}\$/,\"load\":$load}/" || true)
        rows_since "$before" zglos-saturated
        stop_zglos
        reset_submissions
        # Closed loop again, with as few connections as it takes to keep half of pgbench's rate:
        # what one client at a time sees when the server is not saturated.
        start_zglos
        before=$(max_id)
        load=$(cut -d' ' -f1 /proc/loadavg)
        CONNECTIONS=$SUBMIT_FEW THREADS=1 WRK_RESULTS=$OUT/wrk-submit.jsonl \
            run_wrk "$few_scenario" zglos "$ZGLOS_PORT" bench/wrk/submit.lua "$OUT/points.tsv"
        zg_few=$(tail -n 1 "$OUT/wrk-submit.jsonl" 2>/dev/null | sed "s/}\$/,\"load\":$load}/" || true)
        rows_since "$before" zglos-few
        stop_zglos
        reset_submissions
    fi
    log "pgbench submit, closed loop with $SUBMIT_FEW clients"
    pg_few=$(CONNECTIONS=$SUBMIT_FEW THREADS=1 run_pgbench pgbench-few | with "$few_scenario" pgbench)
    echo "$pg_few" >&2
    log "pgbench submit at $rate/s (${DURATION}s, $CONNECTIONS clients, pgbench --rate: Poisson arrivals, schedule lag counted)"
    pg_open=$(run_pgbench pgbench-rate --rate="$rate" | with "$open_scenario" pgbench)
    echo "$pg_open" >&2
    for line in "$zg_sat" "$pg_sat" "$zg_few" "$pg_few" "$zg_open" "$pg_open"; do
        [[ -n $line ]] && echo "$line" >>"$RESULTS"
    done
    echo "load average after the submissions: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/machine.txt"
fi

"$BENCH_BIN" report --goal-p99-ms 15 "$RESULTS" | tee "$OUT/results.md"
log "done: $OUT/results.md"
