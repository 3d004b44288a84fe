#include "content/dns_lists.h"

#include <arpa/inet.h>

#include <cstring>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "content/domain.h"
#include "content/url.h"

namespace hive::policy::content {
namespace {

std::string ReverseIpv4(const in_addr& a) {
  const auto* b = reinterpret_cast<const unsigned char*>(&a.s_addr);
  return absl::StrCat(b[3], ".", b[2], ".", b[1], ".", b[0]);
}

bool PrivateIpv4(const in_addr& a) {
  const std::uint32_t v = ntohl(a.s_addr);
  auto in = [v](std::uint32_t net, int bits) { return (v >> (32 - bits)) == (net >> (32 - bits)); };
  return in(0x0a000000, 8) || in(0x7f000000, 8) || in(0xac100000, 12) || in(0xc0a80000, 16) ||
         in(0xa9fe0000, 16) || in(0x64400000, 10) || in(0x00000000, 8);
}

bool ListingCode(std::uint32_t a) { return (a >> 24) == 127 && (a >> 8) != 0x7fffff; }
bool RefusalCode(std::uint32_t a) { return (a >> 8) == 0x7fffff; }  // 127.255.255.0/24

bool Matches(const DnsReturnCode& r, std::uint32_t a) {
  return r.bitmask != 0 ? (a & r.bitmask) != 0 : a == r.address;
}

}  // namespace

std::string UrlQueryName(std::string_view host) {
  in_addr v4{};
  if (inet_pton(AF_INET, std::string(host).c_str(), &v4) == 1) return ReverseIpv4(v4);
  const std::string h = AsciiHost(host);  // IDN: its punycode form, as the lists hold it
  if (h.empty() || h.find('.') == std::string::npos || h.size() > 253) return "";
  for (char c : h) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-')) return "";  // IPv6, junk
  }
  return RegistrableDomain(h);
}

std::string ClientQueryName(std::string_view ip) {
  std::string text(ip);
  if (text.rfind("IPv6:", 0) == 0) text.erase(0, 5);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return PrivateIpv4(v4) ? "" : ReverseIpv4(v4);
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) != 1) return "";
  const unsigned char* b = v6.s6_addr;
  if (IN6_IS_ADDR_LOOPBACK(&v6) || IN6_IS_ADDR_LINKLOCAL(&v6) || (b[0] & 0xfe) == 0xfc) return "";
  if (IN6_IS_ADDR_V4MAPPED(&v6)) {
    std::memcpy(&v4.s_addr, b + 12, 4);
    return PrivateIpv4(v4) ? "" : ReverseIpv4(v4);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 15; i >= 0; --i) {
    if (!out.empty()) out += '.';
    out += kHex[b[i] & 0xf];
    out += '.';
    out += kHex[b[i] >> 4];
  }
  return out;
}

bool DnsLists::IsFact(std::string_view symbol) { return symbol == "DNS_TIMEOUT" || symbol == "DNS_ERROR"; }

DnsLists::DnsLists(DnsListOptions options, std::shared_ptr<dns::Resolver> resolver)
    : options_(std::move(options)), resolver_(std::move(resolver)) {}

std::vector<DnsListHit> DnsLists::Check(const ParsedMessage& parsed, const Envelope& envelope) const {
  const auto deadline = dns::Clock::now() + options_.deadline;
  // Subjects to ask: the client first, then URL domains in order, each once.
  std::vector<std::string> domains;
  std::set<std::string> seen;
  for (const Url& u : parsed.urls) {
    std::string q = UrlQueryName(u.host);
    if (!q.empty() && seen.insert(q).second) domains.push_back(std::move(q));
  }
  const std::string client = ClientQueryName(envelope.client_ip);
  struct Asked {
    const DnsZone* zone;
    std::string subject;
  };
  std::vector<Asked> asked;
  std::vector<std::string> names;
  auto ask = [&](const DnsZone& z, const std::string& subject) {
    if (names.size() >= options_.max_queries) return;
    asked.push_back({&z, subject});
    names.push_back(absl::StrCat(subject, ".", z.zone));
  };
  for (const DnsZone& z : options_.zones) {
    if (z.target == DnsZone::Target::kClientIp && !client.empty()) ask(z, client);
  }
  for (const std::string& d : domains) {
    for (const DnsZone& z : options_.zones) {
      if (z.target == DnsZone::Target::kUrl) ask(z, d);
    }
  }
  std::vector<DnsListHit> hits;
  if (names.empty()) return hits;

  const std::vector<dns::Answer> answers = resolver_->LookupA(names, deadline);
  std::set<std::string> fired;
  std::vector<std::string> timed_out, failed;
  for (std::size_t i = 0; i < names.size() && i < answers.size(); ++i) {
    const dns::Answer& a = answers[i];
    const DnsZone& z = *asked[i].zone;
    if (a.status == dns::Answer::Status::kTimeout) timed_out.push_back(names[i]);
    if (a.status == dns::Answer::Status::kError) failed.push_back(absl::StrCat(names[i], ": ", a.error));
    if (a.status != dns::Answer::Status::kFound) continue;
    for (std::uint32_t code : a.addresses) {
      if (RefusalCode(code)) {
        failed.push_back(absl::StrCat(z.zone, " refused the query (", dns::Ipv4Text(code), ")"));
        continue;
      }
      if (!ListingCode(code)) continue;
      const std::string detail = absl::StrCat(asked[i].subject, " ", z.zone, " ", dns::Ipv4Text(code));
      if (z.returns.empty()) {
        if (fired.insert(z.symbol).second) hits.push_back({z.symbol, z.weight, detail});
        continue;
      }
      for (const DnsReturnCode& r : z.returns) {
        if (!Matches(r, code)) continue;
        const std::string& symbol = r.symbol.empty() ? z.symbol : r.symbol;
        if (fired.insert(symbol).second) hits.push_back({symbol, r.weight.value_or(z.weight), detail});
      }
    }
  }
  if (!timed_out.empty()) {
    hits.push_back({"DNS_TIMEOUT", options_.timeout_weight,
                    absl::StrCat(timed_out.size(), " of ", names.size(), " unanswered after ",
                                 options_.deadline.count(), "ms: ", timed_out.front())});
  }
  if (!failed.empty()) hits.push_back({"DNS_ERROR", options_.error_weight, failed.front()});
  return hits;
}

}  // namespace hive::policy::content
