// The policy of every hive-policyd replica, in Redis (ratelimit.store kind
// redis, unless policy_in_file). Keys, all with the hash tag {policy} so
// that one script can change them together on Redis Cluster:
//   <prefix>:{policy}:head        the current version
//   <prefix>:{policy}:v:<version> a version's YAML text (kept: rollbacks)
//   <prefix>:{policy}:seq         the last history sequence number
//   <prefix>:{policy}:history     list of "<seq> <JSON HistoryEntry>", newest
//                                 first, at most kMaxHistory entries
// Publish is one Lua script: it compares head with the expected version
// and, only if equal, stores the text, moves head and appends the entry,
// atomically: two replicas applying at once cannot both win.
//
// Every call is bounded by the client's deadline (redis/redis_client.h).
// Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "admin/policy_storage.h"
#include "redis/redis_client.h"

namespace hive::policy::admin {

class RedisPolicyStorage final : public PolicyStorage {
 public:
  static constexpr std::size_t kMaxHistory = 10000;

  // `client` must outlive the storage. `key_prefix` has no braces (config).
  RedisPolicyStorage(redis::RedisClient& client, std::string key_prefix);

  absl::StatusOr<PolicyText> Head() const override;
  absl::StatusOr<std::string> HeadVersion() const override;
  absl::StatusOr<std::string> Text(std::string_view version) const override;
  absl::StatusOr<std::uint64_t> Publish(const PolicyText& text, std::string_view expected,
                                        hive::admin::v1::HistoryEntry entry) override;
  absl::StatusOr<std::uint64_t> Append(hive::admin::v1::HistoryEntry entry) override;
  absl::StatusOr<std::vector<hive::admin::v1::HistoryEntry>> History(std::size_t limit) const override;
  std::string Describe() const override { return "redis " + client_.Where(); }

  // Key names, for tests and operators.
  std::string HeadKey() const { return prefix_ + "head"; }
  std::string VersionKey(std::string_view version) const { return prefix_ + "v:" + std::string(version); }

 private:
  redis::RedisClient& client_;
  const std::string prefix_;  // "<key_prefix>:{policy}:"
};

}  // namespace hive::policy::admin
