// Degraded mode, the policy side: who gets a quota lease and how much
// (GrantLease, after a delivered end-of-message decision), and the
// reconciliation of what milters spent while this service was away
// (ReconcileLeaseUsage, the ReportLeaseUsage RPC). docs/failure-modes.md.
//
// Accounting: a lease is granted only while every enforcing limit of the
// sender and class has room for all of its units (Limiter::HasRoomForLease),
// and nothing is reserved for it: normal mail is never held back by a lease
// nobody may spend. What a milter spends is charged when reported, message
// by message under its usage id (Limiter::ChargeLeaseUsage: exactly once
// within reservation_ttl), so after reconciliation the sender's remaining
// allowance reflects the leased mail. The overshoot of one outage is at
// most one lease per sender, class and milter: the room existed at the
// grant, the milter spends at most the lease, and it takes no new grant for
// a bucket while it holds unreported usage (milter/lease_table.h).
//
// Leases see the sender and the class only (the facts a milter has during
// an outage): limits keyed on recipients, client IP or SASL user are
// neither asked at the grant nor charged.
//
// Thread-safety: stateless functions over thread-safe parts.
#pragma once

#include <cstdint>
#include <string>

#include <grpcpp/grpcpp.h>

#include "config/snapshot.h"
#include "hive/policy/v1/policy.pb.h"
#include "match/facts.h"
#include "ratelimit/limiter.h"

namespace hive::policy::server {

class PolicyMetrics;

// The facts a lease is granted and charged on: sender, class (also as the
// class header, for header-matching rules) and body size.
match::Facts LeaseFacts(const config::PolicySnapshot& snapshot, const std::string& sender,
                        const std::string& message_class, std::uint64_t body_size);

// Sets verdict.lease when `message_class` is configured to lease and the
// sender's limits have room for the whole lease. A store error means no
// lease (the message itself is already decided); it is logged.
void GrantLease(const config::PolicySnapshot& snapshot, ratelimit::Limiter& limiter, const std::string& sender,
                const std::string& message_class, hive::policy::v1::Verdict& verdict, PolicyMetrics* metrics);

// Charges every usage of `report` (bounded: at most kMaxLeaseUsages per
// report, else INVALID_ARGUMENT) and logs one line per usage. A store
// error stops with UNAVAILABLE: the milter retries the whole report and
// what was charged comes back as duplicates.
inline constexpr int kMaxLeaseUsages = 10000;
grpc::Status ReconcileLeaseUsage(const config::PolicySnapshot& snapshot, ratelimit::Limiter& limiter,
                                 const hive::policy::v1::LeaseUsageReport& report,
                                 hive::policy::v1::LeaseUsageReply& reply, PolicyMetrics* metrics);

}  // namespace hive::policy::server
