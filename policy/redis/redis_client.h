// A pool of connections to one Redis server, with a deadline on every
// call: what the Redis counter store (ratelimit/redis_store.h) and the
// Redis policy storage (admin/redis_policy_storage.h) speak through.
//
// Connections come from a pool of at most `pool_size`; every call has a
// deadline (`timeout`, connect and the wait for a free connection
// included) and fails with DEADLINE_EXCEEDED or UNAVAILABLE, never hangs.
// A connection that failed is dropped and reopened on demand. The client
// does not connect until its first call (a daemon starts while Redis is
// down). An error reply from Redis is INTERNAL with Redis's text.
//
// Scripts are run by EVALSHA; a script Redis does not know (first use, a
// restart, SCRIPT FLUSH) is loaded once and the call retried.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

struct redisContext;
struct redisReply;

namespace hive::policy::redis {

// Every call's deadline unless configured. Far below hive-milter's 2 s
// rpc_timeout (a decision makes one or two calls, beside DNS lookups of at
// most 500 ms), yet far above a healthy Redis's sub-millisecond answer: at
// 50 ms, a scheduling stall on a loaded host failed decisions with Redis up.
inline constexpr std::chrono::nanoseconds kDefaultTimeout = std::chrono::milliseconds(250);

struct RedisClientOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::size_t pool_size = 8;
  std::chrono::nanoseconds timeout = kDefaultTimeout;
};

// "127.0.0.1:6379", "[::1]:6379" -> host, port.
absl::Status ParseHostPort(const std::string& address, std::string& host, int& port);

// A reply, freed with its last reference. Read it with <hiredis/hiredis.h>.
using ReplyPtr = std::shared_ptr<const redisReply>;

class RedisClient {
 public:
  explicit RedisClient(RedisClientOptions options);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // One command ("GET", key ...), binary-safe arguments.
  absl::StatusOr<ReplyPtr> Command(const std::vector<std::string>& argv);
  // EVALSHA of `script` (a string with static storage: its address keys
  // the SHA cache) with `keys` and `args`.
  absl::StatusOr<ReplyPtr> Eval(const char* script, const std::vector<std::string>& keys,
                                const std::vector<std::string>& args);
  // "host:port", for messages.
  std::string Where() const;

 private:
  using Deadline = std::chrono::steady_clock::time_point;
  struct Connection {
    redisContext* ctx = nullptr;
    // The socket's send and receive timeout now (0: never set).
    std::chrono::nanoseconds socket_timeout{0};
  };
  absl::StatusOr<Connection> Acquire(Deadline deadline);
  void Return(Connection conn, bool healthy);
  absl::StatusOr<ReplyPtr> Send(Connection& conn, Deadline deadline, std::span<const std::string_view> argv);

  const RedisClientOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Connection> idle_;
  std::size_t open_ = 0;
  std::map<const char*, std::string> shas_;  // guarded by mu_
};

// The string of a STRING / STATUS / ERROR reply; "" for anything else.
std::string StringOf(const redisReply* r);
// The integer of an INTEGER reply; 0 for anything else.
long long IntegerOf(const redisReply* r);

// Calls `each` with every field and value of the hash at `key`, read by
// HSCAN `page` at a time: one HGETALL of a large hash would hold Redis, and
// every other client's calls with it, for as long as it takes. A field may
// come more than once (HSCAN's contract).
absl::Status ScanHash(RedisClient& client, const std::string& key, std::size_t page,
                      const std::function<void(const std::string& field, const std::string& value)>& each);

}  // namespace hive::policy::redis
