// GCRA (generic cell rate algorithm), the arithmetic of one rate-limit
// bucket. Pure functions: the state (TAT) lives wherever a Store keeps it.
//
// Formulation (the "virtual scheduling" form used by redis-cell/throttled):
//   T   = period / limit      emission interval: one unit per T on average
//   B   = burst               units that may be spent at once from idle
//                             (default limit: a whole period's allowance)
//   TAT = theoretical arrival time, the bucket's only state (0 = idle)
// Taking n units at `now` is allowed iff
//   max(TAT, now) + n*T - now <= B*T
// and then TAT' = max(TAT, now) + n*T. So an idle bucket allows B at once,
// then one unit every T; unlike a fixed window there is no double burst
// at a window boundary. When refused, the earliest retry is
//   max(TAT, now) + n*T - B*T - now.
// Giving back n units (a released reservation) sets TAT' = TAT - n*T.
// Thread-safe: pure.
#pragma once

#include <cstdint>

#include "ratelimit/clock.h"

namespace hive::policy::ratelimit {

struct GcraParams {
  Nanos emission_interval{0};  // T
  std::int64_t burst = 0;      // B

  // Requires limit >= 1, period >= limit ns, burst >= 1.
  static GcraParams From(std::uint64_t limit, Nanos period, std::uint64_t burst);
  Nanos tolerance() const { return emission_interval * burst; }  // B*T
};

struct GcraResult {
  bool allowed = false;
  Nanos tat{0};              // new TAT when allowed, unchanged otherwise
  Nanos retry_after{0};      // 0 when allowed
  std::int64_t remaining = 0;  // whole units still available after this call
};

GcraResult GcraTake(Nanos tat, Nanos now, const GcraParams& params, std::int64_t cost);
Nanos GcraGiveBack(Nanos tat, Nanos now, const GcraParams& params, std::int64_t cost);

}  // namespace hive::policy::ratelimit
