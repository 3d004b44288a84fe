#include "ratelimit/key_template.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace hive::policy::ratelimit {

absl::StatusOr<KeyTemplate> KeyTemplate::Parse(std::string_view text, bool strip_subaddress) {
  static constexpr struct {
    std::string_view name;
    Field field;
  } kPlaceholders[] = {
      {"sender", Field::kSender},       {"sender_domain", Field::kSenderDomain},
      {"sasl_user", Field::kSaslUser},  {"client_ip", Field::kClientIp},
      {"recipient", Field::kRecipient}, {"recipient_domain", Field::kRecipientDomain},
      {"message_class", Field::kMessageClass}, {"pool", Field::kPool},
      {"content_hash", Field::kContentHash},
  };
  KeyTemplate t;
  t.text_ = std::string(text);
  t.strip_subaddress_ = strip_subaddress;
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
    if (absl::StartsWith(std::string(name), "header:")) {
      const std::string_view header = name.substr(7);
      if (header.empty() || header.find_first_of(" \t:") != std::string_view::npos) {
        return absl::InvalidArgumentError(absl::StrCat("{", std::string(name), "}: a header name is required"));
      }
      t.parts_.push_back({Field::kHeader, std::string(header)});
      t.uses_message_ = true;
      known = true;
    }
    for (const auto& p : kPlaceholders) {
      if (p.name == name) {
        t.parts_.push_back({p.field, ""});
        t.uses_recipient_ |= p.field == Field::kRecipient || p.field == Field::kRecipientDomain;
        t.uses_message_ |= p.field == Field::kMessageClass || p.field == Field::kPool || p.field == Field::kContentHash;
        t.uses_content_hash_ |= p.field == Field::kContentHash;
        known = true;
      }
    }
    if (!known) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown placeholder {", std::string(name),
          "} (known: {sender} {sender_domain} {sasl_user} {client_ip} {recipient} {recipient_domain} "
          "{header:<Name>} {message_class} {pool} {content_hash})"));
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
    std::string scratch;
    switch (part.field) {
      case Field::kLiteral: value = &part.literal; break;
      case Field::kSender: value = &facts.sender; break;
      case Field::kSenderDomain: value = &facts.sender_domain; break;
      case Field::kSaslUser: value = &facts.sasl_user; break;
      case Field::kClientIp: value = &facts.client_ip_text; break;
      case Field::kRecipient: value = rcpt ? &rcpt->address : nullptr; break;
      case Field::kRecipientDomain: value = rcpt ? &rcpt->domain : nullptr; break;
      case Field::kMessageClass: value = &facts.message_class; break;
      case Field::kPool: value = &facts.pool; break;
      case Field::kContentHash: value = &facts.content_hash; break;
      case Field::kHeader:
        if (const std::string* h = facts.HeaderValue(part.literal)) {
          scratch = absl::AsciiStrToLower(*h);
          value = &scratch;
        }
        break;
    }
    if (value == nullptr || (part.field != Field::kLiteral && value->empty())) return std::nullopt;
    if (strip_subaddress_ && (part.field == Field::kSender || part.field == Field::kRecipient)) {
      out += match::StripSubaddress(*value);
    } else {
      out += *value;
    }
  }
  return out;
}

}  // namespace hive::policy::ratelimit
