#include "match/facts.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace hive::policy::match {

std::string NormaliseDomain(std::string_view domain) {
  std::string out = absl::AsciiStrToLower(std::string(domain));
  while (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

std::string NormaliseAddress(std::string_view address) {
  const std::size_t at = address.rfind('@');
  if (at == std::string_view::npos) return std::string(address);
  return std::string(address.substr(0, at + 1)) + NormaliseDomain(address.substr(at + 1));
}

std::string DomainOf(std::string_view address) {
  const std::size_t at = address.rfind('@');
  if (at == std::string_view::npos) return "";
  return NormaliseDomain(address.substr(at + 1));
}

Recipient MakeRecipient(std::string_view address) {
  Recipient r;
  r.address = NormaliseAddress(address);
  r.domain = DomainOf(r.address);
  return r;
}

Facts MakeFacts(std::string_view sender, std::string_view sasl_user, std::string_view client_address) {
  Facts f;
  f.sender = NormaliseAddress(sender);
  f.sender_domain = DomainOf(f.sender);
  f.sasl_user = std::string(sasl_user);
  std::string_view ip_text = client_address;
  if (ip_text.size() > 5 && absl::EqualsIgnoreCase(std::string(ip_text.substr(0, 5)), "IPv6:")) ip_text.remove_prefix(5);
  if (absl::StatusOr<IpAddress> ip = IpAddress::Parse(ip_text); ip.ok()) {
    f.client_ip = *ip;
    f.client_ip_text = ip->ToString();
  }
  return f;
}

const std::string* Facts::HeaderValue(std::string_view name) const {
  for (const Header& h : headers) {
    if (absl::EqualsIgnoreCase(h.name, std::string(name))) return &h.value;
  }
  return nullptr;
}

void AddHeader(Facts& facts, std::string_view name, std::string_view value) {
  std::string v(absl::StripAsciiWhitespace(std::string(value)));
  if (v.size() > Facts::kMaxHeaderValue) v.resize(Facts::kMaxHeaderValue);
  facts.headers.push_back({absl::AsciiStrToLower(std::string(name)), std::move(v)});
}

std::string StripSubaddress(std::string_view address) {
  const std::size_t at = address.rfind('@');
  const std::size_t plus = address.find('+');
  if (plus == std::string_view::npos || at == std::string_view::npos || plus > at || plus == 0) {
    return std::string(address);
  }
  return std::string(address.substr(0, plus)) + std::string(address.substr(at));
}

}  // namespace hive::policy::match
