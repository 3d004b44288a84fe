#include "tools/maillog_reader.h"

#include "tools/sendmail_log_parser.h"

namespace hive::policy::tools {

void MaillogReader::Remember(std::string queue_id, std::string member) {
  auto [it, fresh] = members_.insert_or_assign(queue_id, std::move(member));
  if (!fresh) return;
  order_.push_back(std::move(queue_id));
  while (members_.size() > options_.max_queue_ids && !order_.empty()) {
    members_.erase(order_.front());
    order_.pop_front();
  }
}

std::vector<MaillogDelivery> MaillogReader::Feed(std::string_view line) {
  std::vector<MaillogDelivery> out;
  if (line.find("postfix/") != std::string_view::npos) {
    if (std::optional<MaillogDelivery> d = ParseMaillogLine(line)) out.push_back(*std::move(d));
    return out;
  }
  if (std::optional<SendmailMemberTag> tag = ParseSendmailMemberTag(line, options_.sendmail_tag)) {
    Remember(std::move(tag->queue_id), std::move(tag->member));
    return out;
  }
  std::optional<SendmailDelivery> d = ParseSendmailDelivery(line);
  if (!d) return out;
  const auto member = members_.find(d->queue_id);
  if (member == members_.end()) return out;
  for (std::string& rcpt : d->recipients) {
    out.push_back(MaillogDelivery{.member = member->second,
                                  .queue_id = d->queue_id,
                                  .recipient = std::move(rcpt),
                                  .dsn = d->dsn,
                                  .status = d->status,
                                  .reply = d->reply});
  }
  return out;
}

}  // namespace hive::policy::tools
