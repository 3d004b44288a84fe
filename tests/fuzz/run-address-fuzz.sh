#!/usr/bin/env bash
# Builds and runs address_fuzzer.cc (policy/match address and IP parsing)
# for a bounded time; ctest label "fuzz".
#   tests/fuzz/run-address-fuzz.sh OUT_DIR [libFuzzer flags...]  # default -max_total_time=15
source "$(dirname "${BASH_SOURCE[0]}")/fuzz-lib.sh"
out=${1:?usage: run-address-fuzz.sh OUT_DIR [libFuzzer flags]}
shift
mkdir -p "$out" && cd "$out"
fuzz_build "$out/address_fuzzer" "-I $fuzz_src/policy" "absl_status absl_statusor absl_strings" \
  "$fuzz_src"/policy/match/{facts,ip}.cc "$fuzz_src/tests/fuzz/address_fuzzer.cc"
fuzz_run "$out/address_fuzzer" 512 "$@" -- "$fuzz_src/tests/data/fuzz-seeds/address"
