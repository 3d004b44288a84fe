#!/usr/bin/env bash
# Builds the milter verdict-validation libFuzzer target (verdict_fuzzer.cc)
# with clang (ASan + UBSan + libFuzzer), generating the policy protobuf code
# itself, and runs it for a bounded time. ctest runs it with label "fuzz":
#
#   tests/fuzz/run-verdict-fuzz.sh OUT_DIR [libFuzzer flags...]  # default -max_total_time=20
#
# A crash, leak, sanitizer report or broken invariant (__builtin_trap) fails
# the run; the reproducer is left in OUT_DIR, the working corpus too.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=${1:?usage: run-verdict-fuzz.sh OUT_DIR [libFuzzer flags]}
shift
flags=("$@")
[ ${#flags[@]} -gt 0 ] || flags=(-max_total_time=20)

cxx=$(command -v clang++ || command -v clang++-14 || true)
[ -n "$cxx" ] || { echo "run-verdict-fuzz: clang++ not found (deploy/install-deps.sh installs it)" >&2; exit 1; }
mkdir -p "$out/corpus" "$out/gen"
bin="$out/verdict_fuzzer"
proto="$src/proto/hive/policy/v1/policy.proto"
sources=("$src/milter/decision.cc" "$src/tests/fuzz/verdict_fuzzer.cc")
if [ ! -x "$bin" ] || [ -n "$(find "${sources[@]}" "$src/milter/decision.h" "$proto" -newer "$bin" 2>/dev/null | head -1)" ]; then
  protoc -I "$src/proto" --cpp_out="$out/gen" "$proto"
  # shellcheck disable=SC2046
  "$cxx" -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -I "$src" -I "$out/gen" "${sources[@]}" "$out/gen/hive/policy/v1/policy.pb.cc" -o "$bin.tmp" \
    $(pkg-config --cflags --libs protobuf absl_status absl_statusor absl_strings)
  mv "$bin.tmp" "$bin"
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$out"
exec "$bin" -rss_limit_mb=2048 -timeout=10 -max_len=16384 "${flags[@]}" corpus
