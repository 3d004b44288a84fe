#include "harness/redis_server.h"

#include <stdexcept>

#include "harness/net.h"

namespace hive::testing {

RedisServer::RedisServer() : port_(FreePort()) { Start(); }

RedisServer::~RedisServer() { Stop(); }

void RedisServer::Start() {
  process_ = std::make_unique<Process>(
      std::vector<std::string>{"/usr/bin/redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1",
                               "--dir", dir_.path(), "--save", "", "--appendonly", "no", "--protected-mode", "no",
                               "--daemonize", "no"},
      dir_.Sub("redis.log"));
  if (!WaitForListener(port_, std::chrono::seconds(10))) {
    throw std::runtime_error("redis-server did not start: " + Log());
  }
}

void RedisServer::Stop() { process_.reset(); }

std::string RedisServer::Log() const { return ReadFile(dir_.Sub("redis.log")); }

}  // namespace hive::testing
