#include "ratelimit/limiter.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace hive::policy::ratelimit {
namespace {

std::string PeriodName(Nanos period) { return absl::FormatDuration(absl::FromChrono(period)); }

// The windows and quotas of `rule` for these facts: the first matching
// override replaces those of the same period / unit and adds the others.
void Effective(const LimitRule& rule, const match::Facts& facts, std::vector<Window>& windows,
               std::vector<Quota>& quotas) {
  windows = rule.windows;
  quotas = rule.quotas;
  for (const LimitOverride& ov : rule.overrides) {
    if (!ov.match.Matches(facts)) continue;
    for (const Window& w : ov.windows) {
      auto it = std::find_if(windows.begin(), windows.end(), [&](const Window& x) { return x.period == w.period; });
      if (it != windows.end()) *it = w;
      else windows.push_back(w);
    }
    for (const Quota& q : ov.quotas) {
      auto it = std::find_if(quotas.begin(), quotas.end(), [&](const Quota& x) { return x.unit == q.unit; });
      if (it != quotas.end()) *it = q;
      else quotas.push_back(q);
    }
    return;
  }
}

}  // namespace

struct Limiter::Planned {
  const LimitRule* rule;
  std::string key;
  std::vector<BucketOp> ops;
  std::vector<std::pair<std::string, std::uint64_t>> labels;  // window name, limit; per op
};

LimitDecision DecideFromHits(std::vector<LimitHit> hits) {
  LimitDecision d;
  for (const LimitHit& h : hits) {
    if (h.action == LimitAction::kRoute) {
      if (!d.route_pool) d.route_pool = h.route_pool;
      continue;
    }
    if (h.action == LimitAction::kShadow) continue;
    const LimitOutcome o = h.action == LimitAction::kReject ? LimitOutcome::kReject : LimitOutcome::kTempfail;
    const bool stronger = d.outcome == LimitOutcome::kAllow ||
                          (o == LimitOutcome::kReject && d.outcome == LimitOutcome::kTempfail);
    const bool same = o == d.outcome;
    if (stronger || (same && h.retry_after > d.refusal->retry_after)) {
      d.outcome = o;
      d.refusal = h;
    }
  }
  d.hits = std::move(hits);
  return d;
}

std::vector<BucketOp> Limiter::OpsFor(const LimitPolicy& policy, const LimitRule& rule, int index,
                                      const match::Facts& facts, const std::string& key, std::int64_t cost,
                                      Nanos wall) const {
  std::vector<Window> windows;
  std::vector<Quota> quotas;
  Effective(rule, facts, windows, quotas);
  std::vector<BucketOp> ops;
  ops.reserve(windows.size() + quotas.size());
  // One bucket per rule, key and window period (or quota unit): the period,
  // not the window's position, names it, so that reordering windows in a
  // reload or an override keeps the counters.
  for (const Window& w : windows) {
    BucketOp op;
    op.key = absl::StrCat(rule.name, "\x1f", w.period.count(), "\x1f", key);
    op.params = GcraParams::From(w.limit, w.period, w.burst);
    op.cost = cost;
    op.rule = index;
    ops.push_back(std::move(op));
  }
  for (const Quota& q : quotas) {
    const CalendarWindow cw = policy.zone.WindowAt(q.unit, wall);
    BucketOp op;
    op.key = absl::StrCat(rule.name, "\x1f", std::string(CalendarUnitName(q.unit)), "\x1f", key);
    op.kind = BucketKind::kQuota;
    op.limit = static_cast<std::int64_t>(q.limit);
    op.window_start = cw.start;
    op.window_end = cw.end;
    op.cost = cost;
    op.rule = index;
    ops.push_back(std::move(op));
  }
  // Usage counts once per rule, on its first window.
  if (!ops.empty()) {
    ops.front().usage_rule = rule.name;
    ops.front().usage_key = key;
  }
  return ops;
}

namespace {

std::vector<std::pair<std::string, std::uint64_t>> Labels(const LimitRule& rule, const match::Facts& facts) {
  std::vector<Window> windows;
  std::vector<Quota> quotas;
  Effective(rule, facts, windows, quotas);
  std::vector<std::pair<std::string, std::uint64_t>> out;
  for (const Window& w : windows) out.emplace_back(PeriodName(w.period), w.limit);
  for (const Quota& q : quotas) out.emplace_back(std::string(CalendarUnitName(q.unit)), q.limit);
  return out;
}

// Hit and window statuses of one rule whose ops are results[first, first+n).
void Summarise(const LimitRule& rule, const std::string& key, std::span<const BucketOp> ops,
               std::span<const BucketResult> results,
               const std::vector<std::pair<std::string, std::uint64_t>>& labels, Nanos wall,
               std::vector<LimitHit>& hits, std::vector<WindowStatus>& windows) {
  LimitHit hit{rule.name, key, rule.action, Nanos(0), INT64_MAX, rule.route_pool};
  bool refused = false;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const BucketResult& b = results[i];
    const bool quota = ops[i].kind == BucketKind::kQuota;
    const Nanos reset_at = quota ? ops[i].window_end : wall + b.reset_after;
    windows.push_back({rule.name, key, labels[i].first, labels[i].second, b.remaining, reset_at});
    if (b.skipped) continue;
    hit.remaining = std::min(hit.remaining, b.remaining);
    if (!b.allowed) {
      refused = true;
      hit.retry_after = std::max(hit.retry_after, quota ? std::max(Nanos(0), ops[i].window_end - wall) : b.retry_after);
    }
  }
  if (refused) hits.push_back(std::move(hit));
}

}  // namespace

absl::StatusOr<LimitDecision> Limiter::CheckSender(const LimitPolicy& policy, const match::Facts& facts) {
  if (policy.exempt.ExemptsTransaction(facts)) return LimitDecision{.exempt = true};
  const Nanos wall = clock_.Wall();
  std::vector<Planned> planned;
  for (std::size_t i = 0; i < policy.rules.size(); ++i) {
    const LimitRule& rule = policy.rules[i];
    if (!rule.SenderStage() || !rule.match.Matches(facts)) continue;
    std::optional<std::string> key = rule.key.Expand(facts);
    if (!key) continue;
    planned.push_back({&rule, *key, OpsFor(policy, rule, static_cast<int>(i), facts, *key, 1, wall),
                       Labels(rule, facts)});
  }
  return PeekPlanned(std::move(planned), wall);
}

absl::StatusOr<LimitDecision> Limiter::CheckRecipient(const LimitPolicy& policy,
                                                      const std::string& transaction_id,
                                                      const match::Facts& facts) {
  if (facts.recipients.size() != 1) {
    return absl::InvalidArgumentError("a recipient check needs exactly one recipient");
  }
  const match::Recipient& rcpt = facts.recipients.front();
  if (policy.exempt.ExemptsTransaction(facts) || policy.exempt.ExemptsRecipient(rcpt)) {
    return LimitDecision{.exempt = true};
  }
  const Nanos wall = clock_.Wall();
  std::vector<Planned> planned;
  for (std::size_t i = 0; i < policy.rules.size(); ++i) {
    const LimitRule& rule = policy.rules[i];
    if (rule.MessageStage() || !rule.match.Matches(facts)) continue;
    std::optional<std::string> key = rule.key.Expand(facts);
    if (!key) continue;
    Planned p{&rule, *key, OpsFor(policy, rule, static_cast<int>(i), facts, *key, 1, wall), Labels(rule, facts)};
    if (rule.cost == Cost::kMessages) {
      // Paid once per transaction and bucket, by its first recipient.
      for (BucketOp& op : p.ops) op.token = absl::StrCat("m\x1f", rule.name, "\x1f", *key);
    }
    planned.push_back(std::move(p));
  }
  return Reserve(policy, transaction_id, absl::StrCat("r\x1f", rcpt.address), std::move(planned), wall);
}

absl::StatusOr<LimitDecision> Limiter::CheckMessage(const LimitPolicy& policy, const std::string& transaction_id,
                                                    const match::Facts& facts) {
  if (policy.exempt.ExemptsTransaction(facts)) return LimitDecision{.exempt = true};
  std::int64_t recipients = 0;
  for (const match::Recipient& r : facts.recipients) recipients += policy.exempt.ExemptsRecipient(r) ? 0 : 1;
  const Nanos wall = clock_.Wall();
  std::vector<Planned> planned;
  for (std::size_t i = 0; i < policy.rules.size(); ++i) {
    const LimitRule& rule = policy.rules[i];
    if (!rule.MessageStage() || !rule.match.Matches(facts)) continue;
    std::optional<std::string> key = rule.key.Expand(facts);
    if (!key) continue;
    std::int64_t cost = 1;
    if (rule.cost == Cost::kRecipients) cost = recipients;
    if (rule.cost == Cost::kBytes) cost = static_cast<std::int64_t>(facts.message_bytes);
    if (cost <= 0) continue;
    planned.push_back(
        {&rule, *key, OpsFor(policy, rule, static_cast<int>(i), facts, *key, cost, wall), Labels(rule, facts)});
  }
  // "eom": a retried CheckMessage RPC of the same transaction costs once.
  return Reserve(policy, transaction_id, "eom", std::move(planned), wall);
}

absl::StatusOr<std::vector<BucketOp>> Limiter::BucketsOf(const LimitPolicy& policy, const std::string& rule,
                                                         const std::string& key, const match::Facts& facts) const {
  for (std::size_t i = 0; i < policy.rules.size(); ++i) {
    if (policy.rules[i].name != rule) continue;
    return OpsFor(policy, policy.rules[i], static_cast<int>(i), facts, key, 1, clock_.Wall());
  }
  return absl::NotFoundError(absl::StrCat("no limit named '", rule, "'"));
}

absl::StatusOr<LimitDecision> Limiter::Peek(const LimitPolicy& policy, const match::Facts& facts,
                                            const PeekOptions& options) {
  const bool one_rule = !options.rule.empty();
  if (!one_rule && policy.exempt.ExemptsTransaction(facts)) return LimitDecision{.exempt = true};
  std::int64_t recipients = 0;
  for (const match::Recipient& r : facts.recipients) recipients += policy.exempt.ExemptsRecipient(r) ? 0 : 1;
  const Nanos wall = clock_.Wall();
  std::vector<Planned> planned;
  bool found = false;
  for (std::size_t i = 0; i < policy.rules.size(); ++i) {
    const LimitRule& rule = policy.rules[i];
    std::optional<std::string> key;
    if (one_rule) {
      if (rule.name != options.rule) continue;
      key = options.key;
      found = true;
    } else {
      if (!rule.match.Matches(facts)) continue;
      key = rule.key.Expand(facts);
    }
    if (!key) continue;
    std::int64_t cost = 1;
    if (rule.cost == Cost::kRecipients) cost = std::max<std::int64_t>(recipients, 1);
    if (rule.cost == Cost::kBytes) cost = static_cast<std::int64_t>(facts.message_bytes);
    if (options.cost) cost = *options.cost;
    planned.push_back({&rule, *key, OpsFor(policy, rule, static_cast<int>(i), facts, *key, cost, wall),
                       Labels(rule, facts)});
  }
  if (one_rule && !found) return absl::NotFoundError(absl::StrCat("no limit named '", options.rule, "'"));
  return PeekPlanned(std::move(planned), wall);
}

absl::StatusOr<LimitDecision> Limiter::PeekPlanned(std::vector<Planned> planned, Nanos wall) {
  if (planned.empty()) return LimitDecision{};
  std::vector<BucketOp> ops;
  for (Planned& p : planned) {
    // Moved, not copied: p.ops keeps only its size (as in Reserve).
    for (BucketOp& op : p.ops) ops.push_back(std::move(op));
  }
  // A peek changes nothing, so one bucket's answer does not depend on the
  // others asked with it: one call answers for every rule.
  absl::StatusOr<std::vector<BucketResult>> r = store_.Peek(ops);
  if (!r.ok()) return r.status();
  if (r->size() != ops.size()) return absl::InternalError("rate-limit store: a peek answered for other buckets");
  return DecisionFrom(planned, ops, *r, /*all_evaluated=*/true, wall);
}

LimitDecision Limiter::DecisionFrom(const std::vector<Planned>& planned, std::span<const BucketOp> ops,
                                    std::span<const BucketResult> results, bool all_evaluated, Nanos wall) {
  std::vector<LimitHit> hits;
  std::vector<WindowStatus> windows;
  std::size_t first = 0;
  for (const Planned& p : planned) {
    const std::size_t n = p.ops.size();
    if (all_evaluated || Enforcing(p.rule->action)) {
      Summarise(*p.rule, p.key, ops.subspan(first, n), results.subspan(first, n), p.labels, wall, hits, windows);
    }
    first += n;
  }
  LimitDecision d = DecideFromHits(std::move(hits));
  d.windows = std::move(windows);
  return d;
}

absl::StatusOr<LimitDecision> Limiter::Reserve(const LimitPolicy& policy, const std::string& transaction_id,
                                               const std::string& once, std::vector<Planned> planned,
                                               Nanos wall) {
  if (planned.empty()) return LimitDecision{};
  // Enforcing rules first (group 0, all-or-nothing together); each shadow
  // or route rule is a group of its own.
  std::stable_partition(planned.begin(), planned.end(),
                        [](const Planned& p) { return Enforcing(p.rule->action); });
  ReserveRequest request{transaction_id, once, {}, policy.reservation_ttl};
  std::size_t total = 0;
  for (const Planned& p : planned) total += p.ops.size();
  request.ops.reserve(total);
  int group = 0;
  for (Planned& p : planned) {
    const int g = Enforcing(p.rule->action) ? 0 : ++group;
    // Moved, not copied: from here on the request's ops are the ones read
    // (Summarise below); p.ops keeps only its size.
    for (BucketOp& op : p.ops) {
      op.group = g;
      request.ops.push_back(std::move(op));
    }
  }
  absl::StatusOr<ReserveResult> r = store_.Reserve(request);
  if (!r.ok()) return r.status();
  if (r->repeated) return LimitDecision{};
  if (r->buckets.size() != request.ops.size()) {
    return absl::InternalError("rate-limit store: a reserve answered for other buckets");
  }
  LimitDecision d = DecisionFrom(planned, request.ops, r->buckets, /*all_evaluated=*/r->allowed, wall);
  d.degraded = r->degraded;
  return d;
}

}  // namespace hive::policy::ratelimit
