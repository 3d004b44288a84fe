#include "milter/policy_client.h"

#include <chrono>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "milter/milter_metrics.h"
#include "support/grpc_tls.h"

namespace hive::milter {
namespace {

namespace pb = hive::policy::v1;

absl::Status ToAbsl(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

void PrepareContext(grpc::ClientContext& context, absl::Duration timeout) {
  context.set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  // Fail fast on a channel in TRANSIENT_FAILURE: the failure mode answers at
  // once instead of holding the SMTP client until the deadline.
  context.set_wait_for_ready(false);
}

// Times one RPC for hive_milter_policy_rpc_duration_seconds.
class RpcTimer {
 public:
  explicit RpcTimer(const char* rpc) : rpc_(rpc), start_(std::chrono::steady_clock::now()) {}
  void Done(const grpc::Status& status) const {
    MilterMetrics* metrics = CurrentMilterMetrics();
    if (metrics == nullptr) return;
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start_;
    metrics->RecordRpc(rpc_, absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())),
                       took.count());
  }

 private:
  const char* rpc_;
  std::chrono::steady_clock::time_point start_;
};

template <typename Request, typename Method>
absl::StatusOr<pb::Verdict> Call(pb::PolicyService::Stub& stub, absl::Duration timeout, const char* rpc,
                                 Method method, const Request& request) {
  grpc::ClientContext context;
  PrepareContext(context, timeout);
  pb::Verdict verdict;
  const RpcTimer timer(rpc);
  grpc::Status status = (stub.*method)(&context, request, &verdict);
  timer.Done(status);
  if (!status.ok()) return ToAbsl(status);
  return verdict;
}

// The channel Create makes, or why it refuses to (Check: the same checks).
struct ChannelSpec {
  std::string target;  // as gRPC takes it ("ipv4:a,b" for a list)
  grpc::ChannelArguments args;
  std::shared_ptr<grpc::ChannelCredentials> credentials;
};

absl::StatusOr<ChannelSpec> Spec(const std::string& target, absl::Duration rpc_timeout,
                                 const hive::config::v1::ClientTls& tls) {
  if (target.empty()) return absl::InvalidArgumentError("empty policy target");
  if (rpc_timeout <= absl::ZeroDuration()) return absl::InvalidArgumentError("rpc timeout must be positive");
  grpc::ChannelArguments args;
  // Notice a restarted policy service within about a second. The minimum
  // stays long: gRPC also uses it as the connect timeout, and a loaded
  // policy service may take more than 100 ms to send its SETTINGS frame.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  // (Set once: a repeated channel argument does not override the first.)
  // The long minimum also lets a TLS handshake complete under load.
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 5000);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // Keepalive only while calls are in flight, at an interval any default
  // server accepts (it refuses pings without calls, and more often than
  // every 5 min when idle), to find a dead peer behind a silent network.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 60 * 1000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10 * 1000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  // A message request carries up to max_body_bytes plus headers.
  args.SetMaxSendMessageSize(64 * 1024 * 1024);
  args.SetMaxReceiveMessageSize(4 * 1024 * 1024);
  // Several replicas ("127.0.0.1:7450,127.0.0.1:7460"): one channel,
  // round-robin over them, and gRPC's client-side health checking
  // (grpc.health.v1, served by hive-policyd) takes a replica that is down or
  // draining out of the rotation, so its death costs no mail.
  std::string channel_target = target;
  if (target.find(',') != std::string::npos) {
    std::string list;
    for (absl::string_view part : absl::StrSplit(target, ',')) {
      std::string address(absl::StripAsciiWhitespace(part));
      if (address.empty() || address.rfind("unix:", 0) == 0 || address.find(':') == std::string::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat("policy target list: '", address, "' is not host:port (lists take IPv4 host:port)"));
      }
      absl::StrAppend(&list, list.empty() ? "" : ",", address);
    }
    channel_target = absl::StrCat("ipv4:", list);
    args.SetServiceConfigJSON(
        R"({"loadBalancingConfig":[{"round_robin":{}}],"healthCheckConfig":{"serviceName":""}})");
  }
  // Plaintext (insecure credentials, the hot path as before) only towards
  // loopback or a unix socket; else TLS with the configured CA and client
  // certificate.
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      hive::tls::MakeChannelCredentials(tls, channel_target, "policy_tls", args);
  if (!credentials.ok()) return credentials.status();
  return ChannelSpec{.target = std::move(channel_target), .args = std::move(args), .credentials = *credentials};
}

}  // namespace

absl::Status GrpcPolicyClient::Check(const std::string& target, absl::Duration rpc_timeout,
                                     const hive::config::v1::ClientTls& tls) {
  return Spec(target, rpc_timeout, tls).status();
}

absl::StatusOr<std::unique_ptr<GrpcPolicyClient>> GrpcPolicyClient::Create(const std::string& target,
                                                                           absl::Duration rpc_timeout,
                                                                           const hive::config::v1::ClientTls& tls) {
  absl::StatusOr<ChannelSpec> spec = Spec(target, rpc_timeout, tls);
  if (!spec.ok()) return spec.status();
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(spec->target, spec->credentials, spec->args);
  if (channel == nullptr) return absl::InternalError(absl::StrCat("cannot create a channel to ", target));
  return std::unique_ptr<GrpcPolicyClient>(new GrpcPolicyClient(channel, rpc_timeout));
}

GrpcPolicyClient::GrpcPolicyClient(std::shared_ptr<grpc::Channel> channel, absl::Duration rpc_timeout)
    : channel_(std::move(channel)),
      stub_(pb::PolicyService::NewStub(channel_)),
      rpc_timeout_ns_(absl::ToInt64Nanoseconds(rpc_timeout)) {
  watcher_ = std::thread([this] { Watch(); });
}

GrpcPolicyClient::~GrpcPolicyClient() {
  stopping_.store(true);
  if (watcher_.joinable()) watcher_.join();
}

// After a failed connection the channel stays in TRANSIENT_FAILURE and RPCs
// fail fast without polling, so the next attempt (TCP connect, HTTP/2
// SETTINGS, with TLS its handshake) only progresses on gRPC's 5 s backup
// poller, which is also the attempt's deadline: a restarted service could
// stay unreached for many seconds, with plaintext too (seen in
// FaultMatrix.PolicydKilled...: 10 s of "tcp handshaker shutdown" after the
// restart). While an attempt is under way (CONNECTING, TRANSIENT_FAILURE)
// this thread polls by waiting on the channel's state. READY and IDLE need
// no help: polling while READY would take the RPCs' completions from their
// own threads, and an IDLE channel connects on the next RPC, which then
// waits for the connection and polls itself (asking an idle channel to
// connect would instead keep it failing while the service is down, so the
// first message after a restart could meet the backoff).
// Bounded: it wakes every 250 ms to see `stopping_`.
void GrpcPolicyClient::Watch() {
  while (!stopping_.load()) {
    const grpc_connectivity_state state = channel_->GetState(/*try_to_connect=*/false);
    const auto next = std::chrono::system_clock::now() + std::chrono::milliseconds(250);
    if (state == GRPC_CHANNEL_READY || state == GRPC_CHANNEL_IDLE) {
      std::this_thread::sleep_until(next);
    } else {
      channel_->WaitForStateChange(state, next);
    }
  }
}

absl::StatusOr<pb::Verdict> GrpcPolicyClient::CheckSender(const pb::SenderRequest& request) {
  return Call(*stub_, rpc_timeout(), "CheckSender", &pb::PolicyService::Stub::CheckSender, request);
}

absl::StatusOr<pb::Verdict> GrpcPolicyClient::CheckRecipient(const pb::RecipientRequest& request) {
  return Call(*stub_, rpc_timeout(), "CheckRecipient", &pb::PolicyService::Stub::CheckRecipient, request);
}

absl::StatusOr<pb::Verdict> GrpcPolicyClient::CheckMessage(const pb::MessageRequest& request) {
  return Call(*stub_, rpc_timeout(), "CheckMessage", &pb::PolicyService::Stub::CheckMessage, request);
}

absl::Status GrpcPolicyClient::EndTransaction(const pb::EndTransactionRequest& request) {
  grpc::ClientContext context;
  PrepareContext(context, rpc_timeout());
  pb::EndTransactionReply reply;
  const RpcTimer timer("EndTransaction");
  const grpc::Status status = stub_->EndTransaction(&context, request, &reply);
  timer.Done(status);
  return ToAbsl(status);
}

absl::StatusOr<pb::LeaseUsageReply> GrpcPolicyClient::ReportLeaseUsage(const pb::LeaseUsageReport& report) {
  grpc::ClientContext context;
  PrepareContext(context, rpc_timeout());
  pb::LeaseUsageReply reply;
  const RpcTimer timer("ReportLeaseUsage");
  const grpc::Status status = stub_->ReportLeaseUsage(&context, report, &reply);
  timer.Done(status);
  if (!status.ok()) return ToAbsl(status);
  return reply;
}

}  // namespace hive::milter
