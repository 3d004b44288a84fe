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
// SharedModelFollower polls the version every `interval` and, when it
// changed, loads the whole model (HSCAN, in pages) and installs it in the
// running snapshot's classifier, and in each new snapshot's (a reload opens
// the classifier from stats_db again). An empty Redis is seeded from the
// running classifier when it has learned anything (stats_db, as the policy
// file seeds the policy). Failures are logged once per cause; scoring goes
// on with the model it has.
//
// Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "config/snapshot_holder.h"
#include "content/classifier.h"
#include "ratelimit/clock.h"
#include "redis/redis_client.h"

namespace hive::policy::admin {

struct SharedModelTotals {
  std::uint64_t spam_learns = 0;
  std::uint64_t ham_learns = 0;
  std::uint64_t version = 0;
};

class SharedModel {
 public:
  SharedModel(redis::RedisClient& client, const std::string& key_prefix);

  absl::StatusOr<SharedModelTotals> Learn(content::Classifier& local, std::span<const std::uint64_t> features,
                                          bool is_spam);
  // 0: no model stored.
  absl::StatusOr<std::uint64_t> Version() const;
  // The whole stored model for `local` (its features must match), and the
  // version it is.
  absl::StatusOr<std::pair<content::TokenStore, std::uint64_t>> Load(const content::Classifier& local) const;
  // Stores `model` when nothing is stored; false when something was.
  absl::StatusOr<bool> Seed(const content::TokenStore& model) const;
  std::string Describe() const;

 private:
  redis::RedisClient& client_;
  const std::string meta_key_;
  const std::string tokens_key_;
};

class SharedModelFollower {
 public:
  // Installs into holder.Get()->content.classifier() (none: nothing to do).
  SharedModelFollower(SharedModel& model, config::SnapshotHolder& holder, ratelimit::Nanos interval);
  ~SharedModelFollower();

  // Polls once now (start, SIGHUP); the thread polls every interval.
  absl::Status PollOnce();
  void Start();
  void Stop();
  // For a new snapshot (SnapshotHolder observer): its classifier gets the
  // last loaded model.
  void Follow(const config::PolicySnapshot& snapshot);

  struct State {
    std::uint64_t version = 0;  // loaded last (0: none yet)
    std::string error;          // why the last poll failed, "" when it did not
  };
  State state() const;
  const SharedModel& model() const { return model_; }

 private:
  absl::Status Poll();
  void Report(const absl::Status& s);

  SharedModel& model_;
  config::SnapshotHolder& holder_;
  const ratelimit::Nanos interval_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::uint64_t installed_version_ = 0;
  std::shared_ptr<const content::TokenStore> last_;  // as of installed_version_
  std::string error_;                               // reported once
  std::thread thread_;
};

}  // namespace hive::policy::admin
