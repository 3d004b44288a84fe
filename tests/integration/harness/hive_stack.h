// The whole path for an end-to-end test, each part a real process on
// loopback: hive-policyd (with the given YAML policy), hive-milter, an MTA
// wired to the milter, and a sink behind the MTA. Parts can be stopped,
// killed and restarted to inject faults. Everything is stopped by PID and the
// directory removed when the stack dies. Logs: policyd.log, milter.log in
// dir(). Not thread-safe.
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
  // The milter on a UNIX socket in the stack's directory instead of a
  // loopback port (hive-milter negotiates fewer steps there).
  bool milter_unix = false;
  // Optional MTA features (STARTTLS, AUTH, IPv6, failure flags, macro sets).
  MtaFeatures mta_features;
  // Postfix only (another MTA refuses them): appended to main.cf and
  // master.cf as is, e.g. what hive-postfix-config generated for pools.
  std::string postfix_main_cf;
  std::string postfix_master_cf;
  // Sendmail only: .mc text before the MAILER() lines (e.g.
  // hive-sendmail-config's hive-pools.m4) and lines for its /etc/hosts
  // (names of pool member addresses).
  std::string sendmail_mc;
  std::string sendmail_hosts;
  // Fixed loopback ports (the demo); 0 picks a free one (tests).
  uint16_t smtp_port = 0;
  uint16_t policy_port = 0;
  uint16_t milter_port = 0;
  uint16_t sink_port = 0;
  // false: no hive-policyd; the milter asks whatever listens on policy_port
  // (a test's own stand-in, tests/integration/fault/rogue_policyd.h).
  bool start_policyd = true;
  // Extra environment of hive-policyd ("NAME=value"), e.g. libfaketime's.
  std::vector<std::string> policyd_env;
};

class HiveStack {
 public:
  explicit HiveStack(StackOptions options);
  ~HiveStack();

  void StartPolicyd();
  void StopPolicyd();
  void StartMilter();
  void StopMilter();
  // SIGSTOP / SIGCONT to hive-policyd by PID: a service that accepts
  // connections but never answers. The destructor resumes it.
  void PausePolicyd();
  void ResumePolicyd();

  // The daemons' PIDs (-1 when stopped) and whether both still run (a
  // crash is reaped here, so a zombie does not count as running). Without
  // start_policyd: whether the milter runs.
  pid_t policyd_pid() const { return policyd_ ? policyd_->pid() : -1; }
  pid_t milter_pid() const { return milter_ ? milter_->pid() : -1; }
  bool DaemonsRunning();

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

// Configuration one MTA takes as is (fields as in StackOptions); another MTA
// refuses it, so a pools test cannot pass on the wrong MTA.
struct MtaExtraConfig {
  // The milter's UNIX socket; "" = 127.0.0.1:milter_port.
  std::string milter_socket;
  std::string postfix_main_cf;
  std::string postfix_master_cf;
  std::string sendmail_mc;
  std::string sendmail_hosts;
};

// One MTA by name ("postfix", "sendmail") in `dir`, using the milter on
// 127.0.0.1:milter_port (nothing need listen there: failure-flag tests) and
// relaying to sink_port; smtp_port 0 picks a free one.
std::unique_ptr<Mta> MakeMta(const std::string& name, const std::string& dir, uint16_t milter_port,
                             uint16_t sink_port, uint16_t smtp_port, const MtaFeatures& features,
                             const MtaExtraConfig& extra = {});

}  // namespace hive::testing
