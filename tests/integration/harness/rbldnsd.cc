#include "harness/rbldnsd.h"

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "harness/net.h"

namespace hive::testing {
namespace {

// Whether a UDP socket is bound to 127.0.0.1:port (rbldnsd speaks UDP
// only, so there is no listener to connect to).
bool UdpBound(uint16_t port) {
  std::ifstream in("/proc/net/udp");
  char wanted[16];
  std::snprintf(wanted, sizeof wanted, "0100007F:%04X", port);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(wanted) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

Rbldnsd::Rbldnsd(const std::vector<Zone>& zones) : port_(FreePort()) {
  // rbldnsd drops to its own user: the zone files must be readable by it.
  chmod(dir_.path().c_str(), 0755);
  std::vector<std::string> argv{"/usr/sbin/rbldnsd", "-n", "-b", "127.0.0.1/" + std::to_string(port_),
                                "-w", dir_.path(), "-t", "60", "-c", "1h"};
  for (std::size_t i = 0; i < zones.size(); ++i) {
    const std::string file = "zone" + std::to_string(i);
    WriteFile(dir_.Sub(file), zones[i].data);
    chmod(dir_.Sub(file).c_str(), 0644);
    argv.push_back(zones[i].name + ":" + zones[i].type + ":" + file);
  }
  process_ = std::make_unique<Process>(argv, dir_.Sub("rbldnsd.log"));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!UdpBound(port_)) {
    if (std::chrono::steady_clock::now() > deadline || !process_->Running()) {
      throw std::runtime_error("rbldnsd did not start: " + ReadFile(dir_.Sub("rbldnsd.log")));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Rbldnsd::~Rbldnsd() { Stop(); }

void Rbldnsd::Stop() { process_.reset(); }

}  // namespace hive::testing
