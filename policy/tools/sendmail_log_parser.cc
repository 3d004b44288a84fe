#include "tools/sendmail_log_parser.h"

#include <cctype>

namespace hive::policy::tools {
namespace {

// The queue id in "...: <qid>: <text>" where <text> starts at `at`.
std::optional<std::string> QueueIdBefore(std::string_view line, std::size_t at) {
  std::string_view head = line.substr(0, at);
  if (!head.ends_with(": ")) return std::nullopt;
  head.remove_suffix(2);
  const std::size_t space = head.rfind(' ');
  const std::string_view qid = head.substr(space == std::string_view::npos ? 0 : space + 1);
  if (qid.empty() || qid.size() > 32) return std::nullopt;
  for (char c : qid) {
    if (!std::isalnum(static_cast<unsigned char>(c))) return std::nullopt;
  }
  return std::string(qid);
}

// The value of `name=` up to the next ", " (or the end).
std::optional<std::string_view> Field(std::string_view text, std::string_view name) {
  std::size_t at = text.find(name);
  // A field starts the text or follows ", ".
  while (at != std::string_view::npos && at != 0 && text.substr(at - 2, 2) != ", ") at = text.find(name, at + 1);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(at + name.size());
  return rest.substr(0, rest.find(", "));
}

std::string_view Unbracket(std::string_view a) {
  if (a.starts_with('<') && a.ends_with('>')) return a.substr(1, a.size() - 2);
  return a;
}

}  // namespace

std::optional<SendmailMemberTag> ParseSendmailMemberTag(std::string_view line, std::string_view tag) {
  const std::size_t milter = line.find(": Milter (");
  if (milter == std::string_view::npos) return std::nullopt;
  const std::size_t close = line.find(") chgfrom: <", milter);
  if (close == std::string_view::npos) return std::nullopt;
  std::optional<std::string> qid = QueueIdBefore(line, milter + 2);
  if (!qid) return std::nullopt;
  std::string_view addr = line.substr(close + 12);
  addr = addr.substr(0, addr.find('>'));
  const std::size_t at = addr.rfind('@');
  if (at == std::string_view::npos) return std::nullopt;
  const std::string marker = "+" + std::string(tag) + ".";
  const std::size_t plus = addr.rfind(marker, at);
  if (plus == std::string_view::npos) return std::nullopt;
  const std::string_view member = addr.substr(plus + marker.size(), at - plus - marker.size());
  if (member.empty()) return std::nullopt;
  return SendmailMemberTag{*std::move(qid), std::string(member)};
}

std::optional<SendmailDelivery> ParseSendmailDelivery(std::string_view line) {
  const std::size_t to_at = line.find(": to=");
  if (to_at == std::string_view::npos) return std::nullopt;
  std::optional<std::string> qid = QueueIdBefore(line, to_at + 2);
  if (!qid) return std::nullopt;
  const std::string_view rest = line.substr(to_at + 2);
  const auto to = Field(rest, "to=");
  const auto dsn = Field(rest, "dsn=");
  if (!to || !dsn || dsn->empty()) return std::nullopt;
  // Deliveries that never leave the machine say nothing about an address's
  // reputation: local mailboxes, programs, files.
  if (const auto mailer = Field(rest, "mailer=");
      mailer && (*mailer == "local" || *mailer == "prog" || mailer->starts_with("*"))) {
    return std::nullopt;
  }
  // stat= is the last field and may contain ", ".
  const std::size_t stat_at = rest.find(", stat=");
  if (stat_at == std::string_view::npos) return std::nullopt;
  const std::string_view stat = rest.substr(stat_at + 7);
  SendmailDelivery d;
  d.queue_id = *std::move(qid);
  d.dsn = std::string(*dsn);
  switch ((*dsn)[0]) {
    case '2': d.status = "sent"; break;
    case '4': d.status = "deferred"; break;
    case '5': d.status = "bounced"; break;
    default: return std::nullopt;
  }
  for (std::string_view list = *to; !list.empty();) {
    const std::size_t comma = list.find(',');
    const std::string_view one = Unbracket(list.substr(0, comma));
    if (!one.empty()) d.recipients.emplace_back(one);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
  }
  if (d.recipients.empty()) return std::nullopt;
  // reply= is the session's last reply: for a 421 that is often the
  // "221 Bye" to QUIT. It says more than the stat text only for a bounce,
  // and only when it is of the same class as the DSN.
  // Sendmail writes it right before stat=, and it may contain ", ".
  std::optional<std::string_view> reply;
  if (const std::size_t r = rest.rfind(", reply=", stat_at); r != std::string_view::npos) {
    reply = rest.substr(r + 8, stat_at - r - 8);
  }
  if (stat.starts_with("Deferred: ")) d.reply = std::string(stat.substr(10));
  else if (stat.starts_with("Sent (") && stat.ends_with(")")) d.reply = std::string(stat.substr(6, stat.size() - 7));
  else if (reply && reply->starts_with((*dsn)[0])) d.reply = std::string(*reply);
  else d.reply = std::string(stat);
  return d;
}

}  // namespace hive::policy::tools
