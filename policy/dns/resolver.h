// The DNS lookups the content engine needs (DNSBL / URIBL A queries),
// behind an interface so that the lists logic can be tested with a fake and
// the real resolver (ares_resolver.h) swapped or wrapped (caching_resolver.h).
//
// Contract: LookupA() resolves every name in parallel and returns one Answer
// per name, in order, no later than `deadline` (plus scheduling): a name
// still unanswered then is kTimeout. A failure is an answer, never an
// exception or a hang.
//
// Thread-safety: implementations are safe to call from many threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace hive::policy::dns {

using Clock = std::chrono::steady_clock;

struct Answer {
  enum class Status {
    kFound,     // A records
    kNotFound,  // NXDOMAIN or no A record: not listed
    kTimeout,   // no answer by the deadline (or no capacity left to ask)
    kError,     // SERVFAIL, REFUSED, a malformed reply, a socket error
  };
  Status status = Status::kTimeout;
  std::vector<std::uint32_t> addresses;  // IPv4, host byte order (127.0.1.2 = 0x7f000102)
  std::chrono::seconds ttl{0};           // smallest TTL of the records
  std::string error;                     // what went wrong (kError, kTimeout)
};

class Resolver {
 public:
  virtual ~Resolver() = default;
  virtual std::vector<Answer> LookupA(const std::vector<std::string>& names, Clock::time_point deadline) = 0;
};

// "127.0.1.2" for 0x7f000102. Inline: the content library (and its fuzz
// build, which compiles policy/content alone) needs no DNS object file.
inline std::string Ipv4Text(std::uint32_t a) {
  return absl::StrCat(a >> 24, ".", (a >> 16) & 0xff, ".", (a >> 8) & 0xff, ".", a & 0xff);
}

}  // namespace hive::policy::dns
