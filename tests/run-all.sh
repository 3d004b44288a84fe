#!/usr/bin/env bash
# The one command that sets up and runs every hive test on a fresh Debian 12
# machine, as root: installs what is missing, builds once (with AddressSanitizer
# and UndefinedBehaviorSanitizer, warnings as errors), runs unit and
# integration tests in parallel, prints ctest's summary, then builds and runs
# the concurrency tests under ThreadSanitizer (tests/run-tsan.sh).
#
#   tests/run-all.sh            # everything
#   tests/run-all.sh -L unit    # extra arguments go to ctest
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

[ "$(id -u)" = 0 ] || { echo "run-all: run as root (the integration tests start Postfix)" >&2; exit 1; }
./deploy/install-deps.sh

build=${HIVE_BUILD_DIR:-build/test}
jobs=$(nproc)
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHIVE_WERROR=ON \
  -DHIVE_SANITIZE=address,undefined >/dev/null
cmake --build "$build" -j "$jobs"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$build"
# Integration tests mostly wait on processes, so run more at once than cores.
status=0
ctest --output-on-failure -j "$((jobs * 2))" "$@" || status=$?
cd - >/dev/null
# Then ThreadSanitizer over the concurrency tests, a build of its own
# (skipped when ctest was given a selection, e.g. -L unit).
if [ $# -eq 0 ]; then
  tests/run-tsan.sh || status=1
fi
exit "$status"
