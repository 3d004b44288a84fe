#include "server/leases.h"

#include <chrono>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/policy_metrics.h"
#include "support/log.h"

namespace hive::policy::server {
namespace {

namespace v1 = hive::policy::v1;

const config::LeaseClass* LeaseClassFor(const config::PolicySnapshot& snapshot, const std::string& message_class) {
  if (message_class.empty()) return nullptr;
  for (const config::LeaseClass& c : snapshot.lease_classes) {
    if (c.message_class == message_class) return &c;
  }
  return nullptr;
}

}  // namespace

match::Facts LeaseFacts(const config::PolicySnapshot& snapshot, const std::string& sender,
                        const std::string& message_class, std::uint64_t body_size) {
  match::Facts facts = match::MakeFacts(sender, "", "");
  facts.message_class = absl::AsciiStrToLower(message_class);
  if (!snapshot.class_header.empty()) match::AddHeader(facts, snapshot.class_header, facts.message_class);
  facts.message_bytes = body_size;
  return facts;
}

void GrantLease(const config::PolicySnapshot& snapshot, ratelimit::Limiter& limiter, const std::string& sender,
                const std::string& message_class, v1::Verdict& verdict, PolicyMetrics* metrics) {
  const config::LeaseClass* terms = LeaseClassFor(snapshot, message_class);
  // The null sender is no bucket anyone owns: bounces get no lease.
  if (terms == nullptr || sender.empty()) return;
  const match::Facts facts = LeaseFacts(snapshot, sender, message_class, 0);
  absl::StatusOr<bool> room = limiter.HasRoomForLease(snapshot.limits, facts, terms->units);
  if (!room.ok()) {
    hive::log::Warning(absl::StrCat("lease not granted to \"", hive::log::Sanitize(sender, 128),
                                    "\": rate-limit store: ", room.status().message()));
    return;
  }
  if (!*room) return;
  v1::Lease& lease = *verdict.mutable_lease();
  lease.set_sender(sender);
  lease.set_message_class(terms->message_class);
  lease.set_units(terms->units);
  lease.set_ttl_ms(std::chrono::duration_cast<std::chrono::milliseconds>(terms->ttl).count());
  if (metrics != nullptr) metrics->RecordLease("granted", 1);
}

grpc::Status ReconcileLeaseUsage(const config::PolicySnapshot& snapshot, ratelimit::Limiter& limiter,
                                 const v1::LeaseUsageReport& report, v1::LeaseUsageReply& reply,
                                 PolicyMetrics* metrics) {
  if (report.usages_size() > kMaxLeaseUsages) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "too many usages in one report");
  }
  for (const v1::LeaseUsage& usage : report.usages()) {
    if (usage.usage_id().empty() || usage.usage_id().size() > 128) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "usage_id must be 1..128 bytes");
    }
  }
  for (const v1::LeaseUsage& usage : report.usages()) {
    const match::Facts facts = LeaseFacts(snapshot, usage.sender(), usage.message_class(), usage.body_size());
    const std::int64_t recipients = usage.recipients() == 0 ? 1 : usage.recipients();
    absl::StatusOr<ratelimit::LeaseCharge> charge =
        limiter.ChargeLeaseUsage(snapshot.limits, usage.usage_id(), facts, recipients);
    if (!charge.ok()) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, absl::StrCat("rate-limit store: ", charge.status().message()));
    }
    if (charge->repeated) {
      reply.set_duplicates(reply.duplicates() + 1);
    } else {
      reply.set_charged(reply.charged() + 1);
    }
    if (metrics != nullptr) {
      metrics->RecordLease(charge->repeated ? "duplicate" : "charged", 1);
      if (!charge->over_limit.empty()) metrics->RecordLease("over_limit", charge->over_limit.size());
    }
    hive::log::Info(absl::StrCat(
        "lease usage=\"", hive::log::Sanitize(usage.usage_id(), 128), "\" sender=\"",
        hive::log::Sanitize(usage.sender(), 128), "\" class=\"", hive::log::Sanitize(facts.message_class, 64),
        "\" queue=\"", hive::log::Sanitize(usage.queue_id(), 32), "\" rcpts=", recipients,
        charge->repeated ? " duplicate" : absl::StrCat(" charged_rules=", charge->charged),
        charge->over_limit.empty() ? ""
                                   : absl::StrCat(" over_limit=", absl::StrJoin(charge->over_limit, ","))));
  }
  return grpc::Status::OK;
}

}  // namespace hive::policy::server
