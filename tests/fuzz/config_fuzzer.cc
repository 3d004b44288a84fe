// libFuzzer target: hive-policyd's configuration loading on arbitrary
// text — YAML parsing into the config proto (proto/support/yaml_to_proto)
// and compilation into a snapshot (policy/config CompileSnapshot: limits,
// key templates, content rules and RE2 patterns, metas, routing, warm-up),
// exactly what --check, start and SIGHUP reload run. Invariants
// (__builtin_trap): no crash, leak or sanitizer report; a refusal always
// says why; an accepted config yields a snapshot. Relative paths in the
// YAML resolve inside the fuzzer's working directory. Built by
// tests/fuzz/build-fuzzers.sh with clang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/snapshot.h"
#include "support/log.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = [] {
    hive::log::Init({.ident = "fuzz", .to_syslog = false, .to_stderr = false});
    return true;
  }();
  (void)quiet;
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<hive::policy::config::SnapshotPtr> snapshot = hive::policy::config::LoadSnapshotFromText(yaml, "fuzz.yaml");
  if (snapshot.ok() ? *snapshot == nullptr : snapshot.status().message().empty()) __builtin_trap();
  return 0;
}
