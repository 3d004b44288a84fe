// Debian's rbldnsd serving test zones on a free loopback UDP port: the DNS
// lists hive-policyd asks in the tests are served the way production
// DNSBL / URIBL mirrors serve them. One process per object; it stops (by
// PID) when the object dies. Stop() plays a list server that went away.
//
//   Rbldnsd dns({{"dbl.test", "dnset", "listed.example :127.0.1.2:listed\n"}});
//   content.dns_lists.servers: [dns.address()]   // "127.0.0.1:<port>"
// Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "harness/process.h"
#include "harness/temp_dir.h"

namespace hive::testing {

class Rbldnsd {
 public:
  struct Zone {
    std::string name;  // "dbl.test"
    std::string type;  // an rbldnsd dataset type: dnset, ip4set, ...
    std::string data;  // the dataset file's text
  };
  // Throws std::runtime_error, with rbldnsd's output, when it does not
  // start serving.
  explicit Rbldnsd(const std::vector<Zone>& zones);
  ~Rbldnsd();

  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  void Stop();

 private:
  TempDir dir_;
  uint16_t port_;
  std::unique_ptr<Process> process_;
};

}  // namespace hive::testing
