#include "ratelimit/redis_store.h"

#include <hiredis/hiredis.h>

#include <charconv>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ratelimit/redis_script.h"

namespace hive::policy::ratelimit {
namespace {

using SteadyTime = std::chrono::steady_clock;

timeval ToTimeval(std::chrono::nanoseconds d) {
  if (d < std::chrono::microseconds(1)) d = std::chrono::microseconds(1);
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return timeval{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
}

}  // namespace

struct RedisStore::Reply {
  redisReply* r = nullptr;
  ~Reply() {
    if (r != nullptr) freeReplyObject(r);
  }
};

absl::Status ParseRedisAddress(const std::string& address, RedisStoreOptions& options) {
  const std::size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return absl::InvalidArgumentError("needs host:port");
  std::string host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = 0;
  const std::string p = address.substr(colon + 1);
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (ec != std::errc() || end != p.data() + p.size() || port <= 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("bad port '", p, "'"));
  }
  options.host = host;
  options.port = port;
  return absl::OkStatus();
}

RedisStore::RedisStore(RedisStoreOptions options) : options_(std::move(options)) {}

RedisStore::~RedisStore() {
  std::lock_guard lock(mu_);
  for (redisContext* c : idle_) redisFree(c);
}

absl::StatusOr<redisContext*> RedisStore::Acquire(Deadline deadline) {
  {
    std::unique_lock lock(mu_);
    while (idle_.empty() && open_ >= options_.pool_size) {
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
          open_ >= options_.pool_size) {
        return absl::DeadlineExceededError("redis: no free connection before the deadline");
      }
    }
    if (!idle_.empty()) {
      redisContext* c = idle_.back();
      idle_.pop_back();
      return c;
    }
    ++open_;
  }
  const auto left = deadline - SteadyTime::now();
  redisContext* c = redisConnectWithTimeout(options_.host.c_str(), options_.port, ToTimeval(left));
  if (c == nullptr || c->err != 0) {
    const std::string why = c == nullptr ? "out of memory" : c->errstr;
    if (c != nullptr) redisFree(c);
    std::lock_guard lock(mu_);
    --open_;
    cv_.notify_one();
    return absl::UnavailableError(absl::StrCat("redis ", options_.host, ":", options_.port, ": ", why));
  }
  return c;
}

void RedisStore::Return(redisContext* ctx, bool healthy) {
  std::lock_guard lock(mu_);
  if (healthy) {
    idle_.push_back(ctx);
  } else {
    redisFree(ctx);
    --open_;
  }
  cv_.notify_one();
}

absl::StatusOr<std::shared_ptr<RedisStore::Reply>> RedisStore::Eval(const std::vector<std::string>& keys,
                                                                    const std::vector<std::string>& args) {
  const Deadline deadline = SteadyTime::now() + options_.timeout;
  absl::StatusOr<redisContext*> ctx = Acquire(deadline);
  if (!ctx.ok()) return ctx.status();
  auto command = [&](const std::vector<std::string>& argv) -> absl::StatusOr<std::shared_ptr<Reply>> {
    const auto left = deadline - SteadyTime::now();
    if (left <= std::chrono::nanoseconds(0)) return absl::DeadlineExceededError("redis: deadline exceeded");
    redisSetTimeout(*ctx, ToTimeval(left));
    std::vector<const char*> ptrs;
    std::vector<size_t> lens;
    for (const std::string& a : argv) {
      ptrs.push_back(a.data());
      lens.push_back(a.size());
    }
    auto reply = std::make_shared<Reply>();
    reply->r = static_cast<redisReply*>(
        redisCommandArgv(*ctx, static_cast<int>(argv.size()), ptrs.data(), lens.data()));
    if (reply->r == nullptr) {
      const bool late = SteadyTime::now() >= deadline;
      const std::string why = (*ctx)->errstr;
      return late ? absl::DeadlineExceededError(absl::StrCat("redis: deadline exceeded (", why, ")"))
                  : absl::UnavailableError(absl::StrCat("redis: ", why));
    }
    return reply;
  };
  auto load = [&]() -> absl::Status {
    absl::StatusOr<std::shared_ptr<Reply>> r = command({"SCRIPT", "LOAD", kRedisScript});
    if (!r.ok()) return r.status();
    if ((*r)->r->type != REDIS_REPLY_STRING) return absl::InternalError("redis: SCRIPT LOAD failed");
    std::lock_guard lock(mu_);
    sha_.assign((*r)->r->str, (*r)->r->len);
    return absl::OkStatus();
  };
  std::string sha;
  {
    std::lock_guard lock(mu_);
    sha = sha_;
  }
  absl::StatusOr<std::shared_ptr<Reply>> result;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (sha.empty()) {
      if (absl::Status s = load(); !s.ok()) {
        Return(*ctx, false);
        return s;
      }
      std::lock_guard lock(mu_);
      sha = sha_;
    }
    std::vector<std::string> argv{"EVALSHA", sha, std::to_string(keys.size())};
    argv.insert(argv.end(), keys.begin(), keys.end());
    argv.insert(argv.end(), args.begin(), args.end());
    result = command(argv);
    if (!result.ok()) {
      Return(*ctx, false);
      return result.status();
    }
    const redisReply* r = (*result)->r;
    if (r->type == REDIS_REPLY_ERROR && absl::StartsWith(std::string(r->str, r->len), "NOSCRIPT")) {
      sha.clear();  // Redis restarted or flushed its scripts: load again once
      continue;
    }
    break;
  }
  Return(*ctx, true);
  const redisReply* r = (*result)->r;
  if (r->type == REDIS_REPLY_ERROR) {
    return absl::InternalError(absl::StrCat("redis script: ", std::string(r->str, r->len)));
  }
  return result;
}

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
  }
  absl::StatusOr<std::shared_ptr<Reply>> reply = Eval(keys, args);
  if (!reply.ok()) return reply.status();
  const redisReply* r = (*reply)->r;
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
  absl::StatusOr<std::shared_ptr<Reply>> r = Eval(keys, {"reset"});
  return r.ok() ? absl::OkStatus() : r.status();
}

absl::StatusOr<int> RedisStore::Commit(const std::string& transaction) {
  absl::StatusOr<std::shared_ptr<Reply>> r = Eval({LedgerKey(transaction)}, {"commit", "0", "", "0"});
  if (!r.ok()) return r.status();
  return static_cast<int>((*r)->r->type == REDIS_REPLY_INTEGER ? (*r)->r->integer : 0);
}

// Declares only the ledger: the script reads the bucket keys to give back
// from it. Correct on Redis Cluster only because every key has the {rl}
// tag and so lives in the ledger's slot (see the script's release branch).
absl::StatusOr<int> RedisStore::Release(const std::string& transaction) {
  absl::StatusOr<std::shared_ptr<Reply>> r = Eval({LedgerKey(transaction)}, {"release", "0", "", "0"});
  if (!r.ok()) return r.status();
  return static_cast<int>((*r)->r->type == REDIS_REPLY_INTEGER ? (*r)->r->integer : 0);
}

}  // namespace hive::policy::ratelimit
