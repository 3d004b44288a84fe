// A private redis-server for a test: started on a free loopback port with
// its working directory in a TempDir, no persistence, stopped by PID when
// the object dies. Stop()/Start() simulate an outage on the same port.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "harness/process.h"
#include "harness/temp_dir.h"

namespace hive::testing {

class RedisServer {
 public:
  RedisServer();
  ~RedisServer();

  void Start();
  void Stop();
  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string Log() const;

 private:
  TempDir dir_;
  uint16_t port_;
  std::unique_ptr<Process> process_;
};

}  // namespace hive::testing
