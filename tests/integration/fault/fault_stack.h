// A hive stack for fault injection (issue 8): hive-policyd, hive-milter,
// an MTA (Postfix with milter_default_action = tempfail, as deploy/postfix,
// or Sendmail with F=T) and a sink,
// optionally a private redis-server, each a real process on loopback that a
// test can kill (SIGKILL), pause (SIGSTOP), resume (SIGCONT), reload (SIGHUP)
// or restart on the same port. Signals go to the PIDs this object started,
// never to a process found by name. Paused processes are resumed before
// they are stopped. Logs: policyd.log, milter.log, redis.log in the dir.
//
// Kept apart from HiveStack so that the fault suite can reach every PID
// without widening the shared harness.
// Not thread-safe: drive it from the test's main thread (traffic threads
// only read smtp_port() and sink()).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "harness/mta.h"
#include "harness/process.h"
#include "harness/sink.h"
#include "harness/temp_dir.h"

namespace hive::testing {

struct FaultStackOptions {
  // hive-policyd's YAML; "{redis}" is replaced by the redis address.
  std::string policy_yaml;
  // hive-milter's YAML (listen and policy target come from flags).
  std::string milter_yaml;
  bool with_redis = false;
  // "postfix" or "sendmail" (harness/hive_stack.h, AllMtas()).
  std::string mta = "postfix";
};

class FaultStack {
 public:
  explicit FaultStack(FaultStackOptions options);
  ~FaultStack();
  FaultStack(const FaultStack&) = delete;
  FaultStack& operator=(const FaultStack&) = delete;

  void StartPolicyd();
  void KillPolicyd();
  void PausePolicyd();
  void ResumePolicyd();
  // Replaces the config file atomically (write, rename), then SIGHUP.
  void ReloadPolicyd(const std::string& yaml);

  void StartMilter();
  void KillMilter();

  void StartRedis();
  void KillRedis();
  void PauseRedis();
  void ResumeRedis();
  // redis-cli against our redis-server; its output.
  std::string RedisCli(const std::string& args) const;

  uint16_t smtp_port() const { return mta_->smtp_port(); }
  const Sink& sink() const { return *sink_; }
  Mta& mta() { return *mta_; }
  std::string PolicydLog() const;
  std::string MilterLog() const;
  // Every log, for a failing assertion's message (tails only: they are long).
  std::string Diagnostics() const;

 private:
  std::string PolicyYaml(const std::string& yaml) const;

  FaultStackOptions options_;
  TempDir dir_;
  uint16_t policy_port_;
  uint16_t milter_port_;
  uint16_t redis_port_ = 0;
  std::unique_ptr<Sink> sink_;
  std::unique_ptr<Process> redis_;
  std::unique_ptr<Process> policyd_;
  std::unique_ptr<Process> milter_;
  std::unique_ptr<Mta> mta_;
};

}  // namespace hive::testing
