#include "tools/maillog_parser.h"

namespace hive::policy::tools {
namespace {

constexpr std::string_view kPrefix = "postfix/hive-";

// The value of `name=` up to the next ", " (or the end).
std::optional<std::string_view> Field(std::string_view text, std::string_view name) {
  const std::size_t at = text.find(name);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(at + name.size());
  return rest.substr(0, rest.find(", "));
}

}  // namespace

std::optional<MaillogDelivery> ParseMaillogLine(std::string_view line) {
  const std::size_t service = line.find(kPrefix);
  if (service == std::string_view::npos) return std::nullopt;
  std::string_view rest = line.substr(service + kPrefix.size());
  const std::size_t slash = rest.find("/smtp[");
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  MaillogDelivery d;
  d.member = std::string(rest.substr(0, slash));
  const std::size_t colon = rest.find("]: ");
  if (colon == std::string_view::npos) return std::nullopt;
  rest = rest.substr(colon + 3);
  const std::size_t qend = rest.find(": ");
  if (qend == std::string_view::npos || qend == 0) return std::nullopt;
  d.queue_id = std::string(rest.substr(0, qend));
  rest = rest.substr(qend + 2);
  if (!rest.starts_with("to=<")) return std::nullopt;
  const std::size_t to_end = rest.find('>');
  if (to_end == std::string_view::npos) return std::nullopt;
  d.recipient = std::string(rest.substr(4, to_end - 4));
  const auto dsn = Field(rest, "dsn=");
  const auto status = Field(rest, "status=");
  if (!dsn || !status) return std::nullopt;
  d.dsn = std::string(*dsn);
  const std::size_t sp = status->find(' ');
  d.status = std::string(status->substr(0, sp));
  if (d.status != "sent" && d.status != "deferred" && d.status != "bounced") return std::nullopt;
  // The explanation in parentheses after the status; "said: " starts the
  // remote reply, " (in reply to" ends it.
  std::string_view why = rest.substr(rest.find("status=") + 7 + d.status.size());
  if (why.starts_with(" (")) why = why.substr(2);
  if (why.ends_with(")")) why.remove_suffix(1);
  if (const std::size_t said = why.find("said: "); said != std::string_view::npos) {
    why = why.substr(said + 6);
    why = why.substr(0, why.find(" (in reply to"));
  }
  d.reply = std::string(why);
  return d;
}

}  // namespace hive::policy::tools
