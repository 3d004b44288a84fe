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
#include <vector>

#include "absl/status/statusor.h"
#include "content/scorer.h"
#include "hive/config/v1/policy_config.pb.h"
#include "ratelimit/limiter.h"
#include "redis/redis_client.h"
#include "routing/router.h"
#include "support/yaml_to_proto.h"

namespace hive::policy::config {

inline constexpr char kDefaultListen[] = "127.0.0.1:7450";
inline constexpr std::uint32_t kDefaultMaxRequestBytes = 8u << 20;

struct ServerSettings {
  std::string listen = kDefaultListen;
  std::uint32_t max_request_bytes = kDefaultMaxRequestBytes;
  // Read at start only (server/listeners.h; a reload keeps the running listeners):
  // TLS of the policy listener, and the admin listener with its access.
  hive::config::v1::ServerTls tls;
  hive::config::v1::AdminServer admin;
};

// The `observability` section. metrics_listen and log_json apply at start
// only; near_limit_ratio follows reloads.
struct ObservabilitySettings {
  std::string metrics_listen;  // "" = no Prometheus endpoint
  bool log_json = false;
  double near_limit_ratio = 0.8;
};

// Where rate-limit counters live. Read once at start: a reload that
// changes it keeps the running store (and logs that a restart is needed).
struct LimitStoreSettings {
  bool redis = false;
  std::uint64_t max_buckets = 20'000'000;
  std::string redis_address;
  std::uint32_t redis_pool_size = 8;
  ratelimit::Nanos redis_timeout = redis::kDefaultTimeout;
  std::string redis_key_prefix = "hive";
  bool redis_outage_local = false;  // else tempfail
  double redis_fallback_share = 0.5;
  ratelimit::Nanos redis_retry_interval = std::chrono::seconds(1);
  // The policy lives in Redis (admin/redis_policy_storage.h), polled this often.
  bool policy_in_redis = false;
  ratelimit::Nanos policy_poll_interval = std::chrono::seconds(1);
  // The statistical classifier's model lives there too, shared by every
  // replica (content.bayes.model_in_redis, admin/shared_model.h), followed
  // at the same interval.
  bool bayes_in_redis = false;
  // So does the known-bad fingerprint list (content.fingerprints.list_in_redis).
  bool fingerprints_in_redis = false;

  friend bool operator==(const LimitStoreSettings&, const LimitStoreSettings&) = default;
};

// Degraded mode: a message class whose senders get quota leases
// (policy_config.proto DegradedClass); server/leases.h grants them.
struct LeaseClass {
  std::string message_class;  // lower case
  std::uint32_t units = 0;    // recipients per lease
  ratelimit::Nanos ttl{0};
};

struct PolicySnapshot {
  std::string source;   // the file it came from
  std::string version;  // hash of the file's bytes, 16 hex digits
  std::string text;     // those bytes ("" when compiled from a parsed config alone)
  ServerSettings server;
  ObservabilitySettings observability;
  ratelimit::LimitPolicy limits;
  LimitStoreSettings limit_store;
  std::string class_header;  // "" when messages have no class
  struct SenderClass {
    match::Matcher match;
    std::string message_class;  // lower case
  };
  std::vector<SenderClass> sender_classes;  // ratelimit.sender_classes, in order
  std::vector<LeaseClass> lease_classes;
  content::Scorer content;
  routing::Router routing;
};

using SnapshotPtr = std::shared_ptr<const PolicySnapshot>;

// A message's class: the value of class_header (lower case) when it has
// one, else the first sender_classes entry that matches, else "".
std::string MessageClassOf(const PolicySnapshot& snapshot, const match::Facts& facts);

// Validates and compiles a loaded config; `positions` locates its fields.
absl::StatusOr<SnapshotPtr> CompileSnapshot(const hive::config::v1::PolicyConfig& config,
                                            const hive::config::SourceMap& positions, std::string source,
                                            std::string version, std::string text = "");
// YAML text -> snapshot; `source_name` prefixes errors.
absl::StatusOr<SnapshotPtr> LoadSnapshotFromText(std::string_view yaml, std::string_view source_name);
absl::StatusOr<SnapshotPtr> LoadSnapshot(const std::string& path);

// The version of a config text (PolicySnapshot::version of it): 16 hex
// digits of a 64-bit FNV-1a of its bytes.
std::string ConfigVersion(std::string_view text);

}  // namespace hive::policy::config
