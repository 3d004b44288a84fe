// Closed-loop SMTP load like smtp-source -s SESSIONS -m MESSAGES: SESSIONS
// threads, each sending one message per connection (connect, EHLO, MAIL,
// RCPT x recipients, DATA, QUIT) until MESSAGES are sent or the time bound
// passes. Client-side latency of a message is connect to the 250 after the
// final dot. sessions = 1 gives the unloaded transaction latency.
// Thread-safety: Run() is called from one thread; it starts its own.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace hive::bench {

struct LoadSpec {
  uint16_t port = 0;
  std::size_t sessions = 20;
  std::size_t messages = 1000;
  std::size_t message_bytes = 5 * 1024;
  std::size_t recipients = 1;
  std::chrono::seconds max_time{60};
  std::size_t first_index = 0;  // varies senders between phases
};

struct LoadResult {
  std::size_t sent = 0;    // 250 after the final dot
  std::size_t failed = 0;  // anything else
  double seconds = 0;
  double p50_ms = 0, p99_ms = 0, mean_ms = 0;
  std::vector<double> latencies_ms;  // every sent message's, for merging rounds
  double per_second() const { return seconds > 0 ? static_cast<double>(sent) / seconds : 0; }
};

LoadResult RunSmtpLoad(const LoadSpec& spec);

}  // namespace hive::bench
