#include "milter/sender_tag.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace hive::milter {

std::string TagSender(std::string_view sender, std::string_view tag, std::string_view member) {
  const std::size_t at = sender.rfind('@');
  if (at == std::string_view::npos || at == 0 || tag.empty()) return std::string(sender);
  std::string local(sender.substr(0, at));
  // Sendmail reads a quoted string as one token: a tag inside it is inert.
  const std::size_t quote = local.front() == '"' ? local.rfind('"') : std::string::npos;
  const std::size_t from = quote == std::string::npos ? 0 : quote + 1;
  const std::string marker = absl::AsciiStrToLower(absl::StrCat("+", std::string(tag), "."));
  const std::size_t found = absl::AsciiStrToLower(local).find(marker, from);
  // Rules need a token before the '+': a tag at the very start is inert.
  if (found != std::string::npos && found > 0) local.resize(found);
  if (!member.empty()) absl::StrAppend(&local, "+", std::string(tag), ".", std::string(member));
  return absl::StrCat(local, std::string(sender.substr(at)));
}

}  // namespace hive::milter
