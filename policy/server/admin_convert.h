// Proto <-> domain conversions of the admin API (admin.proto), beside
// convert.h which does the same for policy.proto: an .eml file and an
// envelope as the MessageRequest hive-milter would send, limiter window
// statuses as counters, and the admin access in force as names and roles.
//
// Pure functions; thread-safe.
#pragma once

#include <string_view>

#include "hive/admin/v1/admin.pb.h"
#include "hive/policy/v1/policy.pb.h"
#include "ratelimit/limiter.h"
#include "server/access_control.h"

namespace hive::policy::server {

// Headers (folds kept, as the milter forwards them) and body of
// `request.eml` (content::SplitRawMessage), the envelope from the request;
// a unique dry-run transaction id.
hive::policy::v1::MessageRequest MessageFromDryRun(const hive::admin::v1::DryRunRequest& request);

// used = capacity - remaining (a read with cost 0 leaves remaining as is).
void AddCounters(const ratelimit::LimitDecision& decision, hive::admin::v1::CountersReply& reply);

// Names and roles, never a token's hash; the local role only where it
// applies (a plaintext listener), else "none".
void AccessToProto(const AccessSettings& settings, hive::admin::v1::AdminAccess& out);

}  // namespace hive::policy::server
