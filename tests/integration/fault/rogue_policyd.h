// A stand-in for hive-policyd that answers wrongly on purpose (issue 8,
// "hive-policyd answering garbage / oversized replies"), on 127.0.0.1:port
// in the test's own process:
//   - a real gRPC server implementing hive.policy.v1.PolicyService whose
//     replies are shaped by the current Misbehaviour (an oversized Verdict,
//     an unknown or missing action, bytes that are not a protobuf), or
//   - for kNotHttp2, a raw TCP listener on the same port that answers every
//     connection with bytes that are not HTTP/2 and closes it.
// The misbehaviour applies to every RPC, or only to CheckMessage (the
// stages before end of message are answered honestly: "continue").
// Honest answers are ACTION_CONTINUE with nothing else set. Set() switches
// at any time; switching to or from kNotHttp2 restarts the listener on the
// same port, so clients see the service go away and come back.
// Thread-safety: Set() and rpcs() may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace grpc {
class Server;
class Service;
}  // namespace grpc

namespace hive::testing {

enum class Misbehaviour {
  kHonest,
  // A Verdict of 5 MiB (a huge decision_id): above hive-milter's maximum
  // receive size (4 MiB).
  kOversized,
  // action = 99, not a value of the Action enum (proto3 enums are open:
  // it parses).
  kUnknownAction,
  // An empty Verdict: every field missing, action ACTION_UNSPECIFIED.
  kEmptyVerdict,
  // A gRPC reply whose body is not a Verdict (a truncated protobuf field).
  kUndecodable,
  // No gRPC at all: plain bytes where HTTP/2 frames are expected.
  kNotHttp2,
};
const char* MisbehaviourName(Misbehaviour m);

enum class RogueScope { kEveryRpc, kMessageOnly };

class RoguePolicyd {
 public:
  explicit RoguePolicyd(uint16_t port);
  ~RoguePolicyd();
  RoguePolicyd(const RoguePolicyd&) = delete;
  RoguePolicyd& operator=(const RoguePolicyd&) = delete;

  void Set(Misbehaviour m, RogueScope scope = RogueScope::kEveryRpc);
  // gRPC calls answered so far (any misbehaviour), and raw connections
  // answered with garbage.
  int rpcs() const { return rpcs_.load(); }
  int garbage_connections() const { return garbage_connections_.load(); }

 private:
  class Service;
  void StartGrpc();
  void StopGrpc();
  void StartGarbage();
  void StopGarbage();
  void ServeGarbage(int listen_fd);

  const uint16_t port_;
  std::mutex mu_;  // serialises Set()
  std::atomic<Misbehaviour> mode_{Misbehaviour::kHonest};
  std::atomic<RogueScope> scope_{RogueScope::kEveryRpc};
  std::atomic<int> rpcs_{0};
  std::atomic<int> garbage_connections_{0};
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  std::atomic<bool> garbage_stop_{false};
  int garbage_fd_ = -1;
  std::thread garbage_thread_;
};

}  // namespace hive::testing
