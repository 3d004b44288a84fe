// The bucket key of a limit rule: text with placeholders, e.g.
// "{sender}" (one bucket per sender) or "{sasl_user}:{recipient_domain}".
//
// Placeholders: {sender} {sender_domain} {sasl_user} {client_ip}
// {recipient} {recipient_domain}. Values are normalised (domains
// lower-case). A template that needs a fact the request lacks (no SASL
// login, the null sender, no recipient yet) expands to nothing: the rule
// does not apply, instead of lumping all such mail into one "" bucket.
// Immutable after Parse: thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "match/facts.h"

namespace hive::policy::ratelimit {

class KeyTemplate {
 public:
  static absl::StatusOr<KeyTemplate> Parse(std::string_view text);

  // Uses the first recipient of `facts` for recipient placeholders.
  std::optional<std::string> Expand(const match::Facts& facts) const;
  bool UsesRecipient() const { return uses_recipient_; }
  const std::string& text() const { return text_; }

 private:
  enum class Field { kLiteral, kSender, kSenderDomain, kSaslUser, kClientIp, kRecipient, kRecipientDomain };
  struct Part {
    Field field;
    std::string literal;
  };

  std::string text_;
  std::vector<Part> parts_;
  bool uses_recipient_ = false;
};

}  // namespace hive::policy::ratelimit
