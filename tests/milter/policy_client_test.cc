// GrpcPolicyClient against a real in-process gRPC server on 127.0.0.1.
#include "milter/policy_client.h"

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/synchronization/notification.h"

namespace hive::milter {
namespace {

namespace pb = hive::policy::v1;
using Clock = std::chrono::steady_clock;

class FakePolicyService final : public pb::PolicyService::Service {
 public:
  // When set, CheckSender blocks until Release() (or 10 s) before answering.
  bool block = false;
  grpc::StatusCode fail_with = grpc::StatusCode::OK;
  pb::MessageRequest last_message;  // written by the server thread before it answers

  void Release() {
    if (!release_.HasBeenNotified()) release_.Notify();
  }

  grpc::Status CheckSender(grpc::ServerContext*, const pb::SenderRequest* request, pb::Verdict* reply) override {
    if (block) release_.WaitForNotificationWithTimeout(absl::Seconds(10));
    if (fail_with != grpc::StatusCode::OK) return grpc::Status(fail_with, "injected");
    reply->set_action(pb::ACTION_CONTINUE);
    reply->set_decision_id("d-" + request->transaction().id());
    return grpc::Status::OK;
  }
  grpc::Status CheckRecipient(grpc::ServerContext*, const pb::RecipientRequest* request,
                              pb::Verdict* reply) override {
    reply->set_action(pb::ACTION_TEMPFAIL);
    reply->set_decision_id(request->recipient().address());
    return grpc::Status::OK;
  }
  grpc::Status CheckMessage(grpc::ServerContext*, const pb::MessageRequest* request, pb::Verdict* reply) override {
    last_message = *request;
    reply->set_action(pb::ACTION_CONTINUE);
    reply->set_pool("p" + std::to_string(request->body_size()));
    return grpc::Status::OK;
  }
  grpc::Status EndTransaction(grpc::ServerContext*, const pb::EndTransactionRequest*,
                              pb::EndTransactionReply* reply) override {
    reply->set_released(1);
    return grpc::Status::OK;
  }

 private:
  absl::Notification release_;
};

// A server on 127.0.0.1:`port` (0: any free port).
struct TestServer {
  explicit TestServer(int wanted_port = 0) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:" + std::to_string(wanted_port), grpc::InsecureServerCredentials(), &this->port);
    builder.RegisterService(&service);
    server = builder.BuildAndStart();
  }
  ~TestServer() { Stop(); }
  void Stop() {
    service.Release();
    if (server) {
      server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
      server->Wait();
      server.reset();
    }
  }
  std::string target() const { return "127.0.0.1:" + std::to_string(port); }

  FakePolicyService service;
  int port = 0;
  std::unique_ptr<grpc::Server> server;
};

pb::SenderRequest Sender(const std::string& id) {
  pb::SenderRequest r;
  r.mutable_transaction()->set_id(id);
  return r;
}

TEST(GrpcPolicyClientTest, CreateRefusesBadArguments) {
  EXPECT_FALSE(GrpcPolicyClient::Create("", absl::Seconds(1)).ok());
  EXPECT_FALSE(GrpcPolicyClient::Create("127.0.0.1:1", absl::ZeroDuration()).ok());
}

TEST(GrpcPolicyClientTest, AllFourRpcsReachTheServer) {
  TestServer server;
  ASSERT_NE(server.server, nullptr);
  auto client = GrpcPolicyClient::Create(server.target(), absl::Seconds(5));
  ASSERT_TRUE(client.ok()) << client.status();
  auto s = (*client)->CheckSender(Sender("t1"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->decision_id(), "d-t1");
  pb::RecipientRequest rr;
  rr.mutable_recipient()->set_address("a@example.org");
  auto r = (*client)->CheckRecipient(rr);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->action(), pb::ACTION_TEMPFAIL);
  EXPECT_EQ(r->decision_id(), "a@example.org");
  pb::MessageRequest mr;
  mr.set_body(std::string(2 * 1024 * 1024, 'x'));  // twice the default body cap
  mr.set_body_size(mr.body().size());
  auto m = (*client)->CheckMessage(mr);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->pool(), "p" + std::to_string(2 * 1024 * 1024));
  EXPECT_TRUE((*client)->EndTransaction(pb::EndTransactionRequest()).ok());
}

// Regression (bad_input_test, invalid_utf8): header values, envelope
// addresses, ESMTP parameters and HELO carry whatever bytes the client sent.
// As proto3 strings they failed to parse on the server, and the message was
// tempfailed on every retry; as bytes they arrive intact.
TEST(GrpcPolicyClientTest, BytesThatAreNotUtf8ReachTheServerIntact) {
  TestServer server;
  auto client = GrpcPolicyClient::Create(server.target(), absl::Seconds(5));
  ASSERT_TRUE(client.ok());
  pb::MessageRequest mr;
  pb::Transaction& t = *mr.mutable_transaction();
  t.mutable_sender()->set_address("\xff\xfe@bad.example");
  t.mutable_sender()->add_esmtp_params("ENVID=\xc0\xaf");
  t.mutable_connection()->set_helo("h\xe9lo");
  t.mutable_connection()->mutable_sasl()->set_login("us\xe9r");
  pb::Header& h = *mr.add_headers();
  h.set_name("X-Bad");
  h.set_value("GBK \xc4\xe3 and broken \xed\xa0\x80");
  *mr.add_recipients() = t.sender();
  auto m = (*client)->CheckMessage(mr);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(server.service.last_message.SerializeAsString(), mr.SerializeAsString());
}

TEST(GrpcPolicyClientTest, ServerErrorsAreReturned) {
  TestServer server;
  server.service.fail_with = grpc::StatusCode::RESOURCE_EXHAUSTED;
  auto client = GrpcPolicyClient::Create(server.target(), absl::Seconds(5));
  ASSERT_TRUE(client.ok());
  auto s = (*client)->CheckSender(Sender("t"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(GrpcPolicyClientTest, DeadlineExceededWhenTheServerIsSlow) {
  TestServer server;
  auto client = GrpcPolicyClient::Create(server.target(), absl::Milliseconds(300));
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->CheckSender(Sender("warm")).ok());  // connected
  server.service.block = true;
  const auto start = Clock::now();
  auto s = (*client)->CheckSender(Sender("slow"));
  const auto elapsed = Clock::now() - start;
  server.service.Release();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_GE(elapsed, std::chrono::milliseconds(250));
  EXPECT_LT(elapsed, std::chrono::seconds(3));
}

TEST(GrpcPolicyClientTest, UnavailableAtOnceWhenNothingListens) {
  int port = 0;
  {
    TestServer probe;  // find a free port, then close it
    port = probe.port;
  }
  auto client = GrpcPolicyClient::Create("127.0.0.1:" + std::to_string(port), absl::Seconds(10));
  ASSERT_TRUE(client.ok());
  const auto start = Clock::now();
  auto s = (*client)->CheckSender(Sender("t"));
  const auto elapsed = Clock::now() - start;
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kUnavailable);
  // Fail fast: far below the 10 s deadline (no wait-for-ready).
  EXPECT_LT(elapsed, std::chrono::seconds(3));
}

TEST(GrpcPolicyClientTest, ReconnectsSoonAfterTheServerComesBack) {
  auto server = std::make_unique<TestServer>();
  const int port = server->port;
  auto client = GrpcPolicyClient::Create(server->target(), absl::Seconds(1));
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->CheckSender(Sender("before")).ok());

  server->Stop();
  server.reset();
  // Stay down long enough (~3 s of polling) for gRPC's default backoff
  // (1 s growing by 1.6x) to drift well past ours (capped at 1 s).
  for (int i = 0; i < 30; ++i) {
    auto s = (*client)->CheckSender(Sender("down"));
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), absl::StatusCode::kUnavailable);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  server = std::make_unique<TestServer>(port);
  ASSERT_NE(server->server, nullptr) << "port " << port << " taken meanwhile";
  const auto back = Clock::now();
  bool ok = false;
  while (Clock::now() - back < std::chrono::seconds(5)) {  // bounded polling
    if ((*client)->CheckSender(Sender("after")).ok()) {
      ok = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const auto took = Clock::now() - back;
  ASSERT_TRUE(ok) << "no reconnect within 5 s";
  // Max reconnect backoff is 1 s (plus jitter).
  EXPECT_LT(took, std::chrono::milliseconds(2000));
}

}  // namespace
}  // namespace hive::milter
