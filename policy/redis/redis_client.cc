#include "redis/redis_client.h"

#include <hiredis/hiredis.h>

#include <charconv>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace hive::policy::redis {
namespace {

using SteadyTime = std::chrono::steady_clock;

timeval ToTimeval(std::chrono::nanoseconds d) {
  if (d < std::chrono::microseconds(1)) d = std::chrono::microseconds(1);
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return timeval{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
}

bool IsError(const ReplyPtr& r) { return r->type == REDIS_REPLY_ERROR; }

}  // namespace

absl::Status ParseHostPort(const std::string& address, std::string& host, int& port) {
  const std::size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return absl::InvalidArgumentError("needs host:port");
  std::string h = address.substr(0, colon);
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  int p = 0;
  const std::string digits = address.substr(colon + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), p);
  if (ec != std::errc() || end != digits.data() + digits.size() || p <= 0 || p > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("bad port '", digits, "'"));
  }
  host = std::move(h);
  port = p;
  return absl::OkStatus();
}

std::string StringOf(const redisReply* r) {
  if (r == nullptr) return "";
  if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS ||
      r->type == REDIS_REPLY_ERROR) {
    return std::string(r->str, r->len);
  }
  return "";
}

long long IntegerOf(const redisReply* r) { return r != nullptr && r->type == REDIS_REPLY_INTEGER ? r->integer : 0; }

RedisClient::RedisClient(RedisClientOptions options) : options_(std::move(options)) {}

RedisClient::~RedisClient() {
  std::lock_guard lock(mu_);
  for (Connection& c : idle_) redisFree(c.ctx);
}

std::string RedisClient::Where() const { return absl::StrCat(options_.host, ":", options_.port); }

absl::StatusOr<RedisClient::Connection> RedisClient::Acquire(Deadline deadline) {
  {
    std::unique_lock lock(mu_);
    while (idle_.empty() && open_ >= options_.pool_size) {
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
          open_ >= options_.pool_size) {
        return absl::DeadlineExceededError("redis: no free connection before the deadline");
      }
    }
    if (!idle_.empty()) {
      Connection c = idle_.back();
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
    return absl::UnavailableError(absl::StrCat("redis ", Where(), ": ", why));
  }
  return Connection{.ctx = c};
}

void RedisClient::Return(Connection conn, bool healthy) {
  std::lock_guard lock(mu_);
  if (healthy) {
    idle_.push_back(conn);
  } else {
    redisFree(conn.ctx);
    --open_;
  }
  cv_.notify_one();
}

absl::StatusOr<ReplyPtr> RedisClient::Send(Connection& conn, Deadline deadline,
                                           std::span<const std::string_view> argv) {
  const auto left = deadline - SteadyTime::now();
  if (left <= std::chrono::nanoseconds(0)) return absl::DeadlineExceededError("redis: deadline exceeded");
  // The socket's timeout must not outlast the deadline, and should not cut
  // it much short. Calls follow each other with nearly the whole timeout
  // left, so the one set before usually fits: two system calls saved.
  if (conn.socket_timeout > left || conn.socket_timeout < left * 9 / 10) {
    redisSetTimeout(conn.ctx, ToTimeval(left));
    conn.socket_timeout = left;
  }
  redisContext* ctx = conn.ctx;
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  ptrs.reserve(argv.size());
  lens.reserve(argv.size());
  for (std::string_view a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* raw = static_cast<redisReply*>(redisCommandArgv(ctx, static_cast<int>(argv.size()), ptrs.data(), lens.data()));
  if (raw == nullptr) {
    const bool late = SteadyTime::now() >= deadline;
    const std::string why = ctx->errstr;
    return late ? absl::DeadlineExceededError(absl::StrCat("redis: deadline exceeded (", why, ")"))
                : absl::UnavailableError(absl::StrCat("redis: ", why));
  }
  return ReplyPtr(raw, [](const redisReply* r) { freeReplyObject(const_cast<redisReply*>(r)); });
}

absl::StatusOr<ReplyPtr> RedisClient::Command(const std::vector<std::string>& argv) {
  const Deadline deadline = SteadyTime::now() + options_.timeout;
  absl::StatusOr<Connection> ctx = Acquire(deadline);
  if (!ctx.ok()) return ctx.status();
  const std::vector<std::string_view> views(argv.begin(), argv.end());
  absl::StatusOr<ReplyPtr> r = Send(*ctx, deadline, views);
  Return(*ctx, r.ok());
  if (!r.ok()) return r.status();
  if (IsError(*r)) return absl::InternalError(absl::StrCat("redis: ", StringOf(r->get())));
  return r;
}

absl::StatusOr<ReplyPtr> RedisClient::Eval(const char* script, const std::vector<std::string>& keys,
                                           const std::vector<std::string>& args) {
  const Deadline deadline = SteadyTime::now() + options_.timeout;
  absl::StatusOr<Connection> ctx = Acquire(deadline);
  if (!ctx.ok()) return ctx.status();
  std::string sha;
  {
    std::lock_guard lock(mu_);
    if (auto it = shas_.find(script); it != shas_.end()) sha = it->second;
  }
  absl::StatusOr<ReplyPtr> result;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (sha.empty()) {
      const std::string_view load[] = {"SCRIPT", "LOAD", script};
      absl::StatusOr<ReplyPtr> loaded = Send(*ctx, deadline, load);
      if (!loaded.ok() || (*loaded)->type != REDIS_REPLY_STRING) {
        Return(*ctx, false);
        return loaded.ok() ? absl::InternalError("redis: SCRIPT LOAD failed") : loaded.status();
      }
      sha = StringOf(loaded->get());
      std::lock_guard lock(mu_);
      shas_[script] = sha;
    }
    // Views of the caller's strings: a decision's ~150 arguments are not
    // copied once more on their way to hiredis.
    const std::string nkeys = std::to_string(keys.size());
    std::vector<std::string_view> argv{"EVALSHA", sha, nkeys};
    argv.reserve(3 + keys.size() + args.size());
    argv.insert(argv.end(), keys.begin(), keys.end());
    argv.insert(argv.end(), args.begin(), args.end());
    result = Send(*ctx, deadline, argv);
    if (!result.ok()) {
      Return(*ctx, false);
      return result.status();
    }
    if (IsError(*result) && absl::StartsWith(StringOf(result->get()), "NOSCRIPT")) {
      sha.clear();  // Redis restarted or flushed its scripts: load again once
      continue;
    }
    break;
  }
  Return(*ctx, true);
  if (IsError(*result)) return absl::InternalError(absl::StrCat("redis script: ", StringOf(result->get())));
  return result;
}

absl::Status ScanHash(RedisClient& client, const std::string& key, std::size_t page,
                      const std::function<void(const std::string& field, const std::string& value)>& each) {
  std::string cursor = "0";
  do {
    absl::StatusOr<ReplyPtr> r = client.Command({"HSCAN", key, cursor, "COUNT", std::to_string(page)});
    if (!r.ok()) return r.status();
    const redisReply* reply = r->get();
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 || reply->element[1]->type != REDIS_REPLY_ARRAY) {
      return absl::InternalError("redis: bad HSCAN reply");
    }
    cursor = StringOf(reply->element[0]);
    const redisReply* items = reply->element[1];
    for (std::size_t i = 0; i + 1 < items->elements; i += 2) each(StringOf(items->element[i]), StringOf(items->element[i + 1]));
  } while (cursor != "0");
  return absl::OkStatus();
}

}  // namespace hive::policy::redis
