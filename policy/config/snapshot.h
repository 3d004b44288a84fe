// The policy configuration compiled for use: parsed CIDRs, compiled RE2,
// key templates, pools. Built whole from one config file or not at all.
//
//   absl::StatusOr<SnapshotPtr> s = LoadSnapshot("/etc/hive/policyd.yaml");
//
// A load error lists every problem found, one per line, each naming
// file:line:col and the field path ("policyd.yaml:14:12:
// limits[0].windows[0].limit: must be at least 1"). A snapshot is
// immutable and shared (std::shared_ptr<const PolicySnapshot>): a request
// holds the one it started with until it ends, whatever reloads happen.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "content/scorer.h"
#include "hive/config/v1/policy_config.pb.h"
#include "ratelimit/limiter.h"
#include "routing/router.h"
#include "support/yaml_to_proto.h"

namespace hive::policy::config {

inline constexpr char kDefaultListen[] = "127.0.0.1:7450";
inline constexpr std::uint32_t kDefaultMaxRequestBytes = 8u << 20;

struct ServerSettings {
  std::string listen = kDefaultListen;
  std::uint32_t max_request_bytes = kDefaultMaxRequestBytes;
};

struct PolicySnapshot {
  std::string source;   // the file it came from
  std::string version;  // hash of the file's bytes, 16 hex digits
  ServerSettings server;
  ratelimit::LimitPolicy limits;
  content::Scorer content;
  routing::Router routing;
};

using SnapshotPtr = std::shared_ptr<const PolicySnapshot>;

// Validates and compiles a loaded config; `positions` locates its fields.
absl::StatusOr<SnapshotPtr> CompileSnapshot(const hive::config::v1::PolicyConfig& config,
                                            const hive::config::SourceMap& positions, std::string source,
                                            std::string version);
// YAML text -> snapshot; `source_name` prefixes errors.
absl::StatusOr<SnapshotPtr> LoadSnapshotFromText(std::string_view yaml, std::string_view source_name);
absl::StatusOr<SnapshotPtr> LoadSnapshot(const std::string& path);

}  // namespace hive::policy::config
