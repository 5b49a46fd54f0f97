# Helpers shared by bench/run.sh and bench/heatmap.sh (sourced after OUT and DB are set).

# The SQL statements are checked at build time against .sqlx/, never against the bench database.
export SQLX_OFFLINE=true

log() { printf '[%s] %s\n' "$(date +%T)" "$*" | tee -a "$OUT/run.log" >&2; }
psql_q() { psql -X -q -v ON_ERROR_STOP=1 -d "$DB" "$@"; }

port_free() { ! ss -Hltn "sport = :$1" | grep -q .; }

# wait_http URL SECONDS PID: until URL answers 2xx, the process dies, or time runs out.
wait_http() {
    local url=$1 secs=$2 pid=$3 t0=$SECONDS
    while ((SECONDS - t0 < secs)); do
        if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then return 0; fi
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.5
    done
    return 1
}

# N and seed of the reports loaded by run.sh, as "n=… seed=…" (empty when none).
loaded() { psql -X -At -d "$DB" -c "select string_agg(key || '=' || value, ' ' order by key) from bench_meta where key in ('n', 'seed')" 2>/dev/null || true; }
