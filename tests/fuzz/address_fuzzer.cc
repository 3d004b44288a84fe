// libFuzzer target: the address parsing hive-policyd applies to what the
// milter forwards from MAIL FROM / RCPT TO and the client macros
// (policy/match: NormaliseAddress, DomainOf, StripSubaddress, MakeFacts,
// IpAddress/Cidr). Invariants (__builtin_trap on violation): normalising is
// idempotent and never changes the local part; a domain is lower-case
// without a trailing dot; stripping a sub-address is idempotent; a parsed
// IP prints to a text that parses back to the same address and that a
// full-length CIDR of it contains. The milter's own address handling
// (NormaliseAddress of macros, ESMTP parameters) is in session_fuzzer.cc.
// Built by tests/fuzz/build-fuzzers.sh with clang.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "match/facts.h"
#include "match/ip.h"

namespace {

namespace m = hive::policy::match;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

bool CleanDomain(const std::string& d) {
  for (char c : d) {
    if (c >= 'A' && c <= 'Z') return false;
  }
  return d.empty() || d.back() != '.';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  const std::string normal = m::NormaliseAddress(input);
  Check(m::NormaliseAddress(normal) == normal);
  const std::size_t at = input.rfind('@');
  if (at != std::string_view::npos) Check(normal.compare(0, at + 1, input.substr(0, at + 1)) == 0);
  const std::string domain = m::DomainOf(input);
  Check(CleanDomain(domain));
  Check(m::DomainOf(normal) == domain);
  Check(m::NormaliseDomain(domain) == domain);

  const m::Recipient r = m::MakeRecipient(input);
  Check(r.address == normal && r.domain == domain);

  const std::string stripped = m::StripSubaddress(normal);
  Check(m::StripSubaddress(stripped) == stripped);
  Check(m::DomainOf(stripped) == domain);

  // The same bytes as the client address macro (Sendmail's "IPv6:" form too).
  const m::Facts facts = m::MakeFacts(input, "", input);
  Check(facts.sender == normal && facts.sender_domain == domain);
  if (!facts.client_ip_text.empty()) {
    absl::StatusOr<m::IpAddress> again = m::IpAddress::Parse(facts.client_ip_text);
    Check(again.ok() && *again == *facts.client_ip);
    absl::StatusOr<m::Cidr> host = m::Cidr::Parse(facts.client_ip_text);
    Check(host.ok() && host->Contains(*facts.client_ip));
  }
  if (absl::StatusOr<m::Cidr> cidr = m::Cidr::Parse(input); cidr.ok()) {
    // A network contains the address it was written with (host bits are
    // ignored, never an error).
    const std::string_view head = input.substr(0, input.find('/'));
    if (absl::StatusOr<m::IpAddress> ip = m::IpAddress::Parse(head); ip.ok()) {
      Check(cidr->Contains(*ip));
    }
  }
  return 0;
}
