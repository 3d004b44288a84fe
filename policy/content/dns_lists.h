// DNS block lists (DNSBL for the client address, URIBL / DBL style for the
// domains of the URLs in the message), asked through a dns::Resolver with a
// hard per-message deadline.
//
// Query names: a URL host is reduced to its registrable domain under the
// Public Suffix List (domain.h: "a.b.shop.com.cn" -> "shop.com.cn"), in
// punycode for an IDN host ("www.例子.中国" -> "xn--fsqu00a.xn--fiqs8s"),
// because that is what domain lists list; an IPv4 URL host or client
// address is reversed ("192.0.2.1" -> "1.2.0.192"), an IPv6 client address
// nibble-reversed. Not asked: IPv6 URL hosts, invalid names, loopback, private and link-local client addresses (an internal submitter
// is on no public list, and asking would leak it). At most `max_queries`
// names per message, URL domains in order of appearance.
//
// Answers: an address in 127.255.255.0/24 is a list refusing the query
// (Spamhaus's convention: public resolver, rate limit) and counts as
// DNS_ERROR, never as a listing; addresses outside 127.0.0.0/8 are ignored
// (a wildcarding resolver); the others are matched against the zone's return
// codes: an exact address (127.0.1.2) or a bitmask on the address
// (0.0.0.4: SURBL-style bits). A zone without return codes lists on any
// 127.0.0.0/8 answer.
//
// A query unanswered by the deadline is the fact DNS_TIMEOUT, a failing one
// DNS_ERROR (weights configurable, default 0): a DNS failure is a fact, not
// a verdict.
//
// Thread-safety: immutable after construction; Check() is thread-safe when
// the resolver is (dns::AresResolver, dns::CachingResolver are).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "content/envelope.h"
#include "content/parser.h"
#include "dns/resolver.h"

namespace hive::policy::content {

struct DnsReturnCode {
  std::uint32_t address = 0;  // exact answer (when bitmask is 0)
  std::uint32_t bitmask = 0;  // else: listed when answer & bitmask != 0
  std::string symbol;         // "" = the zone's symbol
  std::optional<double> weight;  // unset = the zone's weight
};

struct DnsZone {
  enum class Target { kUrl, kClientIp };
  std::string symbol;
  std::string zone;  // "dbl.example.org", no trailing dot
  Target target = Target::kUrl;
  double weight = 0;
  std::vector<DnsReturnCode> returns;
};

struct DnsListOptions {
  std::vector<DnsZone> zones;
  std::chrono::milliseconds deadline{500};
  std::size_t max_queries = 20;
  double timeout_weight = 0;
  double error_weight = 0;
};

struct DnsListHit {
  std::string symbol;
  double weight = 0;
  std::string detail;
};

class DnsLists {
 public:
  DnsLists(DnsListOptions options, std::shared_ptr<dns::Resolver> resolver);

  // Asks every zone about the message's URL domains and client address;
  // returns within the deadline.
  std::vector<DnsListHit> Check(const ParsedMessage& parsed, const Envelope& envelope) const;

  const DnsListOptions& options() const { return options_; }
  // DNS_TIMEOUT, DNS_ERROR: reserved, usable in metas.
  static bool IsFact(std::string_view symbol);

 private:
  DnsListOptions options_;
  std::shared_ptr<dns::Resolver> resolver_;
};

// The name asked for a URL host ("" when it is not asked): the registered
// domain, or the reversed IPv4 address.
std::string UrlQueryName(std::string_view host);
// The reversed client address ("" when it is not asked: not an address,
// loopback, private, link-local).
std::string ClientQueryName(std::string_view ip);

}  // namespace hive::policy::content
