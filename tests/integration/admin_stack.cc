#include "admin_stack.h"

#include <sys/wait.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "harness/net.h"

namespace hive::testing {

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string VersionAfter(const std::string& text, const std::string& marker) {
  const std::size_t at = text.find(marker);
  return at == std::string::npos ? "" : text.substr(at + marker.size(), 16);
}

bool WaitForText(const std::string& path, const std::string& needle, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (Slurp(path).find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Slurp(path).find(needle) != std::string::npos;
}

AdminStack::AdminStack(const std::string& policy_yaml, std::vector<std::string> milter_flags) {
  stack_ = std::make_unique<HiveStack>(
      StackOptions{.mta = "postfix", .policy_yaml = policy_yaml, .milter_flags = std::move(milter_flags)});
  // The same policyd, on the same port, now with the admin API.
  stack_->StopPolicyd();
  admin_port_ = FreePort();
  policyd_ = std::make_unique<Process>(
      std::vector<std::string>{HIVE_POLICYD_BIN, "--config", stack_->dir().Sub("policyd.yaml"), "--listen",
                               "127.0.0.1:" + std::to_string(stack_->policy_port()), "--admin-listen",
                               "127.0.0.1:" + std::to_string(admin_port_)},
      stack_->dir().Sub("policyd-admin.log"));
  ok_ = WaitForListener(admin_port_, kAdminWait) && WaitForListener(stack_->policy_port(), kAdminWait);
}

std::vector<std::string> AdminStack::CtlArgv(const std::string& server, std::vector<std::string> args) const {
  args.insert(args.begin(), {HIVECTL_BIN, "--server", server});
  return args;
}

CtlResult AdminStack::Ctl(std::vector<std::string> args) {
  return CtlAt("127.0.0.1:" + std::to_string(admin_port_), std::move(args));
}

CtlResult AdminStack::CtlAt(const std::string& server, std::vector<std::string> args) {
  const std::string log = stack_->dir().Sub("hivectl-" + std::to_string(++runs_) + ".log");
  Process p(CtlArgv(server, std::move(args)), log);
  CtlResult r;
  if (p.WaitExit(kAdminWait) && WIFEXITED(p.ExitStatus())) r.code = WEXITSTATUS(p.ExitStatus());
  r.output = Slurp(log);
  return r;
}

std::unique_ptr<Process> AdminStack::CtlInBackground(std::vector<std::string> args) {
  const std::string log = stack_->dir().Sub("hivectl-" + std::to_string(++runs_) + ".log");
  return std::make_unique<Process>(CtlArgv("127.0.0.1:" + std::to_string(admin_port_), std::move(args)), log);
}

std::string AdminStack::WriteTemp(const std::string& name, const std::string& text) {
  const std::string path = stack_->dir().Sub(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

Transaction AdminStack::Send(const std::string& from, const std::string& subject, const std::string& body) {
  return SendRaw(from, MakeMessage(from, "bob@dest.example", subject, body));
}

Transaction AdminStack::SendRaw(const std::string& from, const std::string& message) {
  return SendMail(stack_->smtp_port(), from, {"bob@dest.example"}, message);
}

}  // namespace hive::testing
