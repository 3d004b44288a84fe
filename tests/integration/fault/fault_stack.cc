#include "fault/fault_stack.h"

#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "harness/net.h"
#include "harness/hive_stack.h"

namespace hive::testing {
namespace {

std::string Tail(const std::string& text, std::size_t bytes = 6000) {
  return text.size() <= bytes ? text : "...\n" + text.substr(text.size() - bytes);
}

}  // namespace

FaultStack::FaultStack(FaultStackOptions options)
    : options_(std::move(options)), policy_port_(FreePort()), milter_port_(FreePort()) {
  if (options_.with_redis) {
    redis_port_ = FreePort();
    StartRedis();
  }
  WriteFile(dir_.Sub("policyd.yaml"), PolicyYaml(options_.policy_yaml));
  WriteFile(dir_.Sub("milter.yaml"), options_.milter_yaml);
  sink_ = std::make_unique<Sink>(dir_.Sub("sink"), dir_.Sub("sink.log"));
  StartPolicyd();
  StartMilter();
  mta_ = MakeMta(options_.mta, dir_.Sub(options_.mta), milter_port_, sink_->port(), 0, MtaFeatures{});
}

FaultStack::~FaultStack() {
  // A stopped process would ignore SIGTERM until the SIGKILL grace ends.
  ResumePolicyd();
  ResumeRedis();
  mta_.reset();
  milter_.reset();
  policyd_.reset();
  redis_.reset();
}

std::string FaultStack::PolicyYaml(const std::string& yaml) const {
  std::string out = yaml;
  const std::string address = "127.0.0.1:" + std::to_string(redis_port_);
  for (std::size_t at = out.find("{redis}"); at != std::string::npos; at = out.find("{redis}", at)) {
    out.replace(at, 7, address);
  }
  return out;
}

void FaultStack::StartPolicyd() {
  policyd_ = std::make_unique<Process>(
      std::vector<std::string>{HIVE_POLICYD_BIN, "--config", dir_.Sub("policyd.yaml"), "--listen",
                               "127.0.0.1:" + std::to_string(policy_port_)},
      dir_.Sub("policyd.log"));
  if (!WaitForListener(policy_port_, std::chrono::seconds(15))) {
    throw std::runtime_error("hive-policyd did not start: " + PolicydLog());
  }
}

void FaultStack::KillPolicyd() {
  ResumePolicyd();
  if (policyd_) policyd_->Kill();
}

void FaultStack::PausePolicyd() {
  if (policyd_) policyd_->Pause();
}

void FaultStack::ResumePolicyd() {
  if (policyd_) policyd_->Resume();
}

void FaultStack::ReloadPolicyd(const std::string& yaml) {
  // rename() is atomic: the daemon never reads a half-written file.
  const std::string next = dir_.Sub("policyd.yaml.next");
  WriteFile(next, PolicyYaml(yaml));
  std::filesystem::rename(next, dir_.Sub("policyd.yaml"));
  if (policyd_) kill(policyd_->pid(), SIGHUP);
}

void FaultStack::StartMilter() {
  milter_ = std::make_unique<Process>(
      std::vector<std::string>{HIVE_MILTER_BIN, "--config", dir_.Sub("milter.yaml"), "--listen",
                               "inet:" + std::to_string(milter_port_) + "@127.0.0.1", "--policy",
                               "127.0.0.1:" + std::to_string(policy_port_)},
      dir_.Sub("milter.log"));
  if (!WaitForListener(milter_port_, std::chrono::seconds(15))) {
    throw std::runtime_error("hive-milter did not start: " + MilterLog());
  }
}

void FaultStack::KillMilter() {
  if (milter_) milter_->Kill();
}

void FaultStack::StartRedis() {
  redis_ = std::make_unique<Process>(
      std::vector<std::string>{"/usr/bin/redis-server", "--port", std::to_string(redis_port_), "--bind",
                               "127.0.0.1", "--dir", dir_.path(), "--save", "", "--appendonly", "no",
                               "--protected-mode", "no", "--daemonize", "no"},
      dir_.Sub("redis.log"));
  if (!WaitForListener(redis_port_, std::chrono::seconds(10))) {
    throw std::runtime_error("redis-server did not start: " + ReadFile(dir_.Sub("redis.log")));
  }
}

void FaultStack::KillRedis() {
  ResumeRedis();
  if (redis_) redis_->Kill();
}

void FaultStack::PauseRedis() {
  if (redis_) redis_->Pause();
}

void FaultStack::ResumeRedis() {
  if (redis_) redis_->Resume();
}

std::string FaultStack::RedisCli(const std::string& args) const {
  const std::string cmd = "/usr/bin/redis-cli -h 127.0.0.1 -p " + std::to_string(redis_port_) + " " + args + " 2>&1";
  std::string out;
  if (FILE* pipe = popen(cmd.c_str(), "r")) {
    char buf[512];
    while (std::fgets(buf, sizeof buf, pipe) != nullptr) out += buf;
    pclose(pipe);
  }
  return out;
}

std::string FaultStack::PolicydLog() const { return ReadFile(dir_.Sub("policyd.log")); }
std::string FaultStack::MilterLog() const { return ReadFile(dir_.Sub("milter.log")); }

std::string FaultStack::Diagnostics() const {
  std::string out;
  for (const char* log : {"policyd.log", "milter.log", "sink.log", "redis.log"}) {
    out += "\n===== " + std::string(log) + "\n" + Tail(ReadFile(dir_.Sub(log)));
  }
  if (mta_) out += "\n===== " + mta_->name() + " log\n" + Tail(mta_->Log());
  return out;
}

}  // namespace hive::testing
