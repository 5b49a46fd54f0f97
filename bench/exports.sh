#!/usr/bin/env bash
# Zgłoś exports benchmark, side by side on the 1M-report database that bench/run.sh loads:
# every report as GeoJSON, FlatGeobuf and GeoPackage, from
#   (a) `zglos export` (the CLI, to a file),
#   (b) `GET /api/v1/exports/reports.<ext>` on a running `zglos serve` (curl to a file),
#   (c) `ogr2ogr` reading the same table from PostGIS (the peer), with the issue's seven columns,
#   (d) `ogr2ogr` with the same 14 public columns, joins and order as the service (like for like),
# and, once, the floor: PostgreSQL's own `\copy` of one GeoJSON feature per line.
# Runs are interleaved per format (ours, then ogr2ogr), each timed with /usr/bin/time -v (wall
# time, peak RSS); for (b) the time is curl's and the memory the server's peak RSS (VmHWM, reset
# through /proc/PID/clear_refs before each request). Feature counts are checked with ogrinfo.
# Loopback only, every step bounded in time, whatever the script starts is stopped on exit.
# Raw outputs go to bench/out/exports-<timestamp>/.
#
#   bench/exports.sh                                 # 1,000,000 reports in zglos_bench
#   ZGLOS_BIN=/path/to/zglos bench/exports.sh        # measure that binary, no build
#   FORMATS=fgb LIKE_FOR_LIKE=0 bench/exports.sh     # one format, issue's peer only
#
# Settings (environment): N (reports expected, 1000000), DB, PGHOST, PGPORT, PGUSER, ZGLOS_PORT,
# FORMATS ("geojson fgb gpkg"), LIKE_FOR_LIKE (1: also run (d)), STEP_TIMEOUT (s per step),
# ZGLOS_BIN, KEEP=1 (keep the exported files in the work folder).
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-1000000}
DB=${DB:-zglos_bench}
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-postgres}
ZGLOS_PORT=${ZGLOS_PORT:-8797}
FORMATS=${FORMATS:-geojson fgb gpkg}
LIKE_FOR_LIKE=${LIKE_FOR_LIKE:-1}
STEP_TIMEOUT=${STEP_TIMEOUT:-600}
KEEP=${KEEP:-0}
export PGHOST PGPORT PGUSER

case "$PGHOST" in
127.0.0.1 | localhost | ::1) ;;
*) echo "bench/exports.sh: loopback only (PGHOST=$PGHOST)" >&2; exit 2 ;;
esac

TARGET=${CARGO_TARGET_DIR:-target}
ZGLOS_BIN_GIVEN=${ZGLOS_BIN:-}
ZGLOS_BIN=${ZGLOS_BIN:-$TARGET/release/zglos}
DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$DB"
PG_DSN="dbname=$DB host=$PGHOST port=$PGPORT user=$PGUSER"
OUT=bench/out/exports-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/zglos-exports.XXXXXX)
RESULTS=$OUT/results.tsv

log() { printf '[%s] %s\n' "$(date +%T)" "$*" | tee -a "$OUT/run.log" >&2; }
load() { echo "$(date +%T) $1: $(uptime | sed 's/.*load average/load average/')" | tee -a "$OUT/uptime.txt" >&2; }

SERVER_PID=
cleanup() {
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
        kill -9 "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ $KEEP == 1 ]]; then echo "exported files kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in ogr2ogr ogrinfo psql curl /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "bench/exports.sh: $tool is missing (apt-get install gdal-bin postgresql-client curl time)" >&2; exit 2; }
done

# --- the data ---------------------------------------------------------------------------------
have=$(psql -X -At -d "$DB" -c "select count(*) from reports" 2>/dev/null || true)
if [[ $have != "$N" ]]; then
    cat >&2 <<EOF
bench/exports.sh: database $DB does not hold $N reports (found: ${have:-no database or no reports table}).
Load them once with bench/run.sh, which creates $DB, sets it up and loads N synthetic reports
(and keeps them for later runs); to load without running its tile and submission benchmarks:

    DB=$DB N=$N SKIP_ZGLOS=1 SKIP_MARTIN=1 SKIP_SUBMIT=1 bench/run.sh
EOF
    exit 1
fi

# --- the binary -------------------------------------------------------------------------------
if [[ -z $ZGLOS_BIN_GIVEN ]]; then
    log "building the release binary"
    cargo build --release --bin zglos 2>&1 | tail -3 | tee -a "$OUT/run.log" >&2
fi
[[ -x $ZGLOS_BIN ]] || { log "no zglos binary at $ZGLOS_BIN"; exit 1; }
# The service applies its migrations on start; do it first, visibly, so no timed step pays for it.
timeout 300 "$ZGLOS_BIN" migrate --database-url "$DATABASE_URL" >"$OUT/migrate.log" 2>&1 ||
    { log "zglos migrate failed, see $OUT/migrate.log"; exit 1; }

{
    echo "date: $(date -Is)"
    echo "git: $(git rev-parse --short HEAD 2>/dev/null || echo none)$(git status --porcelain 2>/dev/null | grep -q . && echo ' (dirty tree)')"
    echo "zglos binary: $ZGLOS_BIN"
    echo "cpu: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    echo "memory: $(free -g | awk '/Mem:/ {print $2 " GiB"}')"
    echo "kernel: $(uname -r)"
    echo "postgres: $(psql -X -At -d "$DB" -c 'select version()')"
    echo "postgis: $(psql -X -At -d "$DB" -c 'select postgis_full_version()' | cut -c1-60)"
    echo "gdal: $(ogr2ogr --version)"
    echo "reports: $have, table $(psql -X -At -d "$DB" -c "select pg_size_pretty(pg_total_relation_size('reports'))")"
    echo "settings: FORMATS='$FORMATS' LIKE_FOR_LIKE=$LIKE_FOR_LIKE STEP_TIMEOUT=$STEP_TIMEOUT"
} >"$OUT/machine.txt"
cat "$OUT/machine.txt" >&2

# --- helpers ----------------------------------------------------------------------------------
# timed NAME CMD...: runs CMD under /usr/bin/time -v (bounded); output in $OUT/NAME.{log,time}.
timed() {
    local name=$1
    shift
    if ! timeout "$STEP_TIMEOUT" /usr/bin/time -v -o "$OUT/$name.time" "$@" >"$OUT/$name.log" 2>&1; then
        log "$name failed, see $OUT/$name.log"
        return 1
    fi
}
# settle: write out what earlier steps left in the page cache, so that no step pays for the
# writeback of the files the one before it wrote (each step writes hundreds of MB).
settle() {
    sync
    sleep 2
}

# wall_s FILE / rss_mb FILE: from /usr/bin/time -v output ("m:ss.ss" or "h:mm:ss"; kB -> MiB).
wall_s() { awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s }' "$1"; }
rss_mb() { awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$1"; }
cpu_s() { awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.2f", u + s }' "$1"; }
kb() { awk -v k="$1" '$1 == k":" { print $2 }' "/proc/$SERVER_PID/status"; }
size_mb() { stat -c %s "$1" | awk '{ printf "%.1f", $1 / 1048576 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

# record FORMAT TOOL SECONDS PEAK_MB CPU_S FILE [NOTE]
printf 'format\ttool\tseconds\tpeak_rss_mb\tcpu_s\tfile_mb\tnote\n' >"$RESULTS"
record() {
    local size=-
    [[ -f $6 ]] && size=$(size_mb "$6")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$size" "${7:-}" | tee -a "$RESULTS" >&2
}

ogr_driver() { case $1 in geojson) echo GeoJSON ;; fgb) echo FlatGeobuf ;; gpkg) echo GPKG ;; esac; }
# The issue's peer: the public columns of the table itself, no joins, no order.
OGR_SQL="SELECT id, category, status, description, created_at, supporters, geom FROM reports"
# Like for like: the 14 public fields the service writes, with the same joins and id order.
OGR_SQL_SAME="SELECT r.id, r.category, r.status, r.description, r.district_id, d.name AS district,
 r.unit_code, u.name AS unit, r.duplicate_of, r.supporters, r.near_border, r.channel, r.created_at,
 r.updated_at, r.geom FROM reports r LEFT JOIN districts d ON d.id = r.district_id
 LEFT JOIN units u ON u.code = r.unit_code JOIN statuses s ON s.code = r.status ORDER BY r.id"

# --- the server ---------------------------------------------------------------------------------
if ss -Hltn "sport = :$ZGLOS_PORT" | grep -q .; then log "port $ZGLOS_PORT is taken (ZGLOS_PORT=...)"; exit 1; fi
log "starting zglos serve on 127.0.0.1:$ZGLOS_PORT"
"$ZGLOS_BIN" serve --database-url "$DATABASE_URL" --listen "127.0.0.1:$ZGLOS_PORT" >"$OUT/zglos.log" 2>&1 &
SERVER_PID=$!
t0=$SECONDS
until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$ZGLOS_PORT/readyz" 2>/dev/null; do
    kill -0 "$SERVER_PID" 2>/dev/null || { log "zglos serve exited, see $OUT/zglos.log"; exit 1; }
    ((SECONDS - t0 < 600)) || { log "zglos serve not ready after 600 s"; exit 1; }
    sleep 0.5
done
log "zglos ready after $((SECONDS - t0)) s, RSS $(($(kb VmRSS) / 1024)) MB (holds the reports index)"

# Warm the table into the page cache, untimed, so the first timed step does not pay for it.
log "warming the reports table"
timeout "$STEP_TIMEOUT" psql -X -q -d "$DB" -c "select count(*), sum(length(ST_AsBinary(geom))), sum(length(description)) from reports" >/dev/null

# --- the runs -----------------------------------------------------------------------------------
load start
for fmt in $FORMATS; do
    drv=$(ogr_driver "$fmt")
    [[ -n $drv ]] || { log "unknown format $fmt"; exit 2; }
    load "$fmt"

    if [[ $fmt == geojson ]]; then
        log "floor: psql \\copy of one GeoJSON feature per line"
        rm -f "$WORK/floor.jsonl"
        settle
        timed floor psql -X -d "$DB" -c "\\copy (SELECT ST_AsGeoJSON(r.*)::text FROM (SELECT id, category, status, created_at, geom FROM reports) r) TO '$WORK/floor.jsonl'" &&
            record geojson "psql-copy-floor" "$(wall_s "$OUT/floor.time")" "$(rss_mb "$OUT/floor.time")" "$(cpu_s "$OUT/floor.time")" "$WORK/floor.jsonl" "lines: $(wc -l <"$WORK/floor.jsonl")"
        sleep 2
    fi

    log "$fmt: zglos export (CLI)"
    rm -f "$WORK/x.$fmt"
    settle
    timed "zglos-cli-$fmt" "$ZGLOS_BIN" export --quiet --output "$WORK/x.$fmt" --database-url "$DATABASE_URL" &&
        record "$fmt" zglos-cli "$(wall_s "$OUT/zglos-cli-$fmt.time")" "$(rss_mb "$OUT/zglos-cli-$fmt.time")" "$(cpu_s "$OUT/zglos-cli-$fmt.time")" "$WORK/x.$fmt"
    sleep 2

    log "$fmt: GET /api/v1/exports/reports.$fmt"
    rm -f "$WORK/h.$fmt"
    settle
    base=$(kb VmRSS) hwm0=$(kb VmHWM)
    reset=no
    if echo 5 >"/proc/$SERVER_PID/clear_refs" 2>/dev/null; then reset=yes; fi
    cpu0=$(awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat")
    w=$(curl -s --max-time "$STEP_TIMEOUT" -o "$WORK/h.$fmt" \
        -w '%{http_code} %{size_download} %{time_starttransfer} %{time_total}' \
        "http://127.0.0.1:$ZGLOS_PORT/api/v1/exports/reports.$fmt") || log "curl failed ($?)"
    cpu1=$(awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat")
    hwm1=$(kb VmHWM)
    read -r code bytes ttfb total <<<"$w"
    echo "http $fmt: status $code, $bytes bytes, first byte $ttfb s, total $total s; server RSS before $base kB, VmHWM before $hwm0 kB, reset: $reset, VmHWM after $hwm1 kB" >>"$OUT/http.txt"
    record "$fmt" zglos-http "$(awk -v t="$total" 'BEGIN { printf "%.2f", t }')" "$(awk -v k="$hwm1" 'BEGIN { printf "%.1f", k / 1024 }')" \
        "$(awk -v a="$cpu0" -v b="$cpu1" -v t="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (b - a) / t }')" "$WORK/h.$fmt" \
        "server peak RSS; $(awk -v b="$base" -v h="$hwm1" 'BEGIN { printf "%.1f", (h - b) / 1024 }') MB over its $(awk -v b="$base" 'BEGIN { printf "%.1f", b / 1024 }') MB before the request; HTTP $code; peak reset: $reset"
    sleep 2

    log "$fmt: ogr2ogr -f $drv (the issue's seven columns)"
    rm -f "$WORK/o.$fmt"
    settle
    timed "ogr2ogr-$fmt" ogr2ogr -f "$drv" "$WORK/o.$fmt" PG:"$PG_DSN" -sql "$OGR_SQL" &&
        record "$fmt" ogr2ogr "$(wall_s "$OUT/ogr2ogr-$fmt.time")" "$(rss_mb "$OUT/ogr2ogr-$fmt.time")" "$(cpu_s "$OUT/ogr2ogr-$fmt.time")" "$WORK/o.$fmt"
    sleep 2

    if [[ $LIKE_FOR_LIKE == 1 ]]; then
        log "$fmt: ogr2ogr -f $drv (the service's 14 columns, joins, id order)"
        rm -f "$WORK/s.$fmt"
    settle
        timed "ogr2ogr-same-$fmt" ogr2ogr -f "$drv" "$WORK/s.$fmt" PG:"$PG_DSN" -sql "$OGR_SQL_SAME" -nln reports &&
            record "$fmt" ogr2ogr-same "$(wall_s "$OUT/ogr2ogr-same-$fmt.time")" "$(rss_mb "$OUT/ogr2ogr-same-$fmt.time")" "$(cpu_s "$OUT/ogr2ogr-same-$fmt.time")" "$WORK/s.$fmt"
        sleep 2
    fi
done
load end

# --- checks: feature counts ---------------------------------------------------------------------
log "feature counts (ogrinfo -so -al)"
for fmt in $FORMATS; do
    for f in x h o s; do
        file=$WORK/$f.$fmt
        [[ -f $file ]] || continue
        timeout "$STEP_TIMEOUT" ogrinfo -ro -so -al "$file" >"$OUT/ogrinfo-$f.$fmt.txt" 2>&1 || true
        count=$(sed -n 's/^Feature Count: //p' "$OUT/ogrinfo-$f.$fmt.txt" | head -1)
        fields=$(grep -c '^[a-z_]*: ' "$OUT/ogrinfo-$f.$fmt.txt" || true)
        printf '%-8s %-40s features: %-9s fields: %s\n' "$fmt" "$(basename "$file") ($(size_mb "$file") MB)" "${count:-?}" "$fields" | tee -a "$OUT/counts.txt" >&2
    done
done
[[ -f $WORK/floor.jsonl ]] && echo "floor.jsonl lines: $(wc -l <"$WORK/floor.jsonl")" | tee -a "$OUT/counts.txt" >&2
if cmp -s "$WORK/x.geojson" "$WORK/h.geojson" 2>/dev/null; then
    echo "x.geojson (CLI) and h.geojson (HTTP) are byte-identical" | tee -a "$OUT/counts.txt" >&2
fi

# --- the table ----------------------------------------------------------------------------------
{
    echo
    echo "MB = MiB of peak resident memory (for zglos-http: the server's peak during the request)."
    echo "ratio = ogr2ogr's seconds / ours (how many times faster ours is)."
    echo
    printf '%-8s | %-16s | %-16s | %-16s | %-7s | %-7s | %-16s | %-7s\n' format "ours CLI s, MB" "ours HTTP s, MB" "ogr2ogr s, MB" "ratio" "HTTP" "ogr2ogr-same" "ratio"
    for fmt in $FORMATS; do
        get() { awk -F'\t' -v f="$fmt" -v t="$1" '$1 == f && $2 == t { print $3 " " $4 }' "$RESULTS"; }
        read -r cs cm <<<"$(get zglos-cli)"
        read -r hs hm <<<"$(get zglos-http)"
        read -r os om <<<"$(get ogr2ogr)"
        read -r qs qm <<<"$(get ogr2ogr-same)"
        printf '%-8s | %-16s | %-16s | %-16s | %-7s | %-7s | %-16s | %-7s\n' "$fmt" "${cs:--} s ${cm:--}" "${hs:--} s ${hm:--}" \
            "${os:--} s ${om:--}" "$(ratio "${os:-0}" "${cs:-0}")x" "$(ratio "${os:-0}" "${hs:-0}")x" "${qs:--} s ${qm:--}" "$(ratio "${qs:-0}" "${cs:-0}")x"
    done
    awk -F'\t' '$2 == "psql-copy-floor" { printf "floor (psql \\copy, one GeoJSON feature per line): %s s, %s MB file\n", $3, $6 }' "$RESULTS"
    echo
    cat "$OUT/uptime.txt"
} | tee "$OUT/table.txt" >&2
log "done: $OUT"
