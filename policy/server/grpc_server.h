// The running gRPC server of hive-policyd: the PolicyService plus the
// standard health service (grpc.health.v1, SERVING while up) and server
// reflection (so grpcurl can list and call it).
//
//   auto server = GrpcServer::Start({"127.0.0.1:0", 8 << 20}, service);
//   (*server)->port();      // the port actually bound
//   (*server)->Shutdown(std::chrono::seconds(5));  // drains, then cancels
// A port another process listens on is an error (no SO_REUSEPORT sharing).
// Start/Shutdown from one thread; Wait() may block in another.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"

namespace hive::policy::server {

struct GrpcServerOptions {
  std::string listen;  // "host:port" (port 0: any free port) or "unix:/path"
  int max_receive_bytes = 8 << 20;
  // grpc_tls.h MakeServerCredentials; null: plaintext (tests).
  std::shared_ptr<grpc::ServerCredentials> credentials;
};

class GrpcServer {
 public:
  // `service` must outlive the server.
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(const GrpcServerOptions& options,
                                                           grpc::Service& service);
  ~GrpcServer();

  int port() const { return port_; }
  // Health turns NOT_SERVING, then in-flight RPCs get until `grace` to end.
  void Shutdown(std::chrono::milliseconds grace);
  void Wait();

 private:
  GrpcServer(std::unique_ptr<grpc::Server> server, int port) : server_(std::move(server)), port_(port) {}

  std::unique_ptr<grpc::Server> server_;
  int port_;
  bool shut_down_ = false;
};

}  // namespace hive::policy::server
