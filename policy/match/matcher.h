// A compiled Match (policy_config.proto): which messages a limit or routing
// rule applies to.
//
// Build one with the Add* methods (each validates one config entry, so the
// caller can name the entry's line in an error), then call Matches(facts).
// Every non-empty list must match (AND); inside a list any entry may match
// (OR); an empty Matcher matches everything.
//   sender:           exact address or glob ('*', '?'): "*@example.com";
//                     the local part is case-sensitive, the domain is not
//   sender_domain,
//   recipient_domain: suffix on a label boundary: "example.com" matches
//                     example.com and mx.example.com, not badexample.com
//   sasl_user:        exact
//   client_ip:        address or CIDR block, IPv4 or IPv6
// recipient_domain needs every recipient in the facts to match, and never
// matches facts without recipients (MAIL FROM stage).
// Immutable after construction: Matches() is thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "match/facts.h"
#include "match/ip.h"

namespace hive::policy::match {

// '*' matches any run of characters, '?' one character; exact otherwise.
bool GlobMatch(std::string_view pattern, std::string_view text);
// True when domain is suffix or ends with "." + suffix (both normalised).
bool DomainHasSuffix(std::string_view domain, std::string_view suffix);

class Matcher {
 public:
  absl::Status AddSender(std::string_view pattern);
  absl::Status AddSenderDomain(std::string_view domain);
  absl::Status AddSaslUser(std::string_view user);
  absl::Status AddClientIp(std::string_view address_or_cidr);
  absl::Status AddRecipientDomain(std::string_view domain);

  bool Matches(const Facts& facts) const;
  // True when the match looks at recipients, so it cannot be decided at
  // MAIL FROM.
  bool UsesRecipient() const { return !recipient_domains_.empty(); }

 private:
  struct SenderPattern {
    std::string local;   // glob, case-sensitive
    std::string domain;  // glob, lower-case
  };

  std::vector<SenderPattern> senders_;
  std::vector<std::string> sender_domains_;
  std::vector<std::string> sasl_users_;
  std::vector<Cidr> client_ips_;
  std::vector<std::string> recipient_domains_;
};

}  // namespace hive::policy::match
