// A private Postfix instance in a test directory: smtpd on a free loopback
// port (127.0.0.1 or [::1]), the milter under test, relaying to a sink, no chroot, no DNS, its log
// in a file (maillog_file). Needs root. Stopped by its master PID.
// Not thread-safe.
#pragma once

#include <string>

#include "harness/mta.h"

namespace hive::testing {

struct PostfixOptions {
  std::string milter;  // Postfix syntax: inet:127.0.0.1:PORT or unix:/path
  uint16_t sink_port = 0;
  uint16_t smtp_port = 0;  // 0: a free port
  // milter_failure -> milter_default_action ("" = accept: fail open;
  // "shutdown" needs Postfix 3.11); ipv6 -> smtpd on [::1]; TLS ->
  // smtpd_tls_*; sasl_db -> Cyrus SASL (auxprop sasldb, PLAIN) through a
  // smtpd.conf in the instance's etc/sasl.
  MtaFeatures features;
  // Appended to main.cf as is (benchmarks: process limits, e.g. max_use;
  // pools: what hive-postfix-config generated).
  std::string extra_main_cf;
  // Appended to master.cf as is (pools: a transport per pool member).
  std::string extra_master_cf;
};

class Postfix : public Mta {
 public:
  Postfix(const std::string& dir, const PostfixOptions& options);
  ~Postfix() override;

  std::string name() const override { return "postfix"; }
  uint16_t smtp_port() const override { return port_; }
  std::string Log() const override;
  int QueuedMessages() const override;
  int HeldMessages() const override;

 private:
  int CountFiles(const std::string& queue) const;

  std::string dir_;
  uint16_t port_;
  bool ipv6_ = false;
  int master_pid_ = -1;
};

}  // namespace hive::testing
