// The bucket key of a limit rule: text with placeholders, e.g.
// "{sender}" (one bucket per sender), "{sasl_user}:{recipient_domain}",
// "{header:X-Tenant}/{header:X-Campaign}" (per tenant x campaign).
//
// Placeholders: {sender} {sender_domain} {sasl_user} {client_ip}
// {recipient} {recipient_domain} {header:<Name>} {message_class} {pool}
// {content_hash} (the normalised body's SHA-256, content/fingerprint.h: one
// bucket per campaign, whoever sends it).
// Values are normalised: domains lower-case, client IPs canonical (an
// IPv4-mapped IPv6 address as IPv4, no "IPv6:" prefix: match::MakeFacts),
// header values trimmed and lower-cased; with `strip_subaddress` the
// "+tag" of {sender} and {recipient} is dropped (alice+x@ and alice+y@ are
// one bucket). A template that needs a fact the request lacks (no SASL
// login, the null sender, no recipient yet, no such header) expands to
// nothing: the rule does not apply, instead of lumping all such mail into
// one "" bucket. Header, class, pool and content placeholders are known
// only at end of message (UsesMessage()).
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
  static absl::StatusOr<KeyTemplate> Parse(std::string_view text, bool strip_subaddress = false);

  // Uses the first recipient of `facts` for recipient placeholders.
  std::optional<std::string> Expand(const match::Facts& facts) const;
  bool UsesRecipient() const { return uses_recipient_; }
  bool UsesMessage() const { return uses_message_; }
  // The content scorer must compute the hash for it.
  bool UsesContentHash() const { return uses_content_hash_; }
  const std::string& text() const { return text_; }

 private:
  enum class Field {
    kLiteral, kSender, kSenderDomain, kSaslUser, kClientIp, kRecipient, kRecipientDomain,
    kHeader, kMessageClass, kPool, kContentHash,
  };
  struct Part {
    Field field;
    std::string literal;  // the text, or the header name
  };

  std::string text_;
  std::vector<Part> parts_;
  bool uses_recipient_ = false;
  bool uses_message_ = false;
  bool uses_content_hash_ = false;
  bool strip_subaddress_ = false;
};

}  // namespace hive::policy::ratelimit
