// Protobuf <-> domain types: the only place that knows both the wire
// contract (policy.proto) and the engines' plain structs.
//
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "config/snapshot.h"
#include "content/message.h"
#include "content/scorer.h"
#include "hive/policy/v1/policy.pb.h"
#include "match/facts.h"
#include "ratelimit/limiter.h"
#include "routing/feedback_loop.h"

namespace hive::policy::server {

match::Facts FactsFromTransaction(const hive::policy::v1::Transaction& txn);
content::Message MessageFromRequest(const hive::policy::v1::MessageRequest& request);
// The transaction facts the content checks read (sender, login, recipient
// count, whether the milter cut the message).
content::Envelope EnvelopeFromRequest(const hive::policy::v1::MessageRequest& request);

// Text that came from the client made safe for one SMTP reply line:
// printable ASCII only (others become '?'), at most max_bytes.
std::string SmtpSafe(std::string_view text, std::size_t max_bytes = 200);

// "37s": whole seconds, rounded up, at least 1.
std::string RetryText(ratelimit::Nanos retry_after);

// Sets action, reply, LIMIT_<rule> symbols and the window statuses from a
// limit decision. With keep_action_on_allow (end of message, where content
// scoring set the action) an allowing decision adds symbols and statuses
// only.
void ApplyLimitDecision(const ratelimit::LimitDecision& decision, hive::policy::v1::Verdict& verdict,
                        bool keep_action_on_allow = false);

// Lists each limit window (rule, window, key) once, where it first
// appeared, with the status it was given last: an end-of-message verdict
// holds every recipient's decision, and windows they share would repeat.
void KeepOneStatusPerWindow(hive::policy::v1::Verdict& verdict);

// X-Hive-Score, the header delivered mail carries when
// ContentResult::add_header: "S / reject R; SYMBOL(weight), ..." (R "-"
// when nothing rejects). Every copy the client sent is removed first:
// `request`'s headers say how many.
inline constexpr char kScoreHeader[] = "X-Hive-Score";
void SetScoreHeader(const content::ContentResult& result, const hive::policy::v1::MessageRequest& request,
                    hive::policy::v1::Verdict& verdict);

// Sets action, reply, score, quarantine reason and symbols from the content
// result (the pool is the caller's business).
void ApplyContentResult(const content::ContentResult& result, double quarantine_score,
                        hive::policy::v1::Verdict& verdict);

// A delivery report as the feedback loop's input (recipient -> domain).
routing::DeliveryOutcome OutcomeFromReport(const hive::policy::v1::DeliveryReport& report);

// What the limits and the content engine know of an end-of-message request:
// the transaction facts with recipients, headers, message class (the value
// of `class_header`, lower case) and size, and the content envelope with
// the same class and client address. Shared by CheckMessage and the admin
// API's dry-run, so a dry-run sees exactly what a real message would.
struct MessageInputs {
  match::Facts facts;
  content::Envelope envelope;
};
MessageInputs InputsFromMessage(const hive::policy::v1::MessageRequest& request, const config::PolicySnapshot& snapshot);

}  // namespace hive::policy::server
