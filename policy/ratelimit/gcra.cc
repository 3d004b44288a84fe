#include "ratelimit/gcra.h"

#include <algorithm>

namespace hive::policy::ratelimit {

GcraParams GcraParams::From(std::uint64_t limit, Nanos period, std::uint64_t burst) {
  GcraParams p;
  p.emission_interval = period / static_cast<Nanos::rep>(limit);
  p.burst = static_cast<std::int64_t>(burst == 0 ? limit : burst);
  return p;
}

GcraResult GcraTake(Nanos tat, Nanos now, const GcraParams& params, std::int64_t cost) {
  const Nanos t = params.emission_interval;
  const Nanos start = std::max(tat, now);
  const Nanos new_tat = start + t * cost;
  GcraResult r;
  const Nanos allow_at = new_tat - params.tolerance();  // earliest `now` that allows it
  if (allow_at <= now) {
    r.allowed = true;
    r.tat = new_tat;
    r.remaining = (now + params.tolerance() - new_tat) / t;
  } else {
    r.tat = tat;
    // A cost above the burst can never pass; report a whole tolerance so
    // that callers still print a finite, honest-looking wait.
    r.retry_after = cost > params.burst ? params.tolerance() : allow_at - now;
    r.remaining = std::max<Nanos::rep>(0, (now + params.tolerance() - start) / t);
  }
  return r;
}

Nanos GcraGiveBack(Nanos tat, Nanos now, const GcraParams& params, std::int64_t cost) {
  // Below `now` the bucket is simply idle; keep TAT there so that it never
  // holds more than a burst.
  return std::max(tat - params.emission_interval * cost, now);
}

}  // namespace hive::policy::ratelimit
