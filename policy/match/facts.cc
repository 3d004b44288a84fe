#include "match/facts.h"

#include "absl/strings/ascii.h"

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
  if (absl::StatusOr<IpAddress> ip = IpAddress::Parse(client_address); ip.ok()) {
    f.client_ip = *ip;
    f.client_ip_text = ip->ToString();
  }
  return f;
}

}  // namespace hive::policy::match
