#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo-fuzz, libFuzzer) of the parsers and encoders that take input
# from outside: the report JSON body, CQL2 text and JSON, the Open311 form, the MVT clipper and
# encoder, the photo decoder. Each target runs FUZZ_SECONDS (default 10) from its committed corpus
# under fuzz/corpus/<target>/ on one core, with a 512 MB memory limit; a crash, a panic, a
# timeout or an allocation past the limit fails the script and leaves the input in
# fuzz/artifacts/<target>/.
#   scripts/fuzz.sh                      # every target, FUZZ_SECONDS each
#   FUZZ_SECONDS=600 scripts/fuzz.sh photo mvt_clip
# New corpus entries found on the way go to a scratch folder, not into the repository.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
export SQLX_OFFLINE=true
ensure_cargo_fuzz

FUZZ_SECONDS="${FUZZ_SECONDS:-10}"
# The instrumented build is large (~8 min from nothing on 2 cores): keep it outside the work tree
# so that every clone on this machine reuses it.
FUZZ_TARGET_DIR="${FUZZ_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/zglos/fuzz-target}"
mkdir -p "$FUZZ_TARGET_DIR"
TARGETS=("$@")
[ "${#TARGETS[@]}" -gt 0 ] || TARGETS=(report_json cql2_text cql2_json open311_form mvt_clip photo)

say "building the fuzz targets (nightly, $FUZZ_TARGET_DIR)"
(cd fuzz && cargo +nightly fuzz build --debug-assertions --sanitizer none --target-dir "$FUZZ_TARGET_DIR")

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for t in "${TARGETS[@]}"; do
  say "fuzzing $t for ${FUZZ_SECONDS}s"
  mkdir -p "$scratch/$t" "fuzz/artifacts/$t"
  (cd fuzz && cargo +nightly fuzz run --debug-assertions --sanitizer none --target-dir "$FUZZ_TARGET_DIR" "$t" \
    "$scratch/$t" "corpus/$t" -- \
    -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=512 -malloc_limit_mb=512 -timeout=10 \
    -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="artifacts/$t/" 2>"$scratch/$t.log") || {
      # The panic message and the offending input come first: the log's tail alone can lose them.
      grep -m1 -A4 -E 'panicked at|ERROR: libFuzzer|SUMMARY' "$scratch/$t.log" >&2 || true
      tail -n 40 "$scratch/$t.log" >&2
      die "fuzz target $t failed: the input is in fuzz/artifacts/$t/"
    }
  grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$scratch/$t.log" | tr '\n' ' ' >&2
  echo >&2
done
