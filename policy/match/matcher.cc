#include "match/matcher.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace hive::policy::match {
namespace {

absl::StatusOr<std::string> ValidDomain(std::string_view raw) {
  std::string_view d = raw;
  // ".example.com" reads naturally as "anything under example.com".
  if (!d.empty() && d.front() == '.') d.remove_prefix(1);
  std::string domain = NormaliseDomain(d);
  if (domain.empty()) return absl::InvalidArgumentError("empty domain");
  for (char c : domain) {
    if (c == '@' || c == '*' || absl::ascii_isspace(c) || absl::ascii_iscntrl(c)) {
      return absl::InvalidArgumentError(absl::StrCat("'", std::string(raw),
                                                     "' is not a domain (write example.com; it also covers "
                                                     "its subdomains)"));
    }
  }
  return domain;
}

bool AnyDomainMatches(const std::vector<std::string>& suffixes, std::string_view domain) {
  return std::any_of(suffixes.begin(), suffixes.end(),
                     [&](const std::string& s) { return DomainHasSuffix(domain, s); });
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view text) {
  // Iterative matcher with one backtrack point: linear in practice and never
  // recursive, so a hostile address cannot blow the stack.
  std::size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p, ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool DomainHasSuffix(std::string_view domain, std::string_view suffix) {
  if (suffix.empty() || domain.size() < suffix.size()) return false;
  if (domain.substr(domain.size() - suffix.size()) != suffix) return false;
  return domain.size() == suffix.size() || domain[domain.size() - suffix.size() - 1] == '.';
}

absl::Status Matcher::AddSender(std::string_view pattern) {
  const std::size_t at = pattern.rfind('@');
  if (at == std::string_view::npos || at + 1 == pattern.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", std::string(pattern), "' is not an address or pattern such as *@example.com"));
  }
  senders_.push_back({std::string(pattern.substr(0, at)), NormaliseDomain(pattern.substr(at + 1))});
  return absl::OkStatus();
}

absl::Status Matcher::AddSenderDomain(std::string_view domain) {
  absl::StatusOr<std::string> d = ValidDomain(domain);
  if (!d.ok()) return d.status();
  sender_domains_.push_back(*std::move(d));
  return absl::OkStatus();
}

absl::Status Matcher::AddRecipientDomain(std::string_view domain) {
  absl::StatusOr<std::string> d = ValidDomain(domain);
  if (!d.ok()) return d.status();
  recipient_domains_.push_back(*std::move(d));
  return absl::OkStatus();
}

absl::Status Matcher::AddRecipient(std::string_view pattern) {
  const std::size_t at = pattern.rfind('@');
  if (at == std::string_view::npos || at + 1 == pattern.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", std::string(pattern), "' is not an address or pattern such as postmaster@*"));
  }
  recipients_.push_back({std::string(pattern.substr(0, at)), NormaliseDomain(pattern.substr(at + 1))});
  return absl::OkStatus();
}

absl::Status Matcher::AddHeader(std::string_view name, std::string_view value_glob) {
  if (name.empty()) return absl::InvalidArgumentError("a header name is required");
  for (char c : name) {
    if (c <= 0x20 || c >= 0x7f || c == ':') {
      return absl::InvalidArgumentError(absl::StrCat("'", std::string(name), "' is not a header name"));
    }
  }
  const std::string lower = absl::AsciiStrToLower(std::string(name));
  for (HeaderPattern& h : headers_) {
    if (h.name == lower) {
      h.values.push_back(absl::AsciiStrToLower(std::string(value_glob)));
      return absl::OkStatus();
    }
  }
  headers_.push_back({lower, {absl::AsciiStrToLower(std::string(value_glob))}});
  return absl::OkStatus();
}

absl::Status Matcher::AddMessageClass(std::string_view glob) {
  if (glob.empty()) return absl::InvalidArgumentError("empty message class");
  classes_.push_back(absl::AsciiStrToLower(std::string(glob)));
  return absl::OkStatus();
}

absl::Status Matcher::AddPool(std::string_view pool) {
  if (pool.empty()) return absl::InvalidArgumentError("empty pool name");
  pools_.emplace_back(pool);
  return absl::OkStatus();
}

absl::Status Matcher::AddSaslUser(std::string_view user) {
  if (user.empty()) return absl::InvalidArgumentError("empty SASL user");
  sasl_users_.emplace_back(user);
  return absl::OkStatus();
}

absl::Status Matcher::AddClientIp(std::string_view address_or_cidr) {
  absl::StatusOr<Cidr> cidr = Cidr::Parse(address_or_cidr);
  if (!cidr.ok()) return cidr.status();
  client_ips_.push_back(*cidr);
  return absl::OkStatus();
}

bool Matcher::Matches(const Facts& facts) const {
  if (!senders_.empty()) {
    const std::size_t at = facts.sender.rfind('@');
    if (at == std::string::npos) return false;
    const std::string_view local = std::string_view(facts.sender).substr(0, at);
    const std::string_view domain = std::string_view(facts.sender).substr(at + 1);
    const bool any = std::any_of(senders_.begin(), senders_.end(), [&](const SenderPattern& p) {
      return GlobMatch(p.local, local) && GlobMatch(p.domain, domain);
    });
    if (!any) return false;
  }
  if (!sender_domains_.empty() && !AnyDomainMatches(sender_domains_, facts.sender_domain)) return false;
  if (!sasl_users_.empty() &&
      std::find(sasl_users_.begin(), sasl_users_.end(), facts.sasl_user) == sasl_users_.end()) {
    return false;
  }
  if (!client_ips_.empty()) {
    if (!facts.client_ip) return false;
    if (std::none_of(client_ips_.begin(), client_ips_.end(),
                     [&](const Cidr& c) { return c.Contains(*facts.client_ip); })) {
      return false;
    }
  }
  if (!recipient_domains_.empty()) {
    if (facts.recipients.empty()) return false;
    for (const Recipient& r : facts.recipients) {
      if (!AnyDomainMatches(recipient_domains_, r.domain)) return false;
    }
  }
  if (!recipients_.empty()) {
    if (facts.recipients.empty()) return false;
    for (const Recipient& r : facts.recipients) {
      const std::size_t at = r.address.rfind('@');
      if (at == std::string::npos) return false;
      const std::string_view local = std::string_view(r.address).substr(0, at);
      const std::string_view domain = std::string_view(r.address).substr(at + 1);
      // Mailbox names like postmaster and abuse are case-insensitive (RFC 5321 4.5.1).
      const std::string lower_local = absl::AsciiStrToLower(std::string(local));
      const bool any = std::any_of(recipients_.begin(), recipients_.end(), [&](const SenderPattern& p) {
        return (GlobMatch(p.local, local) || GlobMatch(absl::AsciiStrToLower(p.local), lower_local)) &&
               GlobMatch(p.domain, domain);
      });
      if (!any) return false;
    }
  }
  for (const HeaderPattern& h : headers_) {
    const std::string* value = facts.HeaderValue(h.name);
    if (value == nullptr) return false;
    const std::string lower = absl::AsciiStrToLower(*value);
    if (std::none_of(h.values.begin(), h.values.end(),
                     [&](const std::string& g) { return GlobMatch(g, lower); })) {
      return false;
    }
  }
  if (!classes_.empty() && std::none_of(classes_.begin(), classes_.end(), [&](const std::string& g) {
        return GlobMatch(g, facts.message_class);
      })) {
    return false;
  }
  if (!pools_.empty() && std::find(pools_.begin(), pools_.end(), facts.pool) == pools_.end()) return false;
  return true;
}

}  // namespace hive::policy::match
