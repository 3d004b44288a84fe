// The known-bad fingerprint list kept in Redis beside the counters and
// shared by every replica (content.fingerprints.list_in_redis), instead of
// each replica's own file: a campaign marked through any replica's admin
// API (hivectl fingerprint add) is refused by all of them.
//
// In Redis (one hash tag):
//   <prefix>:{fingerprints}:list  hash: 16 hex digits -> label
//   <prefix>:{fingerprints}:meta  hash: version (+1 per change)
// Add and Remove are one script each (the change and the version together);
// the replica that made the change applies it to its own list at once, the
// others load the new version at their next poll (shared_follower.h). An
// empty Redis is seeded from a replica's file.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "admin/shared_follower.h"
#include "content/fingerprint.h"
#include "redis/redis_client.h"

namespace hive::policy::admin {

class SharedFingerprints final : public SharedObject {
 public:
  SharedFingerprints(redis::RedisClient& client, const std::string& key_prefix);

  // Adds (or relabels; the label checked as FingerprintStore::Add does) and
  // returns how many are stored; `local` takes the same change.
  absl::StatusOr<std::size_t> Add(content::FingerprintStore& local, std::uint64_t fingerprint, std::string label);
  struct Removed {
    bool changed = false;  // false: it was not stored
    std::size_t stored = 0;
  };
  absl::StatusOr<Removed> Remove(content::FingerprintStore& local, std::uint64_t fingerprint);

  // SharedObject: what SharedFollower keeps in the snapshots' lists.
  std::string Describe() const override;
  absl::StatusOr<std::uint64_t> Version() const override;  // 0: no list stored
  bool In(const config::PolicySnapshot& snapshot) const override;
  absl::StatusOr<bool> SeedFrom(const config::PolicySnapshot& snapshot) const override;
  absl::StatusOr<Loaded> Load(const config::PolicySnapshot& snapshot) const override;

 private:
  redis::RedisClient& client_;
  const std::string meta_key_;
  const std::string list_key_;
};

}  // namespace hive::policy::admin
