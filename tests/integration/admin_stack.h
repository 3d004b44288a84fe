// A real hive-policyd with its admin API (--admin-listen on loopback) behind
// a real Postfix (HiveStack), and the real hivectl binary run as an
// operator runs it: what the admin integration tests drive.
//
// Not thread-safe (one test's stack).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "harness/hive_stack.h"
#include "harness/process.h"
#include "harness/smtp_client.h"

namespace hive::testing {

// Generous: under CI's parallel ASan load a start or a call can take long;
// every wait is still bounded.
inline constexpr auto kAdminWait = std::chrono::seconds(45);

// The admin tests' starting policy: one limit for shop.example, one pool.
inline constexpr char kAdminPolicy[] = R"(limits:
  - name: per-sender
    match: {sender_domain: [shop.example]}
    key: "{sender}"
    cost: messages
    windows:
      - {limit: 100, period: 1h}
routing:
  pools:
    - {name: transactional}
  default_pool: transactional
)";

struct CtlResult {
  int code = -1;       // the exit code; -1: did not exit within kAdminWait
  std::string output;  // stdout and stderr
};

std::string Slurp(const std::string& path);

// A version as hivectl prints it: the 16 hex digits after `marker`
// ("applied: version "), or "".
std::string VersionAfter(const std::string& text, const std::string& marker);

// True once `path` contains `needle`, polling up to `timeout`.
bool WaitForText(const std::string& path, const std::string& needle, std::chrono::milliseconds timeout);

class AdminStack {
 public:
  // Postfix + milter + hive-policyd with `policy_yaml` and the admin API;
  // `milter_flags` extra to hive-milter's (e.g. --policy of another replica).
  explicit AdminStack(const std::string& policy_yaml, std::vector<std::string> milter_flags = {});

  // hivectl --server <admin> args..., waited for (kAdminWait).
  CtlResult Ctl(std::vector<std::string> args);
  // The same against another admin address (another replica).
  CtlResult CtlAt(const std::string& server, std::vector<std::string> args);
  // The same, left running (tail); output to the returned process's log.
  std::unique_ptr<Process> CtlInBackground(std::vector<std::string> args);

  std::string WriteTemp(const std::string& name, const std::string& text);
  // One message from `from` to bob@dest.example through Postfix.
  Transaction Send(const std::string& from, const std::string& subject, const std::string& body = "hello");
  Transaction SendRaw(const std::string& from, const std::string& message);

  std::string PolicydLog() const { return Slurp(policyd_->log_path()); }
  const std::string& PolicydLogPath() const { return policyd_->log_path(); }
  pid_t policyd_pid() const { return policyd_->pid(); }
  std::string Diagnostics() const { return stack_->Diagnostics() + PolicydLog(); }
  HiveStack& stack() { return *stack_; }
  bool ok() const { return ok_; }

 private:
  std::vector<std::string> CtlArgv(const std::string& server, std::vector<std::string> args) const;

  std::unique_ptr<HiveStack> stack_;
  std::unique_ptr<Process> policyd_;
  uint16_t admin_port_ = 0;
  int runs_ = 0;
  bool ok_ = false;
};

}  // namespace hive::testing
