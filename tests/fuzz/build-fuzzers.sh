#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang, ASan and UBSan in a
# CMake build of their own (HIVE_FUZZ=ON), so each target links the same
# library targets as the daemons and no source list is kept twice. ctest
# runs it once (test fuzz_build) before the *_fuzz tests; by hand:
#
#   tests/fuzz/build-fuzzers.sh [BUILD_DIR]     # default build/fuzz
#
# Warnings are not errors here: the GCC build is the warning gate, and a
# newer clang's new warnings must not stop the fuzzing.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-$src/build/fuzz}
cxx=$(command -v clang++ || command -v clang++-14) || {
  echo "build-fuzzers: clang++ not found (deploy/install-deps.sh installs it)" >&2
  exit 1
}
cc=$(command -v clang || command -v clang-14)
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_C_COMPILER="$cc" \
  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" -DCMAKE_C_FLAGS_DEBUG="-O1 -g" \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link" \
  -DHIVE_SANITIZE=address,undefined -DHIVE_WERROR=OFF -DHIVE_FUZZ=ON >/dev/null
cmake --build "$build" -j "$(nproc)" --target hive_fuzzers
