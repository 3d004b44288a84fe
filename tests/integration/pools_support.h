// What the IP-pool end-to-end tests (pools_e2e_test on Postfix,
// pools_sendmail_test on Sendmail) share: sending one message, and reading
// where each delivery came from out of smtp-sink's records.
// Not thread-safe (the stack is not).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "harness/hive_stack.h"

namespace hive::testing {

inline constexpr auto kDeliveryTimeout = std::chrono::seconds(20);

// The value of smtp-sink's record `name` ("X-Client-Addr") in a dump.
std::string Record(const std::string& dump, const std::string& name);

// The reply to the final dot, or the refusal that came before it.
std::string Send(uint16_t port, const std::string& from, const std::string& to, const std::string& subject);

// Where each message of `subjects` left from (source address), once all
// arrived at `sink`; a missing one fails the test, and so does the routing
// mark reaching the next hop.
std::map<std::string, std::string> SourcesBySubject(const Sink& sink, const std::vector<std::string>& subjects,
                                                    const std::string& diagnostics);

// The scenario both MTAs run: a transactional pool (warm tx-1, cold tx-cold)
// and a bulk pool (warm bulk-warm, cold bulk-cold); both cold members have a
// cap of 3 per provider group (google = gmail.test + googlemail.test) and
// are not allowed transactional mail (class header X-Mail-Class).
// shop.test's mail goes to the transactional pool, the rest to bulk;
// `extra_pools` and `extra_rules` are YAML list items added to each list.
struct PoolAddresses {
  std::string tx, tx_cold, bulk_warm, bulk_cold;
};
std::string CapPolicy(const PoolAddresses& a, const std::string& extra_pools = "", const std::string& extra_rules = "");

// Subjects of what SendCapTraffic sent: 3 transactional receipts, one
// unclassified message from shop.test, 8 newsletters across google's two
// domains.
struct CapTraffic {
  std::vector<std::string> receipts;
  std::string unclassified;
  std::vector<std::string> newsletters;
};
CapTraffic SendCapTraffic(uint16_t port);

// Where CapTraffic must arrive from: the receipts from tx (never the cold
// tx-cold, which the unclassified message takes), exactly 3 newsletters
// from bulk_cold and 5 from bulk_warm.
void ExpectCapSources(const Sink& sink, const CapTraffic& traffic, const PoolAddresses& a,
                      const std::string& diagnostics);

// The feedback scenario both MTAs run: pool bulk (the default) with a warm
// member fb-warm and a cold one fb-cold (cap 50 per provider group, so it
// never runs out in the test); provider groups blocked (blocked.test) and
// fine (fine.test); routing.feedback left at its defaults.
std::string FeedbackPolicy(const std::string& warm_address, const std::string& cold_address);

// The IPv6 scenario both MTAs run, in a network namespace of the test's
// own whose lo has kIpv6NextHop (where the next hop listens) and each
// member's address: pool tx (member tx-6, 2001:db8::2, HELO
// tx-6.pools.test) for shop.test's mail, the default pool bulk (bulk-6,
// 2001:db8::3, bulk-6.pools.test) for the rest.
inline constexpr char kIpv6NextHop[] = "2001:db8::1";
extern const char kIpv6Policy[];

// Moves the calling thread, and every process it starts from then on, into
// a network namespace of its own (the host's interfaces are never touched),
// brings that namespace's lo up and gives it the scenario's three addresses
// (/128, no DAD): addresses the kernel answers on that are not loopback
// addresses. Returns "" when done, else why namespaces are not available
// (the caller skips); a failing `ip` command fails the test. Irreversible
// for the process: ctest runs each test in a process of its own, and the
// tests that call it come last in their files (for a run of a whole binary).
std::string EnterIpv6Namespace(const std::string& log_path);

// Sends a receipt from shop.test and a newsletter through the MTA on
// `smtp_port`; each must reach `next_hop` from its member's IPv6 address
// with its HELO and its own return path, without the routing mark.
void ExpectIpv6Sources(uint16_t smtp_port, const Sink& next_hop, const std::string& diagnostics);

// The line of `log` that contains `needle`, without its newline ("" when
// none).
std::string LineWith(const std::string& log, const std::string& needle);

// Polls `read` until it contains `needle` (bounded); true when it did.
template <typename Read>
bool WaitForText(Read read, const std::string& needle, std::chrono::milliseconds timeout = kDeliveryTimeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    if (read().find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}

}  // namespace hive::testing
