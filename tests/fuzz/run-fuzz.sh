#!/usr/bin/env bash
# Builds and runs mime_fuzzer.cc (the MIME parser and header decoders of
# policy/content) for a bounded time on the seed corpus; ctest label "fuzz".
#   tests/fuzz/run-fuzz.sh OUT_DIR [libFuzzer flags...]   # default -max_total_time=15
# A crash, leak, sanitizer report or invariant failure (__builtin_trap) fails
# the run; the reproducer is left in OUT_DIR, the working corpus too.
source "$(dirname "${BASH_SOURCE[0]}")/fuzz-lib.sh"
out=${1:?usage: run-fuzz.sh OUT_DIR [libFuzzer flags]}
shift
mkdir -p "$out" && cd "$out"
# The engine's sources, not its command-line tools (*_main.cc have main()).
sources=()
for f in "$fuzz_src"/policy/content/*.cc; do
  case "$f" in *_main.cc) ;; *) sources+=("$f") ;; esac
done
fuzz_build "$out/mime_fuzzer" "-I $fuzz_src/policy" "re2 libpsl libidn2 absl_status absl_statusor absl_strings" \
  "${sources[@]}" "$fuzz_src/tests/fuzz/mime_fuzzer.cc"
fuzz_run "$out/mime_fuzzer" 65536 "$@" -- "$fuzz_src/tests/data/mime-seeds"
