#!/usr/bin/env bash
# Builds and runs config_fuzzer.cc (hive-policyd's YAML loading and
# CompileSnapshot) for a bounded time, seeded with the shipped and
# documented configs; ctest label "fuzz".
#   tests/fuzz/run-config-fuzz.sh OUT_DIR [libFuzzer flags...]  # default -max_total_time=15
source "$(dirname "${BASH_SOURCE[0]}")/fuzz-lib.sh"
out=${1:?usage: run-config-fuzz.sh OUT_DIR [libFuzzer flags]}
shift
mkdir -p "$out" && cd "$out"
protos=("$fuzz_src"/proto/hive/config/v1/{observability,tls,policy_config}.proto)
fuzz_protos "$out/gen" --no-grpc "${protos[@]}"
sources=()
for dir in match ratelimit redis dns content routing config; do
  for f in "$fuzz_src/policy/$dir"/*.cc; do
    [ "$(basename "$f")" = learn_main.cc ] || sources+=("$f")
  done
done
fuzz_build "$out/config_fuzzer" "-I $fuzz_src/policy -I $fuzz_src/proto -I $out/gen" \
  "protobuf yaml-cpp re2 libpsl libidn2 hiredis libcares absl_status absl_statusor absl_strings absl_str_format absl_time absl_civil_time absl_time_zone absl_flat_hash_map absl_hash" \
  "${sources[@]}" "$fuzz_src"/proto/support/{yaml_to_proto,log}.cc \
  "$out/gen/hive/config/v1/observability.pb.cc" "$out/gen/hive/config/v1/tls.pb.cc" \
  "$out/gen/hive/config/v1/policy_config.pb.cc" \
  "$fuzz_src/tests/fuzz/config_fuzzer.cc"
# Seeds: the packaged config and every policy the docs show (read only).
fuzz_run "$out/config_fuzzer" 8192 "$@" -- "$fuzz_src/tests/data/fuzz-seeds/config" \
  "$fuzz_src/deploy/config" "$fuzz_src/docs/examples"
