// The real resolver: c-ares (Debian libc-ares-dev), non-blocking, driven by
// poll() on the calling thread until every answer is in or the deadline
// passes, when the pending queries are cancelled.
//
// Why c-ares and not res_nquery on a thread pool: res_nquery blocks, its
// timeout is whole seconds per try (resolv.conf `timeout:`), and a thread
// stuck on a dead server cannot be cancelled, so a slow resolver would hold
// pool threads past the message's deadline and starve the next messages.
// c-ares sends all of a message's queries at once from the request thread,
// retransmits on a millisecond timer and cancels cleanly at the deadline;
// nothing outlives the call.
//
// Bounded concurrency: at most `max_concurrent` lookups run at once, each on
// its own c-ares channel from a pool (a channel is not thread-safe in c-ares
// 1.18); a caller that finds none free waits for one until its deadline and
// then gets kTimeout answers ("resolver busy"). Each lookup sends at most
// the names it is given (the caller caps them).
//
// Thread-safety: LookupA() is safe from many threads.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dns/resolver.h"

namespace hive::policy::dns {

struct AresOptions {
  // "127.0.0.1:5353", "[::1]:53", "192.0.2.53" (port 53); empty: the
  // servers of /etc/resolv.conf.
  std::vector<std::string> servers;
  int max_concurrent = 64;
  // Retransmission timer of one try (c-ares ARES_OPT_TIMEOUTMS) and tries
  // per server; the caller's deadline cuts them short in any case.
  std::chrono::milliseconds try_timeout{200};
  int tries = 3;
};

class AresResolver final : public Resolver {
 public:
  static absl::StatusOr<std::shared_ptr<AresResolver>> Create(AresOptions options);
  ~AresResolver() override;

  std::vector<Answer> LookupA(const std::vector<std::string>& names, Clock::time_point deadline) override;

 private:
  struct Channel;
  explicit AresResolver(AresOptions options);
  absl::StatusOr<std::unique_ptr<Channel>> NewChannel() const;
  // A free channel (made on demand up to max_concurrent), or null at the deadline.
  std::unique_ptr<Channel> Acquire(Clock::time_point deadline);
  void Release(std::unique_ptr<Channel> channel);

  const AresOptions options_;
  std::mutex mu_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<Channel>> idle_;
  int open_ = 0;  // channels in existence (idle or in use)
};

}  // namespace hive::policy::dns
