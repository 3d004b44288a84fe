// A private Sendmail 8.17 instance in a test directory: the daemon on a free
// loopback port, the milter under test (F=T: tempfail when it is down),
// every message relayed to a sink, no DNS, its log in a file. Needs root.
//
// The binary comes from Debian's packages unpacked (never installed: they
// conflict with Postfix) into a prefix by
// tests/integration/sendmail/prepare-sendmail.sh; ctest runs that once as the
// `sendmail` fixture. The prefix is $HIVE_SENDMAIL_PREFIX, else the one CMake
// configured (HIVE_SENDMAIL_PREFIX, default /var/cache/hive-test/sendmail).
//
// Each instance writes <dir>/sendmail.mc, builds <dir>/sendmail.cf with m4 and
// starts `sendmail -bd` in the foreground (-d99.100) so the harness holds its
// own PID; it runs in a private mount namespace whose /etc/hosts names the
// test host name and whose resolver is 127.0.0.1 (and, with SASL, whose
// /usr/lib/sasl2 holds the instance's Sendmail.conf), so neither the host-name
// check at start-up (a 60 s sleep for an unqualified name) nor any lookup
// leaves loopback. An LD_PRELOAD shim writes its syslog lines to
// <dir>/maillog. Stopped by PID: the daemon, then any child of this instance
// (same binary, cwd in this instance's queue), SIGTERM then SIGKILL.
//
// Usage:
//   Sendmail mta(dir, {.milter = "inet:7001@127.0.0.1", .sink_port = 7002});
//   SendMail(mta.smtp_port(), ...);  mta.Log();  mta.QueuedMessages();
//
// Not thread-safe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "harness/mta.h"
#include "harness/process.h"

namespace hive::testing {

struct SendmailOptions {
  std::string milter;  // Sendmail syntax: inet:PORT@127.0.0.1 or local:/path
  uint16_t sink_port = 0;
  uint16_t smtp_port = 0;  // 0: a free port
  std::string prefix;      // "": SendmailPrefix()
  // milter_failure -> F=T/R/4; ipv6 -> Family=inet6 on ::1; TLS -> confSERVER_CERT/KEY;
  // sasl_db -> AUTH PLAIN via a Sendmail.conf bind-mounted on /usr/lib/sasl2
  // (Sendmail reads it only from fixed system directories).
  MtaFeatures features;
  // .mc text inserted before the MAILER() lines, and lines appended to the
  // instance's /etc/hosts (e.g. names of source addresses for HELO).
  std::string extra_mc;
  std::string extra_hosts;
};

// Where prepare-sendmail.sh left Sendmail: $HIVE_SENDMAIL_PREFIX, else the
// build's default.
std::string SendmailPrefix();

class Sendmail : public Mta {
 public:
  Sendmail(const std::string& dir, const SendmailOptions& options);
  ~Sendmail() override;
  Sendmail(const Sendmail&) = delete;
  Sendmail& operator=(const Sendmail&) = delete;

  std::string name() const override { return "sendmail"; }
  uint16_t smtp_port() const override { return port_; }
  std::string Log() const override;
  int QueuedMessages() const override;
  int HeldMessages() const override;

  pid_t pid() const { return daemon_ ? daemon_->pid() : -1; }

 private:
  void Stop();
  // PIDs of this instance's processes other than the daemon (its children,
  // also once re-parented): the binary, with the queue as working directory.
  std::vector<pid_t> InstanceChildren() const;
  int CountQueueFiles(const std::string& prefix) const;

  std::string dir_;
  std::string prefix_;
  std::string binary_;
  uint16_t port_;
  bool ipv6_ = false;
  std::unique_ptr<Process> daemon_;
};

}  // namespace hive::testing
