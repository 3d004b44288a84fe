// How the milter asks hive-policyd: PolicyClient is the interface Session
// uses (fakes in tests), GrpcPolicyClient the real one.
//
// GrpcPolicyClient holds ONE channel shared by every libmilter thread. Every
// RPC carries the configured deadline and fails fast (no wait-for-ready): a
// service that is down costs one failed connect, not the deadline, and the
// failure mode decides (decision.h). Reconnect backoff is short (100 ms .. 1 s)
// so the milter notices a restarted service within about a second. One
// thread polls the channel while a connection attempt is under way, so that
// it progresses while failing-fast RPCs are not polling (see
// policy_client.cc).
// Create the client after any fork: gRPC does not survive fork.
//
// Usage: auto client = GrpcPolicyClient::Create(target, absl::Seconds(2), settings.policy_tls);
//        absl::StatusOr<Verdict> v = (*client)->CheckSender(request);
//
// Thread-safety: all methods of GrpcPolicyClient are thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "hive/config/v1/tls.pb.h"
#include "hive/policy/v1/policy.grpc.pb.h"
#include "hive/policy/v1/policy.pb.h"

namespace hive::milter {

class PolicyClient {
 public:
  virtual ~PolicyClient() = default;
  virtual absl::StatusOr<hive::policy::v1::Verdict> CheckSender(const hive::policy::v1::SenderRequest& request) = 0;
  virtual absl::StatusOr<hive::policy::v1::Verdict> CheckRecipient(
      const hive::policy::v1::RecipientRequest& request) = 0;
  virtual absl::StatusOr<hive::policy::v1::Verdict> CheckMessage(const hive::policy::v1::MessageRequest& request) = 0;
  virtual absl::Status EndTransaction(const hive::policy::v1::EndTransactionRequest& request) = 0;
  // Degraded mode (lease_report.h). Not pure, so that clients without
  // leases (fakes, tools) need not implement it.
  virtual absl::StatusOr<hive::policy::v1::LeaseUsageReply> ReportLeaseUsage(
      const hive::policy::v1::LeaseUsageReport& /*report*/) {
    return absl::UnimplementedError("ReportLeaseUsage is not implemented by this client");
  }
};

class GrpcPolicyClient final : public PolicyClient {
 public:
  ~GrpcPolicyClient() override;
  GrpcPolicyClient(const GrpcPolicyClient&) = delete;
  GrpcPolicyClient& operator=(const GrpcPolicyClient&) = delete;

  // `target` is a gRPC target ("127.0.0.1:7450", "unix:/run/hive/policyd.sock")
  // or a comma-separated list of IPv4 host:port replicas, balanced
  // round-robin with client-side health checking.
  // `tls`: TLS towards the target (grpc_tls.h); without it the target
  // must be loopback or a unix socket. A failed TLS handshake fails the RPC
  // as UNAVAILABLE with the handshake's reason, like an unreachable service.
  // Does not connect: the first RPC does.
  static absl::StatusOr<std::unique_ptr<GrpcPolicyClient>> Create(
      const std::string& target, absl::Duration rpc_timeout,
      const hive::config::v1::ClientTls& tls = hive::config::v1::ClientTls());
  // What Create would refuse, without building anything (--check, reload).
  static absl::Status Check(const std::string& target, absl::Duration rpc_timeout,
                            const hive::config::v1::ClientTls& tls);

  absl::StatusOr<hive::policy::v1::Verdict> CheckSender(const hive::policy::v1::SenderRequest& request) override;
  absl::StatusOr<hive::policy::v1::Verdict> CheckRecipient(
      const hive::policy::v1::RecipientRequest& request) override;
  absl::StatusOr<hive::policy::v1::Verdict> CheckMessage(const hive::policy::v1::MessageRequest& request) override;
  absl::Status EndTransaction(const hive::policy::v1::EndTransactionRequest& request) override;
  absl::StatusOr<hive::policy::v1::LeaseUsageReply> ReportLeaseUsage(
      const hive::policy::v1::LeaseUsageReport& report) override;

  // For a configuration reload; RPCs already in flight keep their deadline.
  void SetRpcTimeout(absl::Duration rpc_timeout) { rpc_timeout_ns_.store(absl::ToInt64Nanoseconds(rpc_timeout)); }
  absl::Duration rpc_timeout() const { return absl::Nanoseconds(rpc_timeout_ns_.load()); }

 private:

  GrpcPolicyClient(std::shared_ptr<grpc::Channel> channel, absl::Duration rpc_timeout);
  // Polls the channel while a connection attempt is under way (see policy_client.cc).
  void Watch();

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<hive::policy::v1::PolicyService::Stub> stub_;
  std::atomic<int64_t> rpc_timeout_ns_;
  std::atomic<bool> stopping_{false};
  std::thread watcher_;
};

}  // namespace hive::milter
