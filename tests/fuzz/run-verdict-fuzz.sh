#!/usr/bin/env bash
# Builds and runs verdict_fuzzer.cc (hive-milter's verdict validation,
# milter/decision.cc, on arbitrary Verdict messages) for a bounded time;
# ctest label "fuzz".
#   tests/fuzz/run-verdict-fuzz.sh OUT_DIR [libFuzzer flags...]  # default -max_total_time=15
source "$(dirname "${BASH_SOURCE[0]}")/fuzz-lib.sh"
out=${1:?usage: run-verdict-fuzz.sh OUT_DIR [libFuzzer flags]}
shift
mkdir -p "$out" && cd "$out"
proto=hive/policy/v1/policy
fuzz_protos "$out/gen" --no-grpc "$fuzz_src/proto/$proto.proto"
fuzz_build "$out/verdict_fuzzer" "-I $fuzz_src -I $out/gen" "protobuf absl_status absl_statusor absl_strings" \
  "$fuzz_src/milter/decision.cc" "$out/gen/$proto.pb.cc" "$fuzz_src/tests/fuzz/verdict_fuzzer.cc"
fuzz_run "$out/verdict_fuzzer" 16384 "$@" --
