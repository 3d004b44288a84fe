// The "realistic policy" every benchmark runs hive-policyd with (issue 9):
// 10 throttle rules with limits far above what a run sends (nothing is
// refused, but every rule matches and is counted), 300 content rules (RE2,
// mostly body, some subject and header targets; only a few weak ones match
// the bench messages) and 4 pools with routing rules. Also the senders,
// recipients and message bodies the load generators use, so that both
// benchmarks exercise the same rules.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>

namespace hive::bench {

// `limits` false: the same without the 10 throttle rules (a deployment that
// scores and routes only; hive-bench-e2e --no-limits).
std::string RealisticPolicyYaml(const std::string& listen, bool limits = true);
// The n-th sender of a run: 8 domains (routing and limits match on them),
// 200 local parts (many limit buckets).
std::string BenchSender(std::size_t n);
// The n-th recipient: 16 destination domains.
std::string BenchRecipient(std::size_t n);
// An RFC 5322 message (CRLF) of about `bytes` bytes, plain text prose.
std::string BenchMessage(const std::string& from, const std::string& to, std::size_t bytes);
// Only the body of such a message (for the policy load generator).
std::string BenchBody(std::size_t bytes);

}  // namespace hive::bench
