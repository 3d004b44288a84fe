#include "ratelimit/key_template.h"

#include "absl/strings/str_cat.h"

namespace hive::policy::ratelimit {

absl::StatusOr<KeyTemplate> KeyTemplate::Parse(std::string_view text) {
  static constexpr struct {
    std::string_view name;
    Field field;
  } kPlaceholders[] = {
      {"sender", Field::kSender},       {"sender_domain", Field::kSenderDomain},
      {"sasl_user", Field::kSaslUser},  {"client_ip", Field::kClientIp},
      {"recipient", Field::kRecipient}, {"recipient_domain", Field::kRecipientDomain},
  };
  KeyTemplate t;
  t.text_ = std::string(text);
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t open = text.find('{', i);
    const std::size_t close_stray = text.find('}', i);
    if (close_stray < open) {
      return absl::InvalidArgumentError(absl::StrCat("'}' without '{' at offset ", close_stray));
    }
    if (open > i) t.parts_.push_back({Field::kLiteral, std::string(text.substr(i, open - i))});
    if (open == std::string_view::npos) break;
    const std::size_t close = text.find('}', open);
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("unclosed '{' at offset ", open));
    }
    const std::string_view name = text.substr(open + 1, close - open - 1);
    bool known = false;
    for (const auto& p : kPlaceholders) {
      if (p.name == name) {
        t.parts_.push_back({p.field, ""});
        t.uses_recipient_ |= p.field == Field::kRecipient || p.field == Field::kRecipientDomain;
        known = true;
      }
    }
    if (!known) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown placeholder {", std::string(name),
          "} (known: {sender} {sender_domain} {sasl_user} {client_ip} {recipient} {recipient_domain})"));
    }
    i = close + 1;
  }
  return t;
}

std::optional<std::string> KeyTemplate::Expand(const match::Facts& facts) const {
  std::string out;
  const match::Recipient* rcpt = facts.recipients.empty() ? nullptr : &facts.recipients.front();
  for (const Part& part : parts_) {
    const std::string* value = nullptr;
    switch (part.field) {
      case Field::kLiteral: value = &part.literal; break;
      case Field::kSender: value = &facts.sender; break;
      case Field::kSenderDomain: value = &facts.sender_domain; break;
      case Field::kSaslUser: value = &facts.sasl_user; break;
      case Field::kClientIp: value = &facts.client_ip_text; break;
      case Field::kRecipient: value = rcpt ? &rcpt->address : nullptr; break;
      case Field::kRecipientDomain: value = rcpt ? &rcpt->domain : nullptr; break;
    }
    if (value == nullptr || (part.field != Field::kLiteral && value->empty())) return std::nullopt;
    out += *value;
  }
  return out;
}

}  // namespace hive::policy::ratelimit
