// Degraded mode: reports the messages delivered on leases back to
// hive-policyd (ReportLeaseUsage), which charges them to the senders'
// limits, and forgets those it acknowledged. Called by Session right after
// a policy call succeeded (the service is back), so no thread of its own.
//
// Exactly-once: each usage carries its id (the transaction id); a report
// whose reply is lost is sent again with the same ids and hive-policyd
// charges nothing twice. Only one report runs at a time (LeaseTable's
// reporter flag): other sessions skip it rather than wait.
//
// Thread-safety: thread-safe (the table and the client are).
#pragma once

#include <cstddef>

#include "absl/status/statusor.h"
#include "milter/lease_table.h"
#include "milter/policy_client.h"

namespace hive::milter {

// Usages sent per report: one bounded RPC; more wait for the next call.
inline constexpr std::size_t kMaxUsagesPerReport = 500;

// Sends up to kMaxUsagesPerReport unreported usages. Returns how many were
// acknowledged (0 when there was nothing to send or another report is
// running), or the RPC's error (the usages stay for the next try).
absl::StatusOr<std::size_t> FlushLeaseUsage(LeaseTable& leases, PolicyClient& policy);

}  // namespace hive::milter
