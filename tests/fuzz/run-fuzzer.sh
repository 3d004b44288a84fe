#!/usr/bin/env bash
# Runs one libFuzzer target built by build-fuzzers.sh, bounded, on a working
# corpus in OUT_DIR plus read-only seed directories. A crash, leak,
# sanitizer report or broken invariant (__builtin_trap) fails the run and
# leaves the reproducer in OUT_DIR.
#
#   tests/fuzz/run-fuzzer.sh BIN OUT_DIR MAX_LEN [libFuzzer flags...] [-- SEED_DIR...]
#
# A longer run: ... -max_total_time=600; a replay: ... OUT_DIR/crash-<sha1>
# (an existing file among the flags runs just that input).
set -euo pipefail
bin=${1:?usage: run-fuzzer.sh BIN OUT_DIR MAX_LEN [flags...] [-- SEED_DIR...]}
out=${2:?OUT_DIR}
max_len=${3:?MAX_LEN}
shift 3
flags=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do flags+=("$1"); shift; done
[ $# -gt 0 ] && shift
bin=$(realpath -m "$bin")
[ -x "$bin" ] || { echo "run-fuzzer: $bin not built (tests/fuzz/build-fuzzers.sh)" >&2; exit 1; }
[ ${#flags[@]} -gt 0 ] || flags=(-max_total_time=15)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
for f in "${flags[@]}"; do
  [ -f "$f" ] && exec "$bin" "${flags[@]}"
done
mkdir -p "$out/corpus" && cd "$out"
exec "$bin" -rss_limit_mb=2048 -timeout=10 -max_len="$max_len" "${flags[@]}" corpus "$@"
