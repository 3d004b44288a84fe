#!/usr/bin/env bash
# Builds and runs session_fuzzer.cc (hive-milter's session state machine on
# random callback sequences, with the fakes of tests/milter/fakes.h) for a
# bounded time; ctest label "fuzz".
#   tests/fuzz/run-session-fuzz.sh OUT_DIR [libFuzzer flags...]  # default -max_total_time=15
source "$(dirname "${BASH_SOURCE[0]}")/fuzz-lib.sh"
out=${1:?usage: run-session-fuzz.sh OUT_DIR [libFuzzer flags]}
shift
mkdir -p "$out" && cd "$out"
proto=hive/policy/v1/policy
fuzz_protos "$out/gen" --grpc "$fuzz_src/proto/$proto.proto"
# milter/config.h names the TLS settings of the policy channel.
fuzz_protos "$out/gen" --cpp-only "$fuzz_src/proto/hive/config/v1/tls.proto"
fuzz_build "$out/session_fuzzer" "-I $fuzz_src -I $fuzz_src/proto -I $out/gen" \
  "grpc++ protobuf absl_status absl_statusor absl_strings absl_str_format absl_time" \
  "$fuzz_src"/milter/{session,decision,milter_metrics,degraded,lease_report,lease_table,sender_tag}.cc "$fuzz_src"/proto/support/{log,metrics}.cc \
  "$out/gen/$proto.pb.cc" "$out/gen/$proto.grpc.pb.cc" "$out/gen/hive/config/v1/tls.pb.cc" \
  "$fuzz_src/tests/fuzz/session_fuzzer.cc"
fuzz_run "$out/session_fuzzer" 4096 "$@" -- "$fuzz_src/tests/data/fuzz-seeds/session"
