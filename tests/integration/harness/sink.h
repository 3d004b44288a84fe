// The next hop that captures delivered mail: Postfix's smtp-sink on
// 127.0.0.1 (or another local address), writing one file per message into
// a directory.
// Not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "harness/process.h"

namespace hive::testing {

class Sink {
 public:
  // Listens on `port` (0: a free one); files go under dir (created, owned by nobody).
  // extra_args: more smtp-sink options, e.g. {"-r", "RCPT", "-b", "421 4.7.0 ..."}
  // (every RCPT deferred with that reply: a destination that throttles).
  // `host`: the address to listen on (an IPv6 one without brackets).
  Sink(const std::string& dir, const std::string& log_path, uint16_t port = 0,
       const std::vector<std::string>& extra_args = {}, const std::string& host = "127.0.0.1");

  uint16_t port() const { return port_; }
  // Every message received so far, as smtp-sink wrote it (envelope lines,
  // then the message as the MTA delivered it), oldest first.
  std::vector<std::string> Messages() const;
  // Waits until a received message contains `needle`; returns it, or "" on timeout.
  std::string WaitForMessageContaining(const std::string& needle, std::chrono::milliseconds timeout) const;

 private:
  std::string dir_;
  uint16_t port_;
  std::unique_ptr<Process> process_;
};

}  // namespace hive::testing
