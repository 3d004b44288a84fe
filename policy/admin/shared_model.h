// The statistical classifier's model kept in Redis beside the counters and
// shared by every replica (content.bayes.model_in_redis), instead of each
// replica's own file: a message learned through any replica's admin API is
// scored by all of them.
//
// In Redis (one hash tag, so Redis Cluster keeps them together):
//   <prefix>:{bayes}:tokens  hash: 8-byte token -> 12 bytes (u32 spam,
//                            u32 ham, f32 weight), little-endian
//   <prefix>:{bayes}:meta    hash: version (+1 per learn), spam_learns,
//                            ham_learns, tokenizer_version, flags
//
// SharedModel::Learn reads the stored values of the message's tokens and
// the totals, learns the message into that partial model with the
// classifier's own rule (content::LearnInto, the same numbers the whole
// model would give) and writes them back in one script that first checks
// no other learn landed since the read; if one did, it reads again (a few
// times, then UNAVAILABLE). The learning replica's classifier takes the same
// values at once; the others load the new version at their next poll.
//
// A SharedFollower (shared_follower.h) keeps every replica's classifier in
// step: a new version is loaded whole (HSCAN, in pages), and an empty Redis
// is seeded from a replica's stats_db.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "admin/shared_follower.h"
#include "content/classifier.h"
#include "redis/redis_client.h"

namespace hive::policy::admin {

struct SharedModelTotals {
  std::uint64_t spam_learns = 0;
  std::uint64_t ham_learns = 0;
  std::uint64_t version = 0;
};

class SharedModel final : public SharedObject {
 public:
  SharedModel(redis::RedisClient& client, const std::string& key_prefix);

  absl::StatusOr<SharedModelTotals> Learn(content::Classifier& local, std::span<const std::uint64_t> features,
                                          bool is_spam);
  // The whole stored model for `local` (its features must match), and the
  // version it is.
  absl::StatusOr<std::pair<content::TokenStore, std::uint64_t>> LoadModel(const content::Classifier& local) const;
  // Stores `model` when nothing is stored; false when something was.
  absl::StatusOr<bool> Seed(const content::TokenStore& model) const;

  // SharedObject: what SharedFollower keeps in the snapshots' classifiers.
  std::string Describe() const override;
  absl::StatusOr<std::uint64_t> Version() const override;  // 0: no model stored
  bool In(const config::PolicySnapshot& snapshot) const override;
  absl::StatusOr<bool> SeedFrom(const config::PolicySnapshot& snapshot) const override;
  absl::StatusOr<Loaded> Load(const config::PolicySnapshot& snapshot) const override;

 private:
  redis::RedisClient& client_;
  const std::string meta_key_;
  const std::string tokens_key_;
};

}  // namespace hive::policy::admin
