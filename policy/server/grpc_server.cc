#include "server/grpc_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/str_cat.h"
#include "hive/policy/v1/policy.grpc.pb.h"

namespace hive::policy::server {

namespace {
constexpr int kMaxIdlePollers = 16;
}  // namespace

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(const GrpcServerOptions& options,
                                                              grpc::Service& service) {
  // Both are process-wide switches read when a builder is made.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen,
                           options.credentials ? options.credentials : grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(options.max_receive_bytes);
  // gRPC binds with SO_REUSEPORT by default: a second hive-policyd on a
  // port in use would listen too, and the kernel would split the milters'
  // connections between the two. A port in use is an error instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(&service);
  // The synchronous server's threads: with gRPC's default of at most 2 idle
  // pollers per completion queue, every burst of calls that wait on Redis
  // starts threads and ends them again (~245 thread creations/s at
  // saturation). Keeping up to kMaxIdlePollers idle threads avoids the churn.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, kMaxIdlePollers);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen,
                                               " (address in use, bad address or no permission)"));
  }
  if (port == 0 && options.listen.rfind("unix:", 0) != 0) {
    server->Shutdown();
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen));
  }
  server->GetHealthCheckService()->SetServingStatus("", true);
  server->GetHealthCheckService()->SetServingStatus(hive::policy::v1::PolicyService::service_full_name(), true);
  return std::unique_ptr<GrpcServer>(new GrpcServer(std::move(server), port));
}

GrpcServer::~GrpcServer() { Shutdown(std::chrono::milliseconds(0)); }

void GrpcServer::Shutdown(std::chrono::milliseconds grace) {
  if (shut_down_) return;
  shut_down_ = true;
  // Load balancers and probes see the drain before connections close.
  server_->GetHealthCheckService()->SetServingStatus(false);
  server_->Shutdown(std::chrono::system_clock::now() + grace);
}

void GrpcServer::Wait() { server_->Wait(); }

}  // namespace hive::policy::server
