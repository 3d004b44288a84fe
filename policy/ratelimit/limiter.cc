#include "ratelimit/limiter.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace hive::policy::ratelimit {
namespace {

constexpr Nanos kSweepInterval = std::chrono::seconds(1);

// One bucket per rule, key and window period; the period (not the window's
// position) names the window so that reordering windows in a reload keeps
// the counters. The config refuses two windows with one period.
std::vector<BucketOp> OpsFor(const LimitRule& rule, const std::string& key) {
  std::vector<BucketOp> ops;
  ops.reserve(rule.windows.size());
  for (const Window& w : rule.windows) {
    ops.push_back({absl::StrCat(rule.name, "\x1f", w.period.count(), "\x1f", key),
                   GcraParams::From(w.limit, w.period, w.burst), 1});
  }
  return ops;
}

// The hit of one rule whose windows are results[first, first+count).
std::optional<LimitHit> HitOf(const LimitRule& rule, const std::string& key, const TakeResult& result,
                              std::size_t first, std::size_t count) {
  LimitHit hit{rule.name, key, rule.action, Nanos(0), INT64_MAX};
  bool refused = false;
  for (std::size_t i = first; i < first + count; ++i) {
    const GcraResult& b = result.buckets[i];
    hit.remaining = std::min(hit.remaining, b.remaining);
    if (!b.allowed) {
      refused = true;
      hit.retry_after = std::max(hit.retry_after, b.retry_after);
    }
  }
  if (!refused) return std::nullopt;
  return hit;
}

}  // namespace

LimitDecision DecideFromHits(std::vector<LimitHit> hits) {
  LimitDecision d;
  for (const LimitHit& h : hits) {
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

absl::StatusOr<LimitDecision> Limiter::CheckSender(const LimitPolicy& policy, const match::Facts& facts) {
  const Nanos now = clock_.Now();
  MaybeExpire(now);
  std::vector<LimitHit> hits;
  for (const LimitRule& rule : policy.rules) {
    if (!rule.SenderStage() || !rule.match.Matches(facts)) continue;
    const std::optional<std::string> key = rule.key.Expand(facts);
    if (!key) continue;
    const std::vector<BucketOp> ops = OpsFor(rule, *key);
    absl::StatusOr<TakeResult> r = store_.Take(ops, now, TakeMode::kPeek);
    if (!r.ok()) return r.status();
    if (auto hit = HitOf(rule, *key, *r, 0, ops.size())) hits.push_back(*std::move(hit));
  }
  return DecideFromHits(std::move(hits));
}

absl::StatusOr<LimitDecision> Limiter::CheckRecipient(const LimitPolicy& policy,
                                                      const std::string& transaction_id,
                                                      const match::Facts& facts) {
  if (facts.recipients.size() != 1) {
    return absl::InvalidArgumentError("a recipient check needs exactly one recipient");
  }
  const Nanos now = clock_.Now();
  MaybeExpire(now);
  const std::string& rcpt = facts.recipients.front().address;

  std::shared_ptr<Transaction> txn;
  std::unique_lock<std::mutex> txn_lock;
  for (;;) {  // a concurrent Commit/Release may close the one we found
    txn = Open(transaction_id);
    txn_lock = std::unique_lock(txn->mu);
    if (!txn->closed) break;
  }
  if (txn->recipients.contains(rcpt)) return LimitDecision{};

  struct Pending {
    const LimitRule* rule;
    std::string key;
    std::string bucket;
    std::vector<BucketOp> ops;
  };
  std::vector<Pending> enforced, shadow;
  for (const LimitRule& rule : policy.rules) {
    if (!rule.match.Matches(facts)) continue;
    std::optional<std::string> key = rule.key.Expand(facts);
    if (!key) continue;
    std::string bucket = absl::StrCat(rule.name, "\x1f", *key);
    if (rule.cost == Cost::kMessages && txn->message_buckets.contains(bucket)) continue;
    std::vector<BucketOp> ops = OpsFor(rule, *key);
    (rule.action == LimitAction::kShadow ? shadow : enforced)
        .push_back({&rule, *std::move(key), std::move(bucket), std::move(ops)});
  }

  auto reserve = [&](const Pending& p) {
    txn->reserved.insert(txn->reserved.end(), p.ops.begin(), p.ops.end());
    ++txn->reservations;
    if (p.rule->cost == Cost::kMessages) txn->message_buckets.insert(p.bucket);
  };

  // A transaction that holds nothing needs no entry; leaving one behind
  // (say, for a refused first recipient) would never expire.
  auto forget_if_empty = [&] {
    if (txn->reservations > 0) return;
    txn->closed = true;
    std::lock_guard lock(mu_);
    if (auto it = transactions_.find(transaction_id); it != transactions_.end() && it->second == txn) {
      transactions_.erase(it);
    }
  };

  std::vector<LimitHit> hits;
  if (!enforced.empty()) {
    // One Take over every window of every enforcing rule: all-or-nothing.
    std::vector<BucketOp> ops;
    for (const Pending& p : enforced) ops.insert(ops.end(), p.ops.begin(), p.ops.end());
    absl::StatusOr<TakeResult> r = store_.Take(ops, now, TakeMode::kConsume);
    if (!r.ok()) {
      forget_if_empty();
      return r.status();
    }
    if (!r->allowed) {
      forget_if_empty();
      std::size_t first = 0;
      for (const Pending& p : enforced) {
        if (auto hit = HitOf(*p.rule, p.key, *r, first, p.ops.size())) hits.push_back(*std::move(hit));
        first += p.ops.size();
      }
      return DecideFromHits(std::move(hits));
    }
    for (const Pending& p : enforced) reserve(p);
  }
  for (const Pending& p : shadow) {
    absl::StatusOr<TakeResult> r = store_.Take(p.ops, now, TakeMode::kConsume);
    if (!r.ok()) {
      // Enforced reservations may already be held: keep them for the
      // milter's EndTransaction or the TTL.
      if (txn->reservations > 0) txn->expires_at = (now + policy.reservation_ttl).count();
      forget_if_empty();
      return r.status();
    }
    if (r->allowed) {
      reserve(p);
    } else if (auto hit = HitOf(*p.rule, p.key, *r, 0, p.ops.size())) {
      hits.push_back(*std::move(hit));
    }
  }

  if (txn->reservations > 0) {
    txn->recipients.insert(rcpt);
    txn->expires_at = (now + policy.reservation_ttl).count();
  }
  forget_if_empty();
  return DecideFromHits(std::move(hits));
}

absl::StatusOr<int> Limiter::Commit(const std::string& transaction_id) {
  MaybeExpire(clock_.Now());
  std::shared_ptr<Transaction> txn = Close(transaction_id);
  if (txn == nullptr) return 0;
  return txn->reservations;
}

absl::StatusOr<int> Limiter::Release(const std::string& transaction_id) {
  const Nanos now = clock_.Now();
  MaybeExpire(now);
  std::shared_ptr<Transaction> txn = Close(transaction_id);
  if (txn == nullptr) return 0;
  if (absl::Status s = store_.GiveBack(txn->reserved, now); !s.ok()) return s;
  return txn->reservations;
}

std::shared_ptr<Limiter::Transaction> Limiter::Open(const std::string& id) {
  std::lock_guard lock(mu_);
  std::shared_ptr<Transaction>& txn = transactions_[id];
  if (txn == nullptr || txn->closed) txn = std::make_shared<Transaction>();
  return txn;
}

std::shared_ptr<Limiter::Transaction> Limiter::Close(const std::string& id) {
  std::shared_ptr<Transaction> txn;
  {
    std::lock_guard lock(mu_);
    auto it = transactions_.find(id);
    if (it == transactions_.end()) return nullptr;
    txn = std::move(it->second);
    transactions_.erase(it);
  }
  // Waits for a CheckRecipient still working on it, so that nothing it
  // reserves is missed.
  std::lock_guard lock(txn->mu);
  if (txn->closed) return nullptr;
  txn->closed = true;
  return txn;
}

void Limiter::MaybeExpire(Nanos now) {
  {
    std::lock_guard lock(mu_);
    if (now < next_sweep_) return;
    next_sweep_ = now + kSweepInterval;
  }
  ExpireReservations();
}

std::size_t Limiter::ExpireReservations() {
  const Nanos now = clock_.Now();
  std::lock_guard lock(mu_);
  // Expired entries are dropped without touching the store: their
  // reservations stay consumed. An entry still being filled has
  // expires_at 0 and is left alone.
  return std::erase_if(transactions_, [&](const auto& entry) {
    const Nanos::rep at = entry.second->expires_at.load();
    return at != 0 && Nanos(at) <= now;
  });
}

std::size_t Limiter::PendingTransactions() const {
  std::lock_guard lock(mu_);
  return transactions_.size();
}

}  // namespace hive::policy::ratelimit
