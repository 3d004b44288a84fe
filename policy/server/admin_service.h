// The gRPC AdminService (admin.proto): the policy team's API over one
// hive-policyd. Policy reads and writes go through the PolicyRepository
// (file mode: versioned, optimistic, atomic, with history); counters and
// dry-runs go through the Limiter's read-only Peek, so neither consumes
// anything; resets and adjustments are audited in the history. Learn and
// the fingerprint calls change the current snapshot's content models
// (admin_content_service.cc); TailDecisions streams PolicyService's
// decisions from a DecisionBus.
//
// Served on its own listener (main.cc --admin-listen, loopback or unix
// socket only), never on the MTA-facing one. Every handler turns errors
// into gRPC statuses (a stale version: FAILED_PRECONDITION whose details
// are a serialized hive.admin.v1.VersionConflict) and never throws.
// Thread-safe: gRPC calls the handlers concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <grpcpp/grpcpp.h>

#include "admin/policy_follower.h"
#include "admin/policy_repository.h"
#include "admin/shared_fingerprints.h"
#include "admin/shared_model.h"
#include "absl/status/statusor.h"
#include "config/snapshot_holder.h"
#include "hive/admin/v1/admin.grpc.pb.h"
#include "ratelimit/limiter.h"

namespace hive::policy::server {

class DecisionBus;

struct AdminContext {
  ratelimit::Store* store = nullptr;          // the limiter's store
  const ratelimit::Clock* clock = nullptr;
  std::string store_name;  // "memory", "redis 10.0.0.5:6379"
  ratelimit::Nanos started_wall{0};
  DecisionBus* decisions = nullptr;  // what PolicyService publishes to; null: no stream
  // The policy held in Redis: what this replica follows; null in file mode.
  const admin::PolicyFollower* follower = nullptr;
  // The Bayes model held in Redis (content.bayes.model_in_redis): what Learn
  // writes to; null: each replica's stats_db.
  admin::SharedModel* shared_model = nullptr;
  const admin::SharedFollower* model_follower = nullptr;  // with shared_model
  // The known-bad fingerprints held in Redis (content.fingerprints.list_in_redis):
  // what fingerprint add / remove write to; null: each replica's file.
  admin::SharedFingerprints* shared_fingerprints = nullptr;
};

class AdminServiceImpl final : public hive::admin::v1::AdminService::Service {
 public:
  // Everything must outlive the service.
  AdminServiceImpl(config::SnapshotHolder& config, admin::PolicyRepository& repository,
                   ratelimit::Limiter& limiter, AdminContext context);

  grpc::Status GetPolicy(grpc::ServerContext*, const hive::admin::v1::GetPolicyRequest*,
                         hive::admin::v1::PolicyDocument*) override;
  grpc::Status ValidatePolicy(grpc::ServerContext*, const hive::admin::v1::ApplyPolicyRequest*,
                              hive::admin::v1::ApplyReply*) override;
  grpc::Status ApplyPolicy(grpc::ServerContext*, const hive::admin::v1::ApplyPolicyRequest*,
                           hive::admin::v1::ApplyReply*) override;
  grpc::Status GetObject(grpc::ServerContext*, const hive::admin::v1::ObjectRef*,
                         hive::admin::v1::PolicyObject*) override;
  grpc::Status ApplyObject(grpc::ServerContext*, const hive::admin::v1::ApplyObjectRequest*,
                           hive::admin::v1::ApplyReply*) override;
  grpc::Status DeleteObject(grpc::ServerContext*, const hive::admin::v1::DeleteObjectRequest*,
                            hive::admin::v1::ApplyReply*) override;
  grpc::Status ListHistory(grpc::ServerContext*, const hive::admin::v1::HistoryRequest*,
                           hive::admin::v1::HistoryReply*) override;
  grpc::Status Rollback(grpc::ServerContext*, const hive::admin::v1::RollbackRequest*,
                        hive::admin::v1::ApplyReply*) override;
  grpc::Status GetCounters(grpc::ServerContext*, const hive::admin::v1::CountersRequest*,
                           hive::admin::v1::CountersReply*) override;
  grpc::Status AdjustCounters(grpc::ServerContext*, const hive::admin::v1::AdjustCountersRequest*,
                              hive::admin::v1::CountersReply*) override;
  grpc::Status TopUsage(grpc::ServerContext*, const hive::admin::v1::TopUsageRequest*,
                        hive::admin::v1::TopUsageReply*) override;
  grpc::Status DryRun(grpc::ServerContext*, const hive::admin::v1::DryRunRequest*,
                      hive::admin::v1::DryRunReply*) override;
  grpc::Status GetStatus(grpc::ServerContext*, const hive::admin::v1::StatusRequest*,
                         hive::admin::v1::StatusReply*) override;
  grpc::Status Learn(grpc::ServerContext*, const hive::admin::v1::LearnRequest*,
                     hive::admin::v1::LearnReply*) override;
  grpc::Status AddFingerprint(grpc::ServerContext*, const hive::admin::v1::FingerprintRequest*,
                              hive::admin::v1::FingerprintReply*) override;
  grpc::Status RemoveFingerprint(grpc::ServerContext*, const hive::admin::v1::FingerprintRequest*,
                                 hive::admin::v1::FingerprintReply*) override;
  grpc::Status TailDecisions(grpc::ServerContext*, const hive::admin::v1::TailRequest*,
                             grpc::ServerWriter<hive::admin::v1::Decision>*) override;

 private:
  // Object writes: read, edit by name, check the object's version, apply.
  grpc::Status EditObject(const hive::admin::v1::ObjectRef& ref, const google::protobuf::Message* replacement,
                          const std::string& expected_version, const std::string& actor, bool validate_only,
                          hive::admin::v1::ApplyReply& reply);
  // The request's fingerprint: given, or the SimHash of its .eml.
  absl::StatusOr<std::uint64_t> FingerprintOf(const hive::admin::v1::FingerprintRequest& request,
                                              const config::PolicySnapshot& snapshot) const;
  grpc::Status EditFingerprint(grpc::ServerContext* context, const hive::admin::v1::FingerprintRequest& request,
                               bool add, hive::admin::v1::FingerprintReply& reply);

  config::SnapshotHolder& config_;
  admin::PolicyRepository& repository_;
  ratelimit::Limiter& limiter_;
  const AdminContext context_;
};

}  // namespace hive::policy::server
