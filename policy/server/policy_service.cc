#include "server/policy_service.h"

#include <chrono>
#include <exception>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "routing/member_chooser.h"
#include "routing/warmup_ledger.h"
#include "server/convert.h"
#include "server/decision_bus.h"
#include "server/decision_event.h"
#include "server/leases.h"
#include "server/policy_metrics.h"
#include "server/warmup_metrics.h"
#include "support/log.h"

namespace hive::policy::server {
namespace {

namespace v1 = hive::policy::v1;
using Clock = std::chrono::steady_clock;

std::string RandomPrefix() {
  std::random_device rd;
  return absl::StrFormat("%08x", static_cast<std::uint32_t>(rd()));
}

grpc::Status Invalid(const std::string& why) { return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, why); }

grpc::Status Unavailable(const absl::Status& s) {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, absl::StrCat("rate-limit store: ", s.message()));
}

// Every verdict says which stages the policy it was made with decides at,
// so that the milter skips the calls that cannot change anything.
void SetStages(const ratelimit::LimitPolicy& limits, v1::Verdict& verdict) {
  v1::Stages& stages = *verdict.mutable_stages();
  stages.set_sender(limits.DecidesAtSender());
  stages.set_recipient(limits.DecidesAtRecipient());
}

// The limit statuses were built for metrics and decision events; a caller
// that does not read them (hive-milter) does not get them on the wire.
void OmitLimits(bool omit, v1::Verdict& verdict) {
  if (omit) verdict.clear_limits();
}

grpc::Status CheckTransaction(const v1::Transaction& txn, bool has_txn) {
  if (!has_txn) return Invalid("transaction is required");
  if (txn.id().empty()) return Invalid("transaction.id is required");
  return grpc::Status::OK;
}

// One line per RPC: the decision, and enough context to find it in the MTA
// log (transaction and queue id). Everything from the client is sanitised.
// `recipients`: the message's recipient count (CheckMessage), -1 elsewhere.
void LogDecision(const char* rpc, const v1::Transaction& txn, const std::string& rcpt, const v1::Verdict& v,
                 const grpc::Status& status, Clock::time_point start, int recipients = -1) {
  std::string symbols;
  for (const v1::Symbol& s : v.symbols()) absl::StrAppend(&symbols, symbols.empty() ? "" : ",", s.name());
  std::string line = absl::StrCat(
      "decision=", v.decision_id(), " rpc=", rpc, " txn=\"", hive::log::Sanitize(txn.id(), 64), "\" queue=\"",
      hive::log::Sanitize(txn.queue_id(), 32), "\" sender=\"", hive::log::Sanitize(txn.sender().address(), 128),
      "\"");
  if (!rcpt.empty()) absl::StrAppend(&line, " rcpt=\"", hive::log::Sanitize(rcpt, 128), "\"");
  if (recipients >= 0) absl::StrAppend(&line, " rcpts=", recipients);
  // The connection facts policies match on, as the milter normalised them
  // (what an operator checks first when a {client_ip} or {sasl_user} rule
  // does not fire); tls="" means no TLS.
  const v1::Connection& conn = txn.connection();
  absl::StrAppend(&line, " client=\"", hive::log::Sanitize(conn.client_address(), 64), "\" sasl=\"",
                  hive::log::Sanitize(conn.sasl().login(), 128), "\" tls=\"",
                  hive::log::Sanitize(conn.tls().version(), 32), conn.tls().cipher().empty() ? "" : " ",
                  hive::log::Sanitize(conn.tls().cipher(), 64), "\"");
  if (status.ok()) {
    absl::StrAppend(&line, " action=", ActionName(v.action()));
    if (v.has_reply()) absl::StrAppend(&line, " reply=\"", v.reply().code(), " ", v.reply().enhanced_code(), "\"");
    absl::StrAppend(&line, absl::StrFormat(" score=%.2f", v.score()), " symbols=", symbols.empty() ? "-" : symbols,
                    " pool=", v.pool().empty() ? "-" : routing::PoolMark(v.pool(), v.pool_member()));
  } else {
    absl::StrAppend(&line, " error=", status.error_code(), " message=\"",
                    hive::log::Sanitize(status.error_message(), 200), "\"");
  }
  absl::StrAppend(&line, " latency_us=",
                  std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count());
  hive::log::Info(line);
}

// Exceptions must not cross into gRPC: a surprise becomes INTERNAL, which
// the milter handles like any other failure.
template <typename F>
grpc::Status Guard(F&& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    return grpc::Status(grpc::StatusCode::INTERNAL, absl::StrCat("internal error: ", e.what()));
  } catch (...) {
    return grpc::Status(grpc::StatusCode::INTERNAL, "internal error");
  }
}

}  // namespace

PolicyServiceImpl::PolicyServiceImpl(const config::SnapshotHolder& config, ratelimit::Limiter& limiter,
                                     PolicyMetrics* metrics, DecisionBus* decisions)
    : config_(config), limiter_(limiter), metrics_(metrics), decisions_(decisions), id_prefix_(RandomPrefix()) {}

void PolicyServiceImpl::Publish(DecisionContext context, const v1::Verdict& verdict, const grpc::Status& status,
                                Clock::time_point start) const {
  // One relaxed load when nobody watches: the event is not even built.
  if (decisions_ == nullptr || !decisions_->HasSubscribers()) return;
  context.time_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(limiter_.clock().Wall()).count();
  context.latency_us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
  decisions_->Publish(MakeDecision(context, verdict, status));
}

void PolicyServiceImpl::Record(const char* rpc, const v1::Verdict& verdict, const grpc::Status& status,
                               Clock::time_point start) const {
  if (metrics_ == nullptr) return;
  const std::chrono::duration<double> took = Clock::now() - start;
  metrics_->RecordCheck(rpc, verdict, status, took.count(), *config_.Get());
}

std::string PolicyServiceImpl::NextDecisionId() {
  return absl::StrFormat("%s-%x", id_prefix_, next_id_.fetch_add(1, std::memory_order_relaxed));
}

grpc::Status PolicyServiceImpl::CheckSender(grpc::ServerContext*, const v1::SenderRequest* request,
                                            v1::Verdict* verdict) {
  const auto start = Clock::now();
  verdict->set_decision_id(NextDecisionId());
  grpc::Status status = Guard([&] { return DoCheckSender(*request, *verdict); });
  LogDecision("CheckSender", request->transaction(), "", *verdict, status, start);
  Record("CheckSender", *verdict, status, start);
  Publish({.rpc = "CheckSender", .transaction = &request->transaction()}, *verdict, status, start);
  OmitLimits(request->omit_limits(), *verdict);
  return status;
}

grpc::Status PolicyServiceImpl::CheckRecipient(grpc::ServerContext*, const v1::RecipientRequest* request,
                                               v1::Verdict* verdict) {
  const auto start = Clock::now();
  verdict->set_decision_id(NextDecisionId());
  grpc::Status status = Guard([&] { return DoCheckRecipient(*request, *verdict); });
  LogDecision("CheckRecipient", request->transaction(), request->recipient().address(), *verdict, status, start);
  Record("CheckRecipient", *verdict, status, start);
  Publish({.rpc = "CheckRecipient", .transaction = &request->transaction(), .recipient = &request->recipient()},
          *verdict, status, start);
  OmitLimits(request->omit_limits(), *verdict);
  return status;
}

grpc::Status PolicyServiceImpl::CheckMessage(grpc::ServerContext*, const v1::MessageRequest* request,
                                             v1::Verdict* verdict) {
  const auto start = Clock::now();
  verdict->set_decision_id(NextDecisionId());
  grpc::Status status = Guard([&] { return DoCheckMessage(*request, *verdict); });
  LogDecision("CheckMessage", request->transaction(), "", *verdict, status, start, request->recipients_size());
  Record("CheckMessage", *verdict, status, start);
  Publish({.rpc = "CheckMessage", .transaction = &request->transaction(), .recipients = &request->recipients()},
          *verdict, status, start);
  OmitLimits(request->omit_limits(), *verdict);
  return status;
}

grpc::Status PolicyServiceImpl::EndTransaction(grpc::ServerContext*, const v1::EndTransactionRequest* request,
                                               v1::EndTransactionReply* reply) {
  const auto start = Clock::now();
  grpc::Status status = Guard([&] {
    if (request->transaction_id().empty()) return Invalid("transaction_id is required");
    absl::StatusOr<int> released = limiter_.Release(request->transaction_id());
    if (!released.ok()) return Unavailable(released.status());
    reply->set_released(static_cast<std::uint32_t>(*released));
    return grpc::Status::OK;
  });
  hive::log::Info(absl::StrCat("rpc=EndTransaction txn=\"", hive::log::Sanitize(request->transaction_id(), 64),
                               "\" reason=", v1::EndTransactionRequest::Reason_Name(request->reason()),
                               status.ok() ? absl::StrCat(" released=", reply->released())
                                           : absl::StrCat(" error=", status.error_code())));
  if (metrics_ != nullptr) metrics_->RecordEnd(status, std::chrono::duration<double>(Clock::now() - start).count());
  return status;
}

grpc::Status PolicyServiceImpl::DoCheckSender(const v1::SenderRequest& request, v1::Verdict& verdict) {
  if (grpc::Status s = CheckTransaction(request.transaction(), request.has_transaction()); !s.ok()) return s;
  const config::SnapshotPtr snapshot = config_.Get();
  SetStages(snapshot->limits, verdict);
  const match::Facts facts = FactsFromTransaction(request.transaction());
  absl::StatusOr<ratelimit::LimitDecision> decision = limiter_.CheckSender(snapshot->limits, facts);
  if (!decision.ok()) return Unavailable(decision.status());
  ApplyLimitDecision(*decision, verdict);
  return grpc::Status::OK;
}

grpc::Status PolicyServiceImpl::DoCheckRecipient(const v1::RecipientRequest& request, v1::Verdict& verdict) {
  if (grpc::Status s = CheckTransaction(request.transaction(), request.has_transaction()); !s.ok()) return s;
  if (request.recipient().address().empty()) return Invalid("recipient.address is required");
  const config::SnapshotPtr snapshot = config_.Get();
  SetStages(snapshot->limits, verdict);
  match::Facts facts = FactsFromTransaction(request.transaction());
  if (request.check_sender()) {
    // CheckSender folded into the first RCPT: a sender over its limit gets
    // CheckSender's refusal (code and text) and reserves nothing.
    absl::StatusOr<ratelimit::LimitDecision> sender = limiter_.CheckSender(snapshot->limits, facts);
    if (!sender.ok()) return Unavailable(sender.status());
    if (sender->outcome != ratelimit::LimitOutcome::kAllow) {
      ApplyLimitDecision(*sender, verdict);
      return grpc::Status::OK;
    }
  }
  facts.recipients.push_back(match::MakeRecipient(request.recipient().address()));
  absl::StatusOr<ratelimit::LimitDecision> decision =
      limiter_.CheckRecipient(snapshot->limits, request.transaction().id(), facts);
  if (!decision.ok()) return Unavailable(decision.status());
  ApplyLimitDecision(*decision, verdict);
  return grpc::Status::OK;
}

grpc::Status PolicyServiceImpl::DoCheckMessage(const v1::MessageRequest& request, v1::Verdict& verdict) {
  if (grpc::Status s = CheckTransaction(request.transaction(), request.has_transaction()); !s.ok()) return s;
  const config::SnapshotPtr snapshot = config_.Get();
  SetStages(snapshot->limits, verdict);
  const std::string& txn = request.transaction().id();
  if (snapshot->limits.at_end_of_message) {
    absl::StatusOr<bool> go_on = DecideEnvelopeLimits(*snapshot, request, verdict);
    if (!go_on.ok()) return Unavailable(go_on.status());
    KeepOneStatusPerWindow(verdict);
    if (!*go_on) return grpc::Status::OK;
  }
  MessageInputs inputs = InputsFromMessage(request, *snapshot);
  match::Facts& facts = inputs.facts;
  const content::ContentResult content = snapshot->content.Score(MessageFromRequest(request), inputs.envelope);
  ApplyContentResult(content, snapshot->content.quarantine_score(), verdict);
  SetScoreHeader(content, request, verdict);

  if (content.action == content::ContentAction::kReject || content.action == content::ContentAction::kTempfail) {
    // A refused message must not use up the sender's allowance (a
    // tempfailed one is counted when its retry goes through). If giving it
    // back fails the refusal still stands; the counters err on the strict
    // side.
    Release(txn);
    return grpc::Status::OK;
  }
  // Limits that need the whole message (headers, class, pool, content, bytes, route).
  facts.pool = snapshot->routing.Choose(routing::RouteInput{facts, content.score}).pool;
  facts.content_hash = content.content_hash;
  absl::StatusOr<ratelimit::LimitDecision> limits = limiter_.CheckMessage(snapshot->limits, txn, facts);
  if (!limits.ok()) return Unavailable(limits.status());
  ApplyLimitDecision(*limits, verdict, /*keep_action_on_allow=*/true);
  if (limits->outcome != ratelimit::LimitOutcome::kAllow) {
    // Refused for a limit: nothing of this transaction is consumed, so the
    // client's retry costs once.
    Release(txn);
    return grpc::Status::OK;
  }
  // The member before the commit: should the warm-up store fail, the
  // message is tempfailed and its reservations given back.
  if (grpc::Status st = ChoosePoolMember(*snapshot, txn, facts, content.score, *limits, verdict); !st.ok()) {
    Release(txn);
    return st;
  }
  // Delivered (continue or quarantine): the reservations become consumption.
  if (absl::StatusOr<int> r = limiter_.Commit(txn); !r.ok()) return Unavailable(r.status());
  // After the commit, so that the room a lease needs is counted past this
  // message.
  GrantLease(*snapshot, limiter_, request.transaction().sender().address(), facts.message_class, verdict, metrics_);
  return grpc::Status::OK;
}

absl::StatusOr<bool> PolicyServiceImpl::DecideEnvelopeLimits(const config::PolicySnapshot& snapshot,
                                                              const v1::MessageRequest& request, v1::Verdict& verdict) {
  const std::string& txn = request.transaction().id();
  match::Facts facts = FactsFromTransaction(request.transaction());
  absl::StatusOr<ratelimit::LimitDecision> sender = limiter_.CheckSender(snapshot.limits, facts);
  if (!sender.ok()) return sender.status();
  ApplyLimitDecision(*sender, verdict, /*keep_action_on_allow=*/true);
  if (sender->outcome != ratelimit::LimitOutcome::kAllow) return false;
  // Exactly the RCPT stage's decision, one recipient at a time: the same
  // facts, keys and once-per-transaction costs.
  for (const v1::Address& rcpt : request.recipients()) {
    facts.recipients.assign(1, match::MakeRecipient(rcpt.address()));
    absl::StatusOr<ratelimit::LimitDecision> decision = limiter_.CheckRecipient(snapshot.limits, txn, facts);
    if (!decision.ok()) {
      Release(txn);
      return decision.status();
    }
    ApplyLimitDecision(*decision, verdict, /*keep_action_on_allow=*/true);
    if (decision->outcome != ratelimit::LimitOutcome::kAllow) {
      Release(txn);
      return false;
    }
  }
  return true;
}

void PolicyServiceImpl::Release(const std::string& txn) {
  if (absl::StatusOr<int> r = limiter_.Release(txn); !r.ok()) {
    hive::log::Warning(absl::StrCat("release of txn \"", hive::log::Sanitize(txn, 64), "\" failed: ",
                                    r.status().message()));
  }
}

grpc::Status PolicyServiceImpl::ChoosePoolMember(const config::PolicySnapshot& snapshot, const std::string& txn,
                                                 const match::Facts& facts, double score,
                                                 const ratelimit::LimitDecision& limits, v1::Verdict& verdict) {
  const routing::Router& router = snapshot.routing;
  std::string pool = facts.pool;
  if (limits.route_pool) {
    // A route rule over its limit sends the message down its slow lane: a
    // routing rule for that lane decides, else the limit's route_pool.
    std::optional<std::string> lane;
    for (const ratelimit::LimitHit& h : limits.hits) {
      if (h.action == ratelimit::LimitAction::kRoute) {
        lane = h.rule;
        break;
      }
    }
    const routing::RouteDecision d = router.Choose(routing::RouteInput{facts, score, lane});
    pool = d.pool.empty() ? *limits.route_pool : d.pool;
  }
  verdict.set_pool(pool);
  if (pool.empty()) return grpc::Status::OK;
  std::vector<std::string> domains;
  for (const match::Recipient& r : facts.recipients) domains.push_back(r.domain);
  const std::vector<routing::GroupCount> groups = routing::CountGroups(router.groups(), domains);
  routing::WarmupLedger ledger(limiter_.store(), limiter_.clock(), snapshot.limits.zone, txn);
  absl::StatusOr<routing::MemberChoice> choice =
      routing::ChooseMember(router, pool, txn, router.IsTransactional(facts.message_class), groups, ledger);
  if (!choice.ok()) return Unavailable(choice.status());
  verdict.set_pool(choice->pool);
  verdict.set_pool_member(choice->member);
  if (!choice->member.empty()) {
    hive::log::Info(absl::StrCat("route txn=\"", hive::log::Sanitize(txn, 64), "\" pool=", choice->pool,
                                 " member=", choice->member, " why=\"", choice->why, "\""));
  }
  return grpc::Status::OK;
}

grpc::Status PolicyServiceImpl::ReportLeaseUsage(grpc::ServerContext*, const v1::LeaseUsageReport* report,
                                                 v1::LeaseUsageReply* reply) {
  grpc::Status status = Guard([&] { return ReconcileLeaseUsage(*config_.Get(), limiter_, *report, *reply, metrics_); });
  hive::log::Info(absl::StrCat("rpc=ReportLeaseUsage usages=", report->usages_size(), " charged=", reply->charged(),
                               " duplicates=", reply->duplicates(),
                               status.ok() ? "" : absl::StrCat(" error=", status.error_code())));
  return status;
}

grpc::Status PolicyServiceImpl::ReportDelivery(grpc::ServerContext*, const v1::DeliveryReport* report,
                                               v1::DeliveryReportReply* reply) {
  grpc::Status status = Guard([&] {
    if (report->pool_member().empty()) return Invalid("pool_member is required");
    if (report->recipient().empty()) return Invalid("recipient is required");
    const config::SnapshotPtr snapshot = config_.Get();
    const routing::DeliveryOutcome outcome = OutcomeFromReport(*report);
    routing::WarmupLedger ledger(limiter_.store(), limiter_.clock(), snapshot->limits.zone,
                                 absl::StrCat("report:", outcome.queue_id));
    absl::StatusOr<routing::FeedbackResult> r = routing::ApplyDeliveryOutcome(snapshot->routing, ledger, outcome);
    if (absl::IsNotFound(r.status())) return grpc::Status(grpc::StatusCode::NOT_FOUND, std::string(r.status().message()));
    if (!r.ok()) return Unavailable(r.status());
    reply->set_stepped_back(r->stepped_back);
    if (r->stepped_back && warmup_metrics_ != nullptr) {
      warmup_metrics_->RecordStepBack(*snapshot, outcome.member, r->group);
    }
    reply->set_warmup_day(static_cast<std::uint32_t>(r->warmup_day));
    hive::log::Info(absl::StrCat(
        "rpc=ReportDelivery queue=\"", hive::log::Sanitize(outcome.queue_id, 32), "\" member=",
        hive::log::Sanitize(outcome.member, 64), " group=", hive::log::Sanitize(r->group, 64), " status=",
        v1::DeliveryReport::Status_Name(report->status()), " dsn=\"", hive::log::Sanitize(outcome.dsn, 16),
        "\" block=", r->matched.empty() ? "no" : "yes",
        r->matched.empty() || r->warmup_day == 0 ? ""
        : r->during_pause                         ? " during_pause=yes"
                                                  : absl::StrCat(" blocks_in_window=", r->blocks_in_window, "/",
                                                                 snapshot->routing.feedback().block_threshold),
        r->ignored.empty() ? "" : absl::StrCat(" not_a_block=\"", hive::log::Sanitize(r->ignored, 80), "\""),
        " stepped_back=", r->stepped_back ? "yes" : "no", " warmup_day=", r->warmup_day));
    return grpc::Status::OK;
  });
  if (!status.ok()) {
    hive::log::Warning(absl::StrCat("rpc=ReportDelivery error=", status.error_code(), " message=\"",
                                    hive::log::Sanitize(status.error_message(), 200), "\""));
  }
  return status;
}

}  // namespace hive::policy::server
