// GrpcServer's listening socket: its own, never shared with another server.
#include "server/grpc_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "hive/policy/v1/policy.grpc.pb.h"

namespace hive::policy::server {
namespace {

using ::testing::HasSubstr;

// gRPC binds with SO_REUSEPORT unless told not to: a second hive-policyd
// (or a test's) on a port in use then "listened" too, and the kernel split
// the milters' connections between the two.
TEST(GrpcServerTest, APortInUseIsRefusedNotShared) {
  hive::policy::v1::PolicyService::Service first_service;
  absl::StatusOr<std::unique_ptr<GrpcServer>> first = GrpcServer::Start({"127.0.0.1:0"}, first_service);
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string taken = absl::StrCat("127.0.0.1:", (*first)->port());

  hive::policy::v1::PolicyService::Service second_service;
  absl::StatusOr<std::unique_ptr<GrpcServer>> second = GrpcServer::Start({taken}, second_service);
  EXPECT_FALSE(second.ok()) << "a second server listened on " << taken;
  EXPECT_THAT(second.status().message(), HasSubstr(absl::StrCat("cannot listen on ", taken)));
  (*first)->Shutdown(std::chrono::milliseconds(0));
}

}  // namespace
}  // namespace hive::policy::server
