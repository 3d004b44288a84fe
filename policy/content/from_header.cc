#include "content/from_header.h"

#include <re2/re2.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "content/domain.h"
#include "content/url.h"

namespace hive::policy::content {
namespace {

const RE2& AddressRe() {
  static const RE2 re(R"(([^\s<>@",;:]+)@([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?))");
  return re;
}

int CountAddresses(std::string_view value) {
  int n = 0;
  re2::StringPiece input(value.data(), value.size());
  while (n < 100 && RE2::FindAndConsume(&input, AddressRe())) ++n;
  return n;
}

}  // namespace

FromSummary SummariseFrom(const std::vector<Header>& headers) {
  FromSummary s;
  for (const Header& h : headers) {
    if (!absl::EqualsIgnoreCase(h.name, "from")) continue;
    ++s.headers;
    s.addresses += CountAddresses(h.value);
    if (s.domain.empty()) s.domain = AddressDomain(h.value);
  }
  return s;
}

std::string AddressDomain(std::string_view address) {
  re2::StringPiece input(address.data(), address.size());
  std::string domain;
  if (!RE2::PartialMatch(input, AddressRe(), nullptr, &domain)) return "";
  return absl::AsciiStrToLower(domain);
}

bool DomainsAligned(std::string_view a, std::string_view b) {
  return !a.empty() && !b.empty() && RegistrableDomain(a) == RegistrableDomain(b);
}

std::vector<std::string> EnvelopeDomains(const Envelope& env) {
  std::vector<std::string> out;
  for (const std::string& d : env.account_domains) {
    if (!d.empty()) out.push_back(absl::AsciiStrToLower(d));
  }
  if (std::string d = AddressDomain(env.sender); !d.empty()) out.push_back(std::move(d));
  if (std::string d = AddressDomain(env.sasl_user); !d.empty()) out.push_back(std::move(d));
  return out;
}

bool AlignedWithAny(std::string_view domain, const std::vector<std::string>& candidates) {
  for (const std::string& c : candidates) {
    if (DomainsAligned(domain, c)) return true;
  }
  return false;
}

}  // namespace hive::policy::content
