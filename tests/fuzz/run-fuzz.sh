#!/usr/bin/env bash
# Builds the MIME/header-decoder libFuzzer target with clang (ASan + UBSan +
# libFuzzer; the main build may be g++) and runs it for a bounded time on the
# seed corpus. ctest runs it with the "fuzz" label:
#
#   tests/fuzz/run-fuzz.sh OUT_DIR [libFuzzer flags...]   # default -max_total_time=20
#
# A crash, leak, sanitizer report or invariant failure (__builtin_trap) fails
# the run; the reproducer is left in OUT_DIR. The working corpus lives in
# OUT_DIR too, never in the source tree.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=${1:?usage: run-fuzz.sh OUT_DIR [libFuzzer flags]}
shift
flags=("$@")
[ ${#flags[@]} -gt 0 ] || flags=(-max_total_time=20)

cxx=$(command -v clang++ || command -v clang++-14 || true)
[ -n "$cxx" ] || { echo "run-fuzz: clang++ not found (deploy/install-deps.sh installs it)" >&2; exit 1; }
mkdir -p "$out/corpus"
bin="$out/mime_fuzzer"
# The engine's sources, not its command-line tools (*_main.cc have main()).
sources=("$src/tests/fuzz/mime_fuzzer.cc")
for f in "$src"/policy/content/*.cc; do
  case "$f" in *_main.cc) ;; *) sources+=("$f") ;; esac
done
# Rebuild only when a source is newer than the binary.
if [ ! -x "$bin" ] || [ -n "$(find "${sources[@]}" "$src"/policy/content/*.h -newer "$bin" 2>/dev/null | head -1)" ]; then
  # shellcheck disable=SC2046
  "$cxx" -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -I "$src/policy" "${sources[@]}" -o "$bin.tmp" \
    $(pkg-config --cflags --libs re2 absl_status absl_statusor absl_strings)
  mv "$bin.tmp" "$bin"
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$out"
# New inputs go to the working corpus; the seeds are read only.
exec "$bin" -rss_limit_mb=2048 -timeout=10 -max_len=65536 "${flags[@]}" corpus "$src/tests/data/mime-seeds"
