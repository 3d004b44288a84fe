#include "milter/lease_report.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "support/log.h"

namespace hive::milter {

absl::StatusOr<std::size_t> FlushLeaseUsage(LeaseTable& leases, PolicyClient& policy) {
  if (!leases.has_unreported() || !leases.TryBeginReport()) return 0;
  // EndReport however we leave.
  struct Done {
    LeaseTable& leases;
    ~Done() { leases.EndReport(); }
  } done{leases};
  const std::vector<LeaseUsage> usages = leases.Unreported(kMaxUsagesPerReport);
  if (usages.empty()) return 0;
  hive::policy::v1::LeaseUsageReport report;
  std::vector<std::string> ids;
  ids.reserve(usages.size());
  for (const LeaseUsage& u : usages) {
    hive::policy::v1::LeaseUsage& out = *report.add_usages();
    out.set_usage_id(u.usage_id);
    out.set_sender(u.sender);
    out.set_message_class(u.message_class);
    out.set_recipients(u.recipients);
    out.set_body_size(u.body_size);
    out.set_queue_id(u.queue_id);
    ids.push_back(u.usage_id);
  }
  absl::StatusOr<hive::policy::v1::LeaseUsageReply> reply = policy.ReportLeaseUsage(report);
  if (!reply.ok()) {
    hive::log::Warning(absl::StrCat("lease usage report of ", usages.size(), " messages failed, kept for later: ",
                                    hive::log::Sanitize(reply.status().ToString())));
    return reply.status();
  }
  leases.Acknowledge(ids);
  hive::log::Info(absl::StrCat("lease usage reported: ", usages.size(), " messages, charged=", reply->charged(),
                               " duplicates=", reply->duplicates()));
  return usages.size();
}

}  // namespace hive::milter
