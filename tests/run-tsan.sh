#!/usr/bin/env bash
# ThreadSanitizer over the tests with real concurrency (issue 8): a build of
# its own (build/tsan, -fsanitize=thread) of only these test targets and the
# libraries they link, then each test binary run in full. tests/run-all.sh
# calls it after the main ctest; it also runs alone:
#
#   tests/run-tsan.sh
#
# - policy_ratelimit_test: the limiter and the sharded in-memory store
#   (LimiterFeaturesTest.ExactUnderConcurrency);
# - milter_lease_table_test: the milter's lease table, spenders against the
#   reporter (LeaseTableConcurrencyTest);
# - policy_decision_bus_test: the live decision stream's publishers and
#   subscribers;
# - support_metrics_test: the metrics registry incremented from threads
#   while rendered, and its HTTP endpoint.
# Each target links only its own small library, so that the build stays
# small on a 2-core machine without a compiler cache. The gRPC handlers of
# hive-policyd are not here: they need the whole engine built again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=${HIVE_TSAN_BUILD_DIR:-build/tsan}
tests=(
  tests/policy/policy_ratelimit_test
  tests/milter/milter_lease_table_test
  tests/policy/policy_decision_bus_test
  tests/proto/support_metrics_test
)
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHIVE_WERROR=ON -DHIVE_SANITIZE=thread >/dev/null
targets=()
for t in "${tests[@]}"; do targets+=("${t##*/}"); done
cmake --build "$build" -j "$(nproc)" --target "${targets[@]}"

# A report fails the binary (exit 66) and names both stacks.
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
status=0
for t in "${tests[@]}"; do
  echo "run-tsan: ${t##*/}"
  "$build/$t" --gtest_brief=1 || status=1
done
[ "$status" = 0 ] && echo "run-tsan: no data race in ${#tests[@]} test binaries"
exit "$status"
