// The shared Store: buckets and transaction ledgers in Redis, so that
// several hive-policyd replicas enforce one limit. Redis is the
// distributed engine; hive builds no replication of its own.
//
// One round trip per decision: Reserve/Peek/Commit/Release are each one
// EVALSHA of redis_script.cc, which does the whole operation for every
// bucket atomically on the server's TIME. Keys are
//   <prefix>:{rl}:b:<bucket>[:<quota window start>]   and   <prefix>:{rl}:t:<txn>
// One hash tag for all keys, because a decision touches buckets of several
// keys (sender, domain, IP) atomically and Redis Cluster runs a script only
// on keys of one slot: the limiter state lives on one shard of a cluster
// (scale it vertically; a million buckets are ~100 MB).
//
// Connections come from a pool of at most `pool_size`; every call has a
// deadline (`timeout`, connect and wait for a free connection included)
// and fails with DEADLINE_EXCEEDED or UNAVAILABLE, never hangs, never
// invents "allowed". A connection that failed is dropped and reopened on
// demand. Thread-safe.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ratelimit/store.h"

struct redisContext;

namespace hive::policy::ratelimit {

struct RedisStoreOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::size_t pool_size = 8;
  Nanos timeout = std::chrono::milliseconds(50);
  std::string key_prefix = "hive";
};

// "127.0.0.1:6379", "[::1]:6379" -> host, port.
absl::Status ParseRedisAddress(const std::string& address, RedisStoreOptions& options);

class RedisStore final : public Store {
 public:
  // Does not connect: the first call does (so the daemon starts while Redis
  // is down and the outage mode decides).
  explicit RedisStore(RedisStoreOptions options);
  ~RedisStore() override;

  absl::StatusOr<ReserveResult> Reserve(const ReserveRequest& request) override;
  absl::StatusOr<std::vector<BucketResult>> Peek(std::span<const BucketOp> ops) override;
  // Deletes the buckets' keys (a quota: the window of op.window_start), one
  // script call, atomic across them.
  absl::Status Reset(std::span<const BucketOp> ops) override;
  absl::StatusOr<int> Commit(const std::string& transaction) override;
  absl::StatusOr<int> Release(const std::string& transaction) override;

 private:
  struct Reply;
  using Deadline = std::chrono::steady_clock::time_point;

  absl::StatusOr<redisContext*> Acquire(Deadline deadline);
  void Return(redisContext* ctx, bool healthy);
  // Runs the script; `args` after the script's own (cmd ...).
  absl::StatusOr<std::shared_ptr<Reply>> Eval(const std::vector<std::string>& keys,
                                              const std::vector<std::string>& args);
  absl::StatusOr<ReserveResult> Run(const char* cmd, const ReserveRequest& request);
  std::string BucketKey(const BucketOp& op) const;
  std::string LedgerKey(const std::string& transaction) const;

  const RedisStoreOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<redisContext*> idle_;
  std::size_t open_ = 0;
  std::string sha_;  // of the loaded script; guarded by mu_
};

}  // namespace hive::policy::ratelimit
