// Reads Postfix delivery lines (maillog_file or a syslog file) of hive's
// pool transports, for the warm-up feedback loop:
//
//   ... postfix/hive-mkt-b/smtp[4711]: 3F2A1C0D9: to=<bob@gmail.com>,
//       relay=..., dsn=4.7.0, status=deferred (host mx[192.0.2.1] said:
//       421 4.7.0 Try again later (in reply to RCPT TO command))
//
// The member comes from the syslog name hive-postfix-config gives each
// member transport (postfix/hive-<member>); lines of other services give
// nothing. Pure function: thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace hive::policy::tools {

struct MaillogDelivery {
  std::string member;
  std::string queue_id;
  std::string recipient;
  std::string dsn;
  std::string status;  // "sent", "deferred", "bounced"
  std::string reply;   // the remote reply when the log names one, else the whole explanation
};

std::optional<MaillogDelivery> ParseMaillogLine(std::string_view line);

}  // namespace hive::policy::tools
