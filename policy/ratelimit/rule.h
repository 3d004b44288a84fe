// The compiled limit rules (built by config/snapshot.cc from
// policy_config.proto): plain values the Limiter evaluates.
//
// A rule has several windows at once, all of which must allow: GCRA rate
// windows (limit per period, burst) and calendar quotas (limit per local
// day / week / month in LimitPolicy::zone). Its cost is per message, per
// recipient or per byte. Overrides give matching senders other numbers for
// some windows without copying the rule (same bucket keys). Exemptions
// (postmaster@, abuse@, monitoring IPs) are policy-wide.
//
// Stage: a rule whose match or key needs only envelope facts is decided at
// RCPT, per recipient (reserve; commit or release at the end). A rule that
// needs end-of-message facts (headers, message class, pool), counts bytes,
// or routes is decided at end of message for the whole message.
// Plain data, immutable once built: thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "match/facts.h"
#include "match/matcher.h"
#include "ratelimit/calendar.h"
#include "ratelimit/clock.h"
#include "ratelimit/key_template.h"

namespace hive::policy::ratelimit {

enum class Cost { kMessages, kRecipients, kBytes };
enum class LimitAction { kTempfail, kReject, kShadow, kRoute };

// Whether the action refuses mail over the limit (shadow and route never do).
inline bool Enforcing(LimitAction a) { return a == LimitAction::kTempfail || a == LimitAction::kReject; }

struct Window {
  std::uint64_t limit = 0;
  Nanos period{0};
  std::uint64_t burst = 0;  // 0: limit
};

struct Quota {
  std::uint64_t limit = 0;
  CalendarUnit unit = CalendarUnit::kDay;
};

struct LimitOverride {
  match::Matcher match;
  // Replace the rule's window of the same period / quota of the same unit;
  // one with a period or unit the rule lacks is added.
  std::vector<Window> windows;
  std::vector<Quota> quotas;
};

struct LimitRule {
  std::string name;
  match::Matcher match;
  KeyTemplate key;
  std::vector<Window> windows;
  std::vector<Quota> quotas;
  Cost cost = Cost::kMessages;
  LimitAction action = LimitAction::kTempfail;
  std::string route_pool;  // kRoute: where mail over the limit goes
  std::vector<LimitOverride> overrides;  // first match wins

  bool MessageStage() const {
    return match.UsesMessage() || key.UsesMessage() || cost == Cost::kBytes || action == LimitAction::kRoute;
  }
  // Decidable at MAIL FROM: needs neither recipient nor message facts.
  bool SenderStage() const { return !MessageStage() && !match.UsesRecipient() && !key.UsesRecipient(); }
};

// Mail no limit counts: any matching sender, client IP or SASL user exempts
// the whole transaction; a matching recipient exempts that recipient.
struct Exemptions {
  match::Matcher senders;
  match::Matcher client_ips;
  match::Matcher sasl_users;
  match::Matcher recipients;

  bool ExemptsTransaction(const match::Facts& facts) const {
    return (!senders.empty() && senders.Matches(facts)) || (!client_ips.empty() && client_ips.Matches(facts)) ||
           (!sasl_users.empty() && sasl_users.Matches(facts));
  }
  bool ExemptsRecipient(const match::Recipient& recipient) const {
    if (recipients.empty()) return false;
    match::Facts f;
    f.recipients.push_back(recipient);
    return recipients.Matches(f);
  }
};

struct LimitPolicy {
  std::vector<LimitRule> rules;
  Nanos reservation_ttl = std::chrono::minutes(10);
  TimeZone zone;  // of calendar quotas; UTC by default
  Exemptions exempt;
  // ratelimit.decide_at end_of_message: the sender's and recipients'
  // rules are decided in CheckMessage, and no stage before is worth a call.
  bool at_end_of_message = false;

  // The stages worth a call (policy.proto Stages). At MAIL FROM only an
  // enforcing rule can change anything (CheckSender consumes nothing; a
  // shadow rule is counted at RCPT). Per recipient, any RCPT-stage rule:
  // it reserves there.
  bool DecidesAtSender() const {
    if (at_end_of_message) return false;
    for (const LimitRule& r : rules) {
      if (r.SenderStage() && Enforcing(r.action)) return true;
    }
    return false;
  }
  bool DecidesAtRecipient() const {
    if (at_end_of_message) return false;
    for (const LimitRule& r : rules) {
      if (!r.MessageStage()) return true;
    }
    return false;
  }
};

}  // namespace hive::policy::ratelimit
