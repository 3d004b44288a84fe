#include "fault/rogue_policyd.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <grpcpp/grpcpp.h>

#include <stdexcept>

#include "hive/policy/v1/policy.grpc.pb.h"

namespace hive::testing {
namespace {

namespace pb = hive::policy::v1;

// What a rogue reply carries instead of a usable Verdict.
std::string Body(Misbehaviour m) {
  pb::Verdict v;
  switch (m) {
    case Misbehaviour::kHonest:
    case Misbehaviour::kNotHttp2:  // not reached: no gRPC server then
      v.set_action(pb::ACTION_CONTINUE);
      break;
    case Misbehaviour::kOversized:
      v.set_action(pb::ACTION_CONTINUE);
      v.set_decision_id(std::string(5 << 20, 'x'));
      break;
    case Misbehaviour::kUnknownAction:
      v.set_action(static_cast<pb::Action>(99));
      break;
    case Misbehaviour::kEmptyVerdict:
      break;
    case Misbehaviour::kUndecodable:
      // Field 1 as length-delimited, claiming 2^28 bytes that never come.
      return std::string("\x0a\x80\x80\x80\x80\x01garbage", 12);
  }
  return v.SerializeAsString();
}

grpc::ByteBuffer ToBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

// Not HTTP/2: what a confused peer (an HTTP/1 proxy, another daemon) says.
constexpr char kGarbage[] =
    "HTTP/1.1 400 Bad Request\r\nContent-Length: 5\r\n\r\nnope\n\x00\xff\xfe garbage \x01\x02\x03";

}  // namespace

const char* MisbehaviourName(Misbehaviour m) {
  switch (m) {
    case Misbehaviour::kHonest: return "honest";
    case Misbehaviour::kOversized: return "oversized";
    case Misbehaviour::kUnknownAction: return "unknown_action";
    case Misbehaviour::kEmptyVerdict: return "empty_verdict";
    case Misbehaviour::kUndecodable: return "undecodable";
    case Misbehaviour::kNotHttp2: return "not_http2";
  }
  return "?";
}

class RoguePolicyd::Service final
    : public pb::PolicyService::WithRawCallbackMethod_CheckSender<pb::PolicyService::WithRawCallbackMethod_CheckRecipient<
          pb::PolicyService::WithRawCallbackMethod_CheckMessage<
              pb::PolicyService::WithRawCallbackMethod_EndTransaction<pb::PolicyService::Service>>>> {
 public:
  explicit Service(RoguePolicyd& owner) : owner_(owner) {}

  grpc::ServerUnaryReactor* CheckSender(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer*,
                                        grpc::ByteBuffer* out) override {
    return Answer(ctx, out, false);
  }
  grpc::ServerUnaryReactor* CheckRecipient(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer*,
                                           grpc::ByteBuffer* out) override {
    return Answer(ctx, out, false);
  }
  grpc::ServerUnaryReactor* CheckMessage(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer*,
                                         grpc::ByteBuffer* out) override {
    return Answer(ctx, out, true);
  }
  grpc::ServerUnaryReactor* EndTransaction(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer*,
                                           grpc::ByteBuffer* out) override {
    ++owner_.rpcs_;
    *out = ToBuffer(pb::EndTransactionReply().SerializeAsString());
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  grpc::ServerUnaryReactor* Answer(grpc::CallbackServerContext* ctx, grpc::ByteBuffer* out, bool message) {
    ++owner_.rpcs_;
    const bool rogue = message || owner_.scope_.load() == RogueScope::kEveryRpc;
    *out = ToBuffer(Body(rogue ? owner_.mode_.load() : Misbehaviour::kHonest));
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  RoguePolicyd& owner_;
};

RoguePolicyd::RoguePolicyd(uint16_t port) : port_(port) { StartGrpc(); }

RoguePolicyd::~RoguePolicyd() {
  StopGrpc();
  StopGarbage();
}

void RoguePolicyd::Set(Misbehaviour m, RogueScope scope) {
  const std::lock_guard<std::mutex> lock(mu_);
  const bool was_garbage = mode_.load() == Misbehaviour::kNotHttp2;
  const bool garbage = m == Misbehaviour::kNotHttp2;
  scope_ = scope;
  if (was_garbage == garbage) {
    mode_ = m;
    return;
  }
  if (garbage) {
    StopGrpc();
    mode_ = m;
    StartGarbage();
  } else {
    StopGarbage();
    mode_ = m;
    StartGrpc();
  }
}

void RoguePolicyd::StartGrpc() {
  service_ = std::make_unique<Service>(*this);
  grpc::ServerBuilder builder;
  int bound = 0;
  builder.AddListeningPort("127.0.0.1:" + std::to_string(port_), grpc::InsecureServerCredentials(), &bound);
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || bound != port_) {
    throw std::runtime_error("rogue policyd: cannot listen on port " + std::to_string(port_));
  }
}

void RoguePolicyd::StopGrpc() {
  if (server_ == nullptr) return;
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server_->Wait();
  server_.reset();
  service_.reset();
}

void RoguePolicyd::StartGarbage() {
  garbage_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(garbage_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(garbage_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(garbage_fd_, 64) != 0) {
    close(garbage_fd_);
    garbage_fd_ = -1;
    throw std::runtime_error("rogue policyd: cannot listen for garbage on port " + std::to_string(port_));
  }
  garbage_stop_ = false;
  garbage_thread_ = std::thread([this, fd = garbage_fd_] { ServeGarbage(fd); });
}

void RoguePolicyd::StopGarbage() {
  if (garbage_fd_ < 0) return;
  garbage_stop_ = true;
  garbage_thread_.join();
  close(garbage_fd_);
  garbage_fd_ = -1;
}

void RoguePolicyd::ServeGarbage(int listen_fd) {
  while (!garbage_stop_.load()) {
    pollfd p{listen_fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    const int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ++garbage_connections_;
    // Whatever the client says first (HTTP/2's preface), answer nonsense.
    char buf[256];
    pollfd c{fd, POLLIN, 0};
    if (poll(&c, 1, 200) > 0) (void)recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    (void)send(fd, kGarbage, sizeof kGarbage - 1, MSG_NOSIGNAL);
    close(fd);
  }
}

}  // namespace hive::testing
