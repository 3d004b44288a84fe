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
// Connections and deadlines: redis/redis_client.h (a pool of at most
// `pool_size`; every call within `timeout` or DEADLINE_EXCEEDED /
// UNAVAILABLE, never a hang, never an invented "allowed"). Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ratelimit/store.h"
#include "redis/redis_client.h"

namespace hive::policy::ratelimit {

struct RedisStoreOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::size_t pool_size = 8;
  Nanos timeout = redis::kDefaultTimeout;
  std::string key_prefix = "hive";
};

// "127.0.0.1:6379", "[::1]:6379" -> host, port.
absl::Status ParseRedisAddress(const std::string& address, RedisStoreOptions& options);

class RedisStore final : public Store {
 public:
  // Does not connect: the first call does (so the daemon starts while Redis
  // is down and the outage mode decides).
  explicit RedisStore(RedisStoreOptions options);

  absl::StatusOr<ReserveResult> Reserve(const ReserveRequest& request) override;
  absl::StatusOr<std::vector<BucketResult>> Peek(std::span<const BucketOp> ops) override;
  // Deletes the buckets' keys (a quota: the window of op.window_start), one
  // script call, atomic across them.
  absl::Status Reset(std::span<const BucketOp> ops) override;
  // Today's (the server's UTC day) sorted set <prefix>:{rl}:top:<rule>:<day>,
  // kept at kTopCapacity members by the commit script; two days' TTL.
  absl::StatusOr<std::vector<UsageEntry>> Top(const std::string& rule, std::size_t n) override;
  absl::StatusOr<int> Commit(const std::string& transaction) override;
  absl::StatusOr<int> Release(const std::string& transaction) override;

 private:
  absl::StatusOr<ReserveResult> Run(const char* cmd, const ReserveRequest& request);
  std::string BucketKey(const BucketOp& op) const;
  std::string LedgerKey(const std::string& transaction) const;
  std::string TopPrefix(const std::string& rule) const;

  const RedisStoreOptions options_;
  redis::RedisClient client_;
};

}  // namespace hive::policy::ratelimit
