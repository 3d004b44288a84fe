#include "harness/hive_stack.h"

#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "harness/net.h"
#include "harness/postfix.h"
#include "harness/sendmail.h"

namespace hive::testing {
namespace {

uint16_t PortOrFree(uint16_t port) { return port != 0 ? port : FreePort(); }

}  // namespace

std::unique_ptr<Mta> MakeMta(const std::string& name, const std::string& dir, uint16_t milter_port,
                             uint16_t sink_port, uint16_t smtp_port, const MtaFeatures& features,
                             const MtaExtraConfig& extra) {
  const bool postfix_extra = !extra.postfix_main_cf.empty() || !extra.postfix_master_cf.empty();
  const bool sendmail_extra = !extra.sendmail_mc.empty() || !extra.sendmail_hosts.empty();
  if ((name == "postfix" && sendmail_extra) || (name != "postfix" && postfix_extra)) {
    throw std::runtime_error("another MTA's configuration given for MTA " + name);
  }
  if (name == "postfix") {
    return std::make_unique<Postfix>(dir, PostfixOptions{.milter = extra.milter_socket.empty()
                                                                    ? "inet:127.0.0.1:" + std::to_string(milter_port)
                                                                    : "unix:" + extra.milter_socket,
                                                         .sink_port = sink_port,
                                                         .smtp_port = smtp_port,
                                                         .features = features,
                                                         .extra_main_cf = extra.postfix_main_cf,
                                                         .extra_master_cf = extra.postfix_master_cf});
  }
  if (name == "sendmail") {
    // Sendmail's socket syntax: inet:PORT@HOST.
    return std::make_unique<Sendmail>(
        dir, SendmailOptions{.milter = extra.milter_socket.empty() ? "inet:" + std::to_string(milter_port) + "@127.0.0.1"
                                                                   : "local:" + extra.milter_socket,
                             .sink_port = sink_port,
                             .smtp_port = smtp_port,
                             .features = features,
                             .extra_mc = extra.sendmail_mc,
                             .extra_hosts = extra.sendmail_hosts});
  }
  throw std::runtime_error("unknown MTA " + name);
}

std::vector<std::string> AllMtas() { return {"postfix", "sendmail"}; }

HiveStack::HiveStack(StackOptions options)
    : options_(std::move(options)),
      policy_port_(PortOrFree(options_.policy_port)),
      milter_port_(PortOrFree(options_.milter_port)) {
  WriteFile(dir_.Sub("policyd.yaml"), options_.policy_yaml);
  WriteFile(dir_.Sub("milter.yaml"), options_.milter_yaml);
  sink_ = std::make_unique<Sink>(dir_.Sub("sink"), dir_.Sub("sink.log"), options_.sink_port);
  if (options_.start_policyd) StartPolicyd();
  StartMilter();
  mta_ = MakeMta(options_.mta, dir_.Sub(options_.mta), milter_port_, sink_->port(), options_.smtp_port,
                 options_.mta_features,
                 MtaExtraConfig{.milter_socket = options_.milter_unix ? dir_.Sub("milter.sock") : "",
                                .postfix_main_cf = options_.postfix_main_cf,
                                .postfix_master_cf = options_.postfix_master_cf,
                                .sendmail_mc = options_.sendmail_mc,
                                .sendmail_hosts = options_.sendmail_hosts});
}

HiveStack::~HiveStack() {
  ResumePolicyd();  // a stopped process would ignore SIGTERM until SIGKILL
  mta_.reset();
  milter_.reset();
  policyd_.reset();
}

void HiveStack::StartPolicyd() {
  std::vector<std::string> argv{HIVE_POLICYD_BIN, "--config", dir_.Sub("policyd.yaml"), "--listen",
                                "127.0.0.1:" + std::to_string(policy_port_)};
  if (!options_.policyd_env.empty()) {
    // env(1) execs the daemon: the PID stays the daemon's.
    std::vector<std::string> env{"/usr/bin/env"};
    env.insert(env.end(), options_.policyd_env.begin(), options_.policyd_env.end());
    argv.insert(argv.begin(), env.begin(), env.end());
  }
  policyd_ = std::make_unique<Process>(argv, dir_.Sub("policyd.log"));
  if (!WaitForListener(policy_port_, std::chrono::seconds(15))) {
    throw std::runtime_error("hive-policyd did not start: " + ReadFile(dir_.Sub("policyd.log")));
  }
}

void HiveStack::StopPolicyd() {
  ResumePolicyd();
  policyd_.reset();
}

void HiveStack::PausePolicyd() {
  if (policyd_) policyd_->Pause();
}

void HiveStack::ResumePolicyd() {
  if (policyd_) policyd_->Resume();
}

void HiveStack::StartMilter() {
  const std::string socket = dir_.Sub("milter.sock");
  std::vector<std::string> argv{HIVE_MILTER_BIN,
                                "--config",
                                dir_.Sub("milter.yaml"),
                                "--listen",
                                options_.milter_unix ? "unix:" + socket
                                                     : "inet:" + std::to_string(milter_port_) + "@127.0.0.1",
                                "--policy",
                                "127.0.0.1:" + std::to_string(policy_port_)};
  argv.insert(argv.end(), options_.milter_flags.begin(), options_.milter_flags.end());
  // A restarted milter's socket must be its own, not the last one's file.
  if (options_.milter_unix) std::filesystem::remove(socket);
  milter_ = std::make_unique<Process>(argv, dir_.Sub("milter.log"));
  if (!options_.milter_unix) {
    if (!WaitForListener(milter_port_, std::chrono::seconds(15))) {
      throw std::runtime_error("hive-milter did not start: " + ReadFile(dir_.Sub("milter.log")));
    }
    return;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (!std::filesystem::exists(socket)) {
    if (std::chrono::steady_clock::now() > deadline || !milter_->Running()) {
      throw std::runtime_error("hive-milter did not start: " + ReadFile(dir_.Sub("milter.log")));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Postfix's smtpd runs unprivileged; the milter runs as root (umask 022).
  chmod(socket.c_str(), 0666);
}

void HiveStack::StopMilter() { milter_.reset(); }

bool HiveStack::DaemonsRunning() {
  const bool policyd = !options_.start_policyd || (policyd_ && policyd_->Running());
  return policyd && milter_ && milter_->Running();
}

std::string HiveStack::Diagnostics() const {
  std::string out;
  for (const char* log : {"policyd.log", "milter.log", "sink.log"}) {
    out += "\n===== " + std::string(log) + "\n" + ReadFile(dir_.Sub(log));
  }
  out += "\n===== " + mta_->name() + " log\n" + mta_->Log();
  return out;
}

}  // namespace hive::testing
