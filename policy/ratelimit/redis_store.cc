#include "ratelimit/redis_store.h"

#include <hiredis/hiredis.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ratelimit/redis_script.h"

namespace hive::policy::ratelimit {

absl::Status ParseRedisAddress(const std::string& address, RedisStoreOptions& options) {
  return redis::ParseHostPort(address, options.host, options.port);
}

RedisStore::RedisStore(RedisStoreOptions options)
    : options_(std::move(options)),
      client_({.host = options_.host, .port = options_.port, .pool_size = options_.pool_size,
               .timeout = options_.timeout}) {}

// "{rl}" must be the first brace pair of every key (Redis hashes only the
// first one): the prefix has none (config), whatever op.key holds comes after.
std::string RedisStore::BucketKey(const BucketOp& op) const {
  if (op.kind == BucketKind::kQuota) {
    return absl::StrCat(options_.key_prefix, ":{rl}:b:", op.key, ":", op.window_start.count() / 1000000000);
  }
  return absl::StrCat(options_.key_prefix, ":{rl}:b:", op.key);
}

std::string RedisStore::LedgerKey(const std::string& transaction) const {
  return transaction.empty() ? std::string() : absl::StrCat(options_.key_prefix, ":{rl}:t:", transaction);
}

absl::StatusOr<ReserveResult> RedisStore::Run(const char* cmd, const ReserveRequest& request) {
  std::vector<std::string> keys{LedgerKey(request.transaction)};
  std::vector<std::string> args{
      cmd, std::to_string(std::max<std::int64_t>(
               1, std::chrono::duration_cast<std::chrono::milliseconds>(request.ttl).count())),
      request.once, std::to_string(request.ops.size())};
  for (const BucketOp& op : request.ops) {
    keys.push_back(BucketKey(op));
    const bool rate = op.kind == BucketKind::kRate;
    args.push_back(rate ? "r" : "q");
    args.push_back(rate ? absl::StrFormat("%.3f", op.params.emission_interval.count() / 1000.0)
                        : std::to_string(op.limit));
    args.push_back(std::to_string(rate ? op.params.burst : 0));
    args.push_back(std::to_string(op.cost));
    args.push_back(std::to_string(op.group));
    args.push_back(std::to_string(op.rule));
    args.push_back(op.token);
    args.push_back(std::to_string(op.window_end.count() / 1000000));
    args.push_back(op.usage_rule.empty() ? std::string() : TopPrefix(op.usage_rule));
    args.push_back(op.usage_key);
  }
  absl::StatusOr<redis::ReplyPtr> reply = client_.Eval(kRedisScript, keys, args);
  if (!reply.ok()) return reply.status();
  const redisReply* r = reply->get();
  if (r->type != REDIS_REPLY_ARRAY || r->elements < 2) return absl::InternalError("redis script: bad reply");
  auto at = [&](std::size_t i) -> std::int64_t {
    return i < r->elements && r->element[i]->type == REDIS_REPLY_INTEGER ? r->element[i]->integer : 0;
  };
  ReserveResult out;
  out.allowed = at(0) == 1;
  out.repeated = at(1) == 1;
  if (out.repeated) return out;
  if (r->elements != 2 + 5 * request.ops.size()) return absl::InternalError("redis script: bad reply size");
  for (std::size_t i = 0; i < request.ops.size(); ++i) {
    const std::size_t b = 2 + 5 * i;
    BucketResult br;
    br.allowed = at(b) == 1;
    br.skipped = at(b + 1) == 1;
    br.remaining = at(b + 2);
    br.retry_after = std::chrono::microseconds(at(b + 3));
    br.reset_after = std::chrono::microseconds(at(b + 4));
    out.buckets.push_back(br);
  }
  return out;
}

absl::StatusOr<ReserveResult> RedisStore::Reserve(const ReserveRequest& request) { return Run("reserve", request); }

absl::StatusOr<std::vector<BucketResult>> RedisStore::Peek(std::span<const BucketOp> ops) {
  ReserveRequest request;
  request.ops.assign(ops.begin(), ops.end());
  absl::StatusOr<ReserveResult> r = Run("peek", request);
  if (!r.ok()) return r.status();
  return std::move(r->buckets);
}

absl::Status RedisStore::Reset(std::span<const BucketOp> ops) {
  std::vector<std::string> keys{LedgerKey("")};
  for (const BucketOp& op : ops) keys.push_back(BucketKey(op));
  absl::StatusOr<redis::ReplyPtr> r = client_.Eval(kRedisScript, keys, {"reset"});
  return r.ok() ? absl::OkStatus() : r.status();
}

std::string RedisStore::TopPrefix(const std::string& rule) const {
  return absl::StrCat(options_.key_prefix, ":{rl}:top:", rule, ":");
}

absl::StatusOr<std::vector<UsageEntry>> RedisStore::Top(const std::string& rule, std::size_t n) {
  std::vector<UsageEntry> out;
  if (n == 0) return out;
  absl::StatusOr<redis::ReplyPtr> r =
      client_.Eval(kRedisScript, {LedgerKey("")}, {"top", std::to_string(n), "", "0", TopPrefix(rule)});
  if (!r.ok()) return r.status();
  const redisReply* reply = r->get();
  if (reply->type != REDIS_REPLY_ARRAY) return absl::InternalError("redis script: bad top reply");
  for (std::size_t i = 0; i + 1 < reply->elements; i += 2) {
    std::int64_t used = 0;
    (void)absl::SimpleAtoi(redis::StringOf(reply->element[i + 1]), &used);
    out.push_back({redis::StringOf(reply->element[i]), used});
  }
  return out;
}

absl::StatusOr<int> RedisStore::Commit(const std::string& transaction) {
  absl::StatusOr<redis::ReplyPtr> r = client_.Eval(kRedisScript, {LedgerKey(transaction)},
                                                    {"commit", std::to_string(kTopCapacity), "", "0"});
  if (!r.ok()) return r.status();
  return static_cast<int>(redis::IntegerOf(r->get()));
}

// Declares only the ledger: the script reads the bucket keys to give back
// from it. Correct on Redis Cluster only because every key has the {rl}
// tag and so lives in the ledger's slot (see the script's release branch).
absl::StatusOr<int> RedisStore::Release(const std::string& transaction) {
  absl::StatusOr<redis::ReplyPtr> r = client_.Eval(kRedisScript, {LedgerKey(transaction)}, {"release", "0", "", "0"});
  if (!r.ok()) return r.status();
  return static_cast<int>(redis::IntegerOf(r->get()));
}

}  // namespace hive::policy::ratelimit
