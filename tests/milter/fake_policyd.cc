// A canned hive-policyd for manual smoke tests of hive-milter through real
// libmilter: `milter_fake_policyd PORT MODE`, MODE one of
//   pool       every stage continues; end of message picks pool "bulk-1"
//   reject-ml  end of message rejects with a 3-line reply containing '%'
//   rcpt-temp  every recipient gets 452 4.2.2
// Prints "listening on 127.0.0.1:PORT" and serves until killed.
#include <cstdio>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "hive/policy/v1/policy.grpc.pb.h"

namespace {

namespace pb = hive::policy::v1;

class CannedService final : public pb::PolicyService::Service {
 public:
  explicit CannedService(std::string mode) : mode_(std::move(mode)) {}

  grpc::Status CheckSender(grpc::ServerContext*, const pb::SenderRequest*, pb::Verdict* v) override {
    v->set_action(pb::ACTION_CONTINUE);
    return grpc::Status::OK;
  }
  grpc::Status CheckRecipient(grpc::ServerContext*, const pb::RecipientRequest*, pb::Verdict* v) override {
    if (mode_ == "rcpt-temp") {
      v->set_action(pb::ACTION_TEMPFAIL);
      v->mutable_reply()->set_code("452");
      v->mutable_reply()->set_enhanced_code("4.2.2");
      v->mutable_reply()->add_lines("recipient quota reached");
    } else {
      v->set_action(pb::ACTION_CONTINUE);
    }
    return grpc::Status::OK;
  }
  grpc::Status CheckMessage(grpc::ServerContext*, const pb::MessageRequest*, pb::Verdict* v) override {
    if (mode_ == "reject-ml") {
      v->set_action(pb::ACTION_REJECT);
      v->mutable_reply()->set_code("554");
      v->mutable_reply()->set_enhanced_code("5.7.1");
      v->mutable_reply()->add_lines("message refused");
      v->mutable_reply()->add_lines("score 100% over the limit");
      v->mutable_reply()->add_lines("see https://example.com/policy");
    } else {
      v->set_action(pb::ACTION_CONTINUE);
      v->set_pool("bulk-1");
      v->set_score(1.5);
      v->add_symbols()->set_name("TEST_SYMBOL");
    }
    return grpc::Status::OK;
  }
  grpc::Status EndTransaction(grpc::ServerContext*, const pb::EndTransactionRequest*,
                              pb::EndTransactionReply*) override {
    return grpc::Status::OK;
  }

 private:
  std::string mode_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s PORT pool|reject-ml|rcpt-temp\n", argv[0]);
    return 2;
  }
  CannedService service(argv[2]);
  grpc::ServerBuilder builder;
  const std::string address = std::string("127.0.0.1:") + argv[1];
  builder.AddListeningPort(address, grpc::InsecureServerCredentials());
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) return 1;
  std::printf("listening on %s\n", address.c_str());
  std::fflush(stdout);
  server->Wait();
}
