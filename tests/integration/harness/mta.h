// An MTA under test: listens for SMTP on 127.0.0.1 (or ::1), consults one
// milter, and relays every accepted message to a sink. Integration tests are
// written against this interface so each scenario runs on every MTA we
// support; MtaFeatures names the optional features a scenario needs, and each
// MTA maps them to its own configuration.
// Not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace hive::testing {

// The name every test MTA gives itself ($j / myhostname); also the SASL realm.
inline constexpr char kMtaHostName[] = "mta.test.invalid";

struct MtaFeatures {
  // What the MTA answers while the milter is unreachable: "tempfail"
  // (Sendmail F=T, Postfix default_action), "reject" (F=R), "shutdown" (F=4:
  // 421 and close; Postfix has it from 3.11 only), "" (Sendmail: no flag,
  // fail open).
  std::string milter_failure = "tempfail";
  // Listen on [::1] instead of 127.0.0.1.
  bool ipv6 = false;
  // PEM certificate and key: offer STARTTLS.
  std::string tls_cert;
  std::string tls_key;
  // A Cyrus sasldb2 file (realm kMtaHostName): offer AUTH PLAIN against it.
  std::string sasl_db;
  // Sendmail: no confMILTER_MACROS_* at all, Sendmail's own default macro
  // sets (Postfix's test configuration never lists macros).
  bool default_macros = false;
};

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
