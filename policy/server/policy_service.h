// The gRPC PolicyService (policy.proto): turns each stage request into
// domain facts, asks the engines, and answers a Verdict.
//
// Each RPC takes one config snapshot and uses it to the end, gets a unique
// decision id, and writes one decision log line. A request that cannot be
// evaluated (malformed, or the counter store failing) gets an error status
// (INVALID_ARGUMENT, UNAVAILABLE), never a default "continue": the milter
// owns failure handling. Each decision also goes to the admin API's live
// stream (DecisionBus), only while a stream is open and never waiting on
// it. Thread-safe: gRPC calls the handlers concurrently.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include <grpcpp/grpcpp.h>

#include "config/snapshot_holder.h"
#include "hive/policy/v1/policy.grpc.pb.h"
#include "ratelimit/limiter.h"

namespace hive::policy::server {

class DecisionBus;
struct DecisionContext;
class PolicyMetrics;
class WarmupMetrics;

class PolicyServiceImpl final : public hive::policy::v1::PolicyService::Service {
 public:
  // `metrics` and `decisions` may be null (none); otherwise they must
  // outlive this.
  PolicyServiceImpl(const config::SnapshotHolder& config, ratelimit::Limiter& limiter,
                    PolicyMetrics* metrics = nullptr, DecisionBus* decisions = nullptr);

  grpc::Status CheckSender(grpc::ServerContext* context, const hive::policy::v1::SenderRequest* request,
                           hive::policy::v1::Verdict* verdict) override;
  grpc::Status CheckRecipient(grpc::ServerContext* context, const hive::policy::v1::RecipientRequest* request,
                              hive::policy::v1::Verdict* verdict) override;
  grpc::Status CheckMessage(grpc::ServerContext* context, const hive::policy::v1::MessageRequest* request,
                            hive::policy::v1::Verdict* verdict) override;
  grpc::Status EndTransaction(grpc::ServerContext* context,
                              const hive::policy::v1::EndTransactionRequest* request,
                              hive::policy::v1::EndTransactionReply* reply) override;
  grpc::Status ReportDelivery(grpc::ServerContext* context, const hive::policy::v1::DeliveryReport* report,
                              hive::policy::v1::DeliveryReportReply* reply) override;
  grpc::Status ReportLeaseUsage(grpc::ServerContext* context, const hive::policy::v1::LeaseUsageReport* report,
                                hive::policy::v1::LeaseUsageReply* reply) override;

  // Step-backs are counted here (may be null: not counted); must outlive this.
  void SetWarmupMetrics(WarmupMetrics* warmup) { warmup_metrics_ = warmup; }

 private:
  std::string NextDecisionId();
  void Record(const char* rpc, const hive::policy::v1::Verdict& verdict, const grpc::Status& status,
              std::chrono::steady_clock::time_point start) const;
  // To the live stream, if anyone listens.
  void Publish(DecisionContext context, const hive::policy::v1::Verdict& verdict, const grpc::Status& status,
               std::chrono::steady_clock::time_point start) const;

  grpc::Status DoCheckSender(const hive::policy::v1::SenderRequest& request, hive::policy::v1::Verdict& verdict);
  grpc::Status DoCheckRecipient(const hive::policy::v1::RecipientRequest& request,
                                hive::policy::v1::Verdict& verdict);
  grpc::Status DoCheckMessage(const hive::policy::v1::MessageRequest& request, hive::policy::v1::Verdict& verdict);
  // ratelimit.decide_at end_of_message: what CheckSender and each
  // CheckRecipient would decide, in the end-of-message call. False when a
  // limit refuses the message (the refusal is in `verdict`, what the
  // recipients before it reserved given back).
  absl::StatusOr<bool> DecideEnvelopeLimits(const config::PolicySnapshot& snapshot,
                                            const hive::policy::v1::MessageRequest& request,
                                            hive::policy::v1::Verdict& verdict);
  // Gives back what the transaction reserved; a failure is logged, the
  // counters then err on the strict side.
  void Release(const std::string& txn);
  // The pool (slow lane applied) and its member; consumes warm-up caps.
  grpc::Status ChoosePoolMember(const config::PolicySnapshot& snapshot, const std::string& txn,
                                const match::Facts& facts, double score, const ratelimit::LimitDecision& limits,
                                hive::policy::v1::Verdict& verdict);

  const config::SnapshotHolder& config_;
  ratelimit::Limiter& limiter_;
  PolicyMetrics* const metrics_;
  DecisionBus* const decisions_;
  WarmupMetrics* warmup_metrics_ = nullptr;
  const std::string id_prefix_;  // random per process: ids stay unique across restarts
  std::atomic<std::uint64_t> next_id_{1};
};

}  // namespace hive::policy::server
