// An MTA under test: listens for SMTP on 127.0.0.1, consults one milter, and
// relays every accepted message to a sink. Integration tests are written
// against this interface so each scenario runs on every MTA we support.
// Not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace hive::testing {

class Mta {
 public:
  virtual ~Mta() = default;
  virtual std::string name() const = 0;
  virtual uint16_t smtp_port() const = 0;
  // The MTA's own log so far.
  virtual std::string Log() const = 0;
  // Messages the MTA holds in its queue (any state, hold included).
  virtual int QueuedMessages() const = 0;
  // Messages in the hold (quarantine) queue.
  virtual int HeldMessages() const = 0;
  // Waits (bounded) until the queue is empty: everything accepted was delivered.
  bool WaitForEmptyQueue(std::chrono::milliseconds timeout) const;
};

}  // namespace hive::testing
