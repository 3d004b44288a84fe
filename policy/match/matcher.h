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
//   recipient:        address glob, like sender ("postmaster@*")
//   header:           a header's value, glob, case-insensitive
//                     (end of message only)
//   message_class:    glob on Facts::message_class (end of message only)
//   pool:             exact pool name (end of message only)
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
  absl::Status AddRecipient(std::string_view pattern);
  // Several values for one header name OR; several header names AND.
  absl::Status AddHeader(std::string_view name, std::string_view value_glob);
  absl::Status AddMessageClass(std::string_view glob);
  absl::Status AddPool(std::string_view pool);

  bool Matches(const Facts& facts) const;
  // True when the match looks at recipients, so it cannot be decided at
  // MAIL FROM.
  bool UsesRecipient() const { return !recipient_domains_.empty() || !recipients_.empty(); }
  // True when the match needs facts known only at end of message.
  bool UsesMessage() const { return !headers_.empty() || !classes_.empty() || !pools_.empty(); }
  bool empty() const {
    return senders_.empty() && sender_domains_.empty() && sasl_users_.empty() && client_ips_.empty() &&
           recipient_domains_.empty() && recipients_.empty() && !UsesMessage();
  }

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
  std::vector<SenderPattern> recipients_;
  struct HeaderPattern {
    std::string name;                 // lower-case
    std::vector<std::string> values;  // lower-case globs
  };
  std::vector<HeaderPattern> headers_;
  std::vector<std::string> classes_;
  std::vector<std::string> pools_;
};

}  // namespace hive::policy::match
