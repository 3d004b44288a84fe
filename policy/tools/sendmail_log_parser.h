// Reads Sendmail's log lines for the warm-up feedback loop. Two kinds of
// line matter:
//
//   ... sm-mta[812]: 6AQCeX25015689: Milter (hive) chgfrom: <news+hive.nl-2@letters.example>
//   ... sm-mta[990]: 6AQCeX25015689: to=<ann@gmail.com>, delay=00:00:04,
//       xdelay=00:00:00, mailer=esmtp, pri=120224, relay=mx.gmail.com.
//       [192.0.2.1], dsn=4.7.0, stat=Deferred: 421 4.7.0 Try again later
//
// The first says which pool member carries the queue id: hive-milter
// (sender_pool_tag) tagged the envelope sender "local+<tag>.<member>@domain"
// (docs/pools.md); Sendmail's from= line is written before the milter's
// change, so the chgfrom line is the one that names the member. The second
// is a delivery attempt; its member is whatever the queue id's chgfrom line
// said (the caller remembers it, maillog_reader.h). One to= line may name
// several recipients ("to=<a@x>,<b@x>"). Status comes from the DSN's class
// (2: sent, 4: deferred, 5: bounced); deliveries by the local, prog and
// *file*/*include* mailers are not reported. The reply is the text after
// "Deferred: ", the text in "Sent (...)", or for a bounce the `reply=`
// field when it is a 5xx reply (it is the session's last reply: after a 421
// it is often "221 Bye"), else the stat text.
// Pure functions: thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hive::policy::tools {

struct SendmailMemberTag {
  std::string queue_id;
  std::string member;
};

// The member a "Milter (...) chgfrom:" line tags with `tag`, else nullopt.
std::optional<SendmailMemberTag> ParseSendmailMemberTag(std::string_view line, std::string_view tag);

struct SendmailDelivery {
  std::string queue_id;
  std::vector<std::string> recipients;
  std::string dsn;
  std::string status;  // "sent", "deferred", "bounced"
  std::string reply;
};

// A "to=..., dsn=..., stat=..." line, else nullopt.
std::optional<SendmailDelivery> ParseSendmailDelivery(std::string_view line);

}  // namespace hive::policy::tools
