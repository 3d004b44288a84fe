#include "server/convert.h"

#include <algorithm>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "support/log.h"

namespace hive::policy::server {
namespace {

namespace v1 = hive::policy::v1;

constexpr std::size_t kReplySymbols = 3;

void SetReply(v1::Verdict& verdict, const char* code, const char* enhanced, const std::string& line) {
  v1::SmtpReply* reply = verdict.mutable_reply();
  reply->set_code(code);
  reply->set_enhanced_code(enhanced);
  reply->add_lines(line);
}

const char* ActionName(ratelimit::LimitAction a) {
  switch (a) {
    case ratelimit::LimitAction::kTempfail: return "tempfail";
    case ratelimit::LimitAction::kReject: return "reject";
    case ratelimit::LimitAction::kShadow: return "shadow";
    case ratelimit::LimitAction::kRoute: return "route";
  }
  return "?";
}

std::string KeyText(const std::string& key) {
  return key.empty() ? std::string("all mail") : SmtpSafe(key, 120);
}

}  // namespace

match::Facts FactsFromTransaction(const v1::Transaction& txn) {
  return match::MakeFacts(txn.sender().address(), txn.connection().sasl().login(),
                          txn.connection().client_address());
}

content::Message MessageFromRequest(const v1::MessageRequest& request) {
  content::Message m;
  m.headers.reserve(request.headers_size());
  for (const v1::Header& h : request.headers()) m.headers.push_back({h.name(), h.value()});
  m.body = request.body();
  return m;
}

content::Envelope EnvelopeFromRequest(const v1::MessageRequest& request) {
  content::Envelope e;
  e.sender = request.transaction().sender().address();
  e.sasl_user = request.transaction().connection().sasl().login();
  e.recipients = static_cast<std::size_t>(request.recipients_size());
  e.truncated = request.truncated();
  return e;
}

std::string SmtpSafe(std::string_view text, std::size_t max_bytes) {
  std::string out;
  for (char c : text.substr(0, max_bytes)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

std::string RetryText(ratelimit::Nanos retry_after) {
  const auto secs = std::max<std::int64_t>(
      1, std::chrono::ceil<std::chrono::seconds>(retry_after).count());
  return absl::StrCat(secs, "s");
}

void KeepOneStatusPerWindow(v1::Verdict& verdict) {
  if (verdict.limits_size() < 2) return;
  // Copies of the names as keys: the statuses move below.
  absl::flat_hash_map<std::tuple<std::string, std::string, std::string>, int> first;
  google::protobuf::RepeatedPtrField<v1::LimitStatus> kept;
  for (v1::LimitStatus& status : *verdict.mutable_limits()) {
    const auto [it, added] = first.try_emplace(std::tuple(status.rule(), status.window(), status.key()), kept.size());
    if (added) {
      kept.Add()->Swap(&status);
    } else {
      kept.Mutable(it->second)->Swap(&status);
    }
  }
  verdict.mutable_limits()->Swap(&kept);
}

void ApplyLimitDecision(const ratelimit::LimitDecision& decision, v1::Verdict& verdict,
                        bool keep_action_on_allow) {
  for (const ratelimit::WindowStatus& w : decision.windows) {
    v1::LimitStatus* s = verdict.add_limits();
    s->set_rule(w.rule);
    s->set_key(hive::log::Sanitize(w.key, 128));
    s->set_window(w.window);
    s->set_limit(w.limit);
    s->set_remaining(w.remaining);
    s->set_reset_at_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(w.reset_at).count());
  }
  if (decision.degraded) {
    v1::Symbol* s = verdict.add_symbols();
    s->set_name("RATELIMIT_FALLBACK");
    s->set_detail("decided on the local fallback store: the shared store is unreachable");
  }
  for (const ratelimit::LimitHit& hit : decision.hits) {
    v1::Symbol* s = verdict.add_symbols();
    s->set_name(absl::StrCat("LIMIT_", hit.rule));
    s->set_weight(0);
    s->set_detail(absl::StrCat("key=", hive::log::Sanitize(hit.key, 128), " action=", ActionName(hit.action),
                               " remaining=", hit.remaining, " retry_in=", RetryText(hit.retry_after)));
  }
  switch (decision.outcome) {
    case ratelimit::LimitOutcome::kAllow:
      if (!keep_action_on_allow) verdict.set_action(v1::ACTION_CONTINUE);
      break;
    case ratelimit::LimitOutcome::kTempfail:
      verdict.set_action(v1::ACTION_TEMPFAIL);
      SetReply(verdict, "451", "4.7.1",
               absl::StrCat("Deferred: rate limit ", decision.refusal->rule, " exceeded for ",
                            KeyText(decision.refusal->key), ", retry in ", RetryText(decision.refusal->retry_after)));
      break;
    case ratelimit::LimitOutcome::kReject:
      verdict.set_action(v1::ACTION_REJECT);
      SetReply(verdict, "550", "5.7.1",
               absl::StrCat("Refused: rate limit ", decision.refusal->rule, " exceeded for ",
                            KeyText(decision.refusal->key)));
      break;
  }
}

void ApplyContentResult(const content::ContentResult& result, double quarantine_score,
                        v1::Verdict& verdict) {
  verdict.set_score(result.score);
  std::vector<std::string> top;
  for (const content::ContentHit& hit : result.hits) {
    v1::Symbol* s = verdict.add_symbols();
    s->set_name(hit.rule);
    s->set_weight(hit.weight);
    s->set_detail(hive::log::Sanitize(hit.matched, content::Scorer::kMaxMatchedBytes));
    if (top.size() < kReplySymbols) top.push_back(hit.rule);
  }
  const std::string summary = absl::StrFormat("score %.1f: %s", result.score, absl::StrJoin(top, ", "));
  switch (result.action) {
    case content::ContentAction::kContinue: verdict.set_action(v1::ACTION_CONTINUE); break;
    case content::ContentAction::kQuarantine:
      verdict.set_action(v1::ACTION_QUARANTINE);
      verdict.set_quarantine_reason(
          absl::StrFormat("hive: spam %s (quarantine at %.1f)", summary, quarantine_score));
      break;
    case content::ContentAction::kTempfail:
      // The sender's application keeps the message and retries; the
      // operator sees why in the decision line and can look at the sender.
      verdict.set_action(v1::ACTION_TEMPFAIL);
      SetReply(verdict, "451", "4.7.1", absl::StrCat("Try again later: message held back for its content (", summary, ")"));
      break;
    case content::ContentAction::kReject:
      verdict.set_action(v1::ACTION_REJECT);
      // The compliance gate names the requirement; a score names the top symbols.
      SetReply(verdict, "550", "5.7.1",
               result.refusal.empty() ? absl::StrCat("Refused: message looks like spam (", summary, ")")
                                      : absl::StrCat("Refused: ", SmtpSafe(result.refusal, 400)));
      break;
  }
}

void SetScoreHeader(const content::ContentResult& result, const v1::MessageRequest& request, v1::Verdict& verdict) {
  for (const v1::Header& h : request.headers()) {
    if (!absl::EqualsIgnoreCase(h.name(), kScoreHeader)) continue;
    v1::HeaderEdit* edit = verdict.add_header_edits();
    edit->set_op(v1::HeaderEdit::OP_DELETE);
    edit->set_name(kScoreHeader);
    edit->set_index(1);  // each delete makes the next copy the first
  }
  if (!result.add_header) return;
  // One line a reader can take in; the decision line has every symbol.
  constexpr std::size_t kMaxValueBytes = 900;
  std::string value =
      absl::StrFormat("%.2f / %s", result.score,
                      result.reject_score > 0 ? absl::StrFormat("%.2f", result.reject_score) : std::string("-"));
  const char* separator = "; ";
  for (const content::ContentHit& hit : result.hits) {
    const std::string symbol = absl::StrFormat("%s%s(%.2f)", separator, hit.rule, hit.weight);
    if (value.size() + symbol.size() > kMaxValueBytes) {
      value += ", ...";
      break;
    }
    value += symbol;
    separator = ", ";
  }
  v1::HeaderEdit* edit = verdict.add_header_edits();
  edit->set_op(v1::HeaderEdit::OP_ADD);
  edit->set_name(kScoreHeader);
  edit->set_value(value);
}

routing::DeliveryOutcome OutcomeFromReport(const v1::DeliveryReport& report) {
  routing::DeliveryOutcome out;
  out.queue_id = report.queue_id();
  out.member = report.pool_member();
  out.recipient_domain = match::DomainOf(match::NormaliseAddress(report.recipient()));
  switch (report.status()) {
    case v1::DeliveryReport::STATUS_DEFERRED: out.status = routing::DeliveryStatus::kDeferred; break;
    case v1::DeliveryReport::STATUS_BOUNCED: out.status = routing::DeliveryStatus::kBounced; break;
    default: out.status = routing::DeliveryStatus::kSent; break;
  }
  out.dsn = report.dsn().substr(0, 16);
  out.reply = report.reply().substr(0, 512);
  return out;
}

MessageInputs InputsFromMessage(const v1::MessageRequest& request, const config::PolicySnapshot& snapshot) {
  MessageInputs in;
  in.facts = FactsFromTransaction(request.transaction());
  for (const v1::Address& rcpt : request.recipients()) in.facts.recipients.push_back(match::MakeRecipient(rcpt.address()));
  for (const v1::Header& h : request.headers()) match::AddHeader(in.facts, h.name(), h.value());
  in.facts.message_class = config::MessageClassOf(snapshot, in.facts);
  in.facts.message_bytes = request.body_size();
  // The content engine sees the class (the compliance gate applies to bulk
  // classes) and the client address (DNS lists) as the limits do.
  in.envelope = EnvelopeFromRequest(request);
  in.envelope.message_class = in.facts.message_class;
  in.envelope.client_ip = in.facts.client_ip_text;
  return in;
}

}  // namespace hive::policy::server
