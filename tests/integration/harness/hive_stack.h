// The whole path for an end-to-end test, each part a real process on
// loopback: hive-policyd (with the given YAML policy), hive-milter, an MTA
// wired to the milter, and a sink behind the MTA. Parts can be stopped,
// killed and restarted to inject faults. Everything is stopped by PID and the
// directory removed when the stack dies. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "harness/mta.h"
#include "harness/process.h"
#include "harness/sink.h"
#include "harness/temp_dir.h"

namespace hive::testing {

struct StackOptions {
  std::string mta = "postfix";
  // hive-policyd's config; the harness chooses the listen address.
  std::string policy_yaml;
  // hive-milter's config file body (YAML), extra to listen/policy target.
  std::string milter_yaml;
  std::vector<std::string> milter_flags;
  // Fixed loopback ports (the demo); 0 picks a free one (tests).
  uint16_t smtp_port = 0;
  uint16_t policy_port = 0;
  uint16_t milter_port = 0;
  uint16_t sink_port = 0;
};

class HiveStack {
 public:
  explicit HiveStack(StackOptions options);
  ~HiveStack();

  void StartPolicyd();
  void StopPolicyd();
  void StartMilter();
  void StopMilter();

  Mta& mta() { return *mta_; }
  const Sink& sink() const { return *sink_; }
  uint16_t smtp_port() const { return mta_->smtp_port(); }
  uint16_t policy_port() const { return policy_port_; }
  const TempDir& dir() const { return dir_; }
  // Every log of the stack, for a failing assertion's message.
  std::string Diagnostics() const;

 private:
  StackOptions options_;
  TempDir dir_;
  uint16_t policy_port_;
  uint16_t milter_port_;
  std::unique_ptr<Sink> sink_;
  std::unique_ptr<Process> policyd_;
  std::unique_ptr<Process> milter_;
  std::unique_ptr<Mta> mta_;
};

// The MTAs every end-to-end scenario runs on.
std::vector<std::string> AllMtas();

}  // namespace hive::testing
