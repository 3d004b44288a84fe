// Turns the lines of an MTA's log into the deliveries hive-maillog-follower
// reports (ReportDelivery), for Postfix and Sendmail alike, in one stream
// (a syslog file may hold both):
//
//   - Postfix: a delivery line of a member transport names the member
//     itself (maillog_parser.h);
//   - Sendmail: a queue id's "Milter (...) chgfrom:" line names the member
//     (the envelope sender's tag, sendmail_log_parser.h); later to= lines of
//     that queue id, queue runs included, are its delivery attempts, one
//     report per recipient. A to= line of a queue id whose chgfrom line was
//     never read (untagged mail, or tagged before the follower started)
//     reports nothing.
//
// The queue id -> member table is bounded (`max_queue_ids`, oldest dropped
// first): entries stay while a message may still be retried, which
// Sendmail's queue lifetime bounds, not its final line (each recipient has
// its own). Not thread-safe.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tools/maillog_parser.h"

namespace hive::policy::tools {

class MaillogReader {
 public:
  struct Options {
    std::string sendmail_tag = "hive";  // hive-milter's sender_pool_tag
    std::size_t max_queue_ids = 100'000;
  };
  explicit MaillogReader(Options options) : options_(std::move(options)) {}

  // The deliveries `line` reports (none for most lines).
  std::vector<MaillogDelivery> Feed(std::string_view line);

  std::size_t remembered() const { return members_.size(); }

 private:
  void Remember(std::string queue_id, std::string member);

  Options options_;
  std::unordered_map<std::string, std::string> members_;  // queue id -> member
  std::deque<std::string> order_;                         // queue ids, oldest first
};

}  // namespace hive::policy::tools
